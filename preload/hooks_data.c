/* hooks_data.c - the data calls, interposed only for what they do to
 * endpoints: a first send on an unbound datagram socket binds it (the
 * kernel picks the port), and recvmsg can carry sockets (SCM_RIGHTS). The
 * common case costs one hash lookup. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "hooks.h"
#include "tracer.h"

/* After a successful send: resolve an implicit bind, once. */
static void sent(int call, int fd)
{
    if (!st_unbound(fd) || !st_enter())
        return;
    struct st_sock *s = st_find(fd);
    if (s && !(s->flags & ST_SF_LOCAL_DONE) &&
        (s->family == AF_INET || s->family == AF_INET6)) {
        st_edit(s);
        st_ask_local(s, fd);
        s->flags |= ST_SF_LOCAL_DONE | ST_SF_PORT_CHOSEN;
        if (s->state == ST_STATE_CREATED)
            s->state = ST_STATE_BOUND;
        st_done(s);
        st_emit(call, fd, -1, 0, 0, s);
    }
    if (!s || (s->flags & ST_SF_LOCAL_DONE))
        st_unbound_set(fd, false);
    st_leave();
}

ST_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags,
                         const struct sockaddr *sa, socklen_t len)
{
    if (!NEED(sendto))
        return syscall(SYS_sendto, fd, buf, n, flags, sa, len);
    ssize_t ret = st_real.sendto(fd, buf, n, flags, sa, len);
    int err = errno;
    if (ret >= 0)
        sent(ST_CALL_SENDTO, fd);
    errno = err;
    return ret;
}

ST_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    if (!NEED(sendmsg))
        return syscall(SYS_sendmsg, fd, msg, flags);
    ssize_t ret = st_real.sendmsg(fd, msg, flags);
    int err = errno;
    if (ret >= 0)
        sent(ST_CALL_SENDMSG, fd);
    errno = err;
    return ret;
}

ST_EXPORT int sendmmsg(int fd, struct mmsghdr *v, unsigned int vlen, int flags)
{
    if (!NEED(sendmmsg))
        return (int)syscall(SYS_sendmmsg, fd, v, vlen, flags);
    int ret = st_real.sendmmsg(fd, v, vlen, flags);
    int err = errno;
    if (ret > 0)
        sent(ST_CALL_SENDMMSG, fd);
    errno = err;
    return ret;
}

/* Sockets passed to us over a unix socket enter the table as received. */
static void received_fds(int fd, struct msghdr *msg)
{
    if (!st_enter())
        return;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < n; i++) {
            int rfd;
            memcpy(&rfd, CMSG_DATA(c) + i * sizeof(int), sizeof rfd);
            struct st_sock *s = st_adopt(rfd, ST_ORIGIN_RECEIVED);
            if (s)
                st_emit(ST_CALL_RECVMSG, fd, rfd, rfd, 0, s);
        }
    }
    st_leave();
}

ST_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
    if (!NEED(recvmsg))
        return syscall(SYS_recvmsg, fd, msg, flags);
    ssize_t ret = st_real.recvmsg(fd, msg, flags);
    int err = errno;
    if (ret >= 0 && msg->msg_controllen >= sizeof(struct cmsghdr) &&
        msg->msg_control)
        received_fds(fd, msg);
    errno = err;
    return ret;
}
