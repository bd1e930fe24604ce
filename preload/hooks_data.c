/* hooks_data.c - the data calls, interposed only for what they tell about
 * endpoints: a first send binds an unbound datagram socket (the kernel
 * picks the port) or proves a non-blocking connect done; the addresses of
 * an unconnected datagram socket give its last peer and how many distinct
 * peers it met; recvmsg can carry sockets (SCM_RIGHTS). A socket with
 * nothing left to learn costs one load per call. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "peers.h"
#include "hooks.h"
#include "outcome.h"
#include "sockaddr_conv.h"
#include "tracer.h"

/* A peer address carried by a data call. It is hashed straight from the
 * sockaddr and converted only when the socket's last peer changes: most
 * datagrams come from the peer the one before came from. */
struct peer {
    const struct sockaddr *sa;
    socklen_t len;
    uint32_t hash;
    bool ok;
};

static uint32_t fnv(uint32_t h, const void *data, size_t n)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static void peer_from(struct peer *p, const struct sockaddr *sa, socklen_t len)
{
    p->ok = false;
    if (!sa || len < sizeof(sa_family_t))
        return;
    uint32_t h = 2166136261u;
    if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const void *)sa;
        h = fnv(h, &in->sin_addr, 4);
        h = fnv(h, &in->sin_port, 2);
    } else if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const void *)sa;
        h = fnv(h, &in6->sin6_addr, 16);
        h = fnv(h, &in6->sin6_port, 2);
        h = fnv(h, &in6->sin6_scope_id, 4);
    } else {
        return;
    }
    p->sa = sa;
    p->len = len;
    p->hash = h;
    p->ok = true;
}

/* The peers of a vector of messages, at most this many (the rest of a
 * large batch is almost always the same few peers). */
#define BATCH_PEERS 16

/* What a data call learned, applied to the entry. */
struct data_arg {
    bool sent;              /* a send succeeded: it may resolve */
    const struct peer *p;
    unsigned n;
    int fresh[BATCH_PEERS]; /* st_peer_add's answer per peer */
    bool changed;           /* an event is due */
};

static bool is_dgram_inet(const struct st_sock *s)
{
    return s->type == SOCK_DGRAM && (s->family == AF_INET || s->family == AF_INET6);
}

/* After a successful send: resolve what the send proved. */
static bool note_send(struct st_sock *s, int fd)
{
    if (s->state == ST_STATE_CONNECTING) {
        /* only a connected stream socket can send */
        s->state = ST_STATE_CONNECTED;
        return true;
    }
    if ((s->family != AF_INET && s->family != AF_INET6) ||
        ((s->flags & ST_SF_LOCAL_DONE) && s->local.port != 0))
        return false;
    st_ask_local(s, fd);
    s->flags |= ST_SF_LOCAL_DONE | ST_SF_PORT_CHOSEN;
    if (s->state == ST_STATE_CREATED)
        s->state = ST_STATE_BOUND;
    return true;
}

static bool data_apply(struct st_sock *s, int fd, void *arg)
{
    struct data_arg *a = arg;
    bool changed = a->sent && note_send(s, fd);
    a->changed = changed;
    if (s->state == ST_STATE_CONNECTED || s->type != SOCK_DGRAM)
        return changed;
    for (unsigned i = 0; i < a->n; i++) {
        if (!a->p[i].ok)
            continue;
        st_addr_from(&s->peer, a->p[i].sa, a->p[i].len, a->p[i].sa->sa_family);
        s->flags |= ST_SF_PEER_LAST;
        if (a->fresh[i] == 1 && s->peers_seen < UINT16_MAX) {
            s->peers_seen++;    /* the record holds 16 bits: it stops there */
            a->changed = true;
        } else if (a->fresh[i] != 0) {
            s->flags |= ST_SF_PEERS_MORE;
        }
        changed = true;
    }
    return changed;
}

/* After a successful data call on fd carrying peer addresses p[0..n). */
static void data_done(int call, int fd, bool sent, const struct peer *p,
                      unsigned n)
{
    unsigned w = st_watch(fd);
    if (!sent)
        w &= ~ST_W_SEND;
    if (!(w & ST_W_PEERS))
        n = 0;
    if (!(w & ST_W_SEND) && (n == 0 || (n == 1 && (!p[0].ok ||
                                                   st_peer_cached(fd, p[0].hash)))))
        return;
    if (!st_active())
        return;
    uint64_t base = st_word(fd), t_lo = st_before_loose();
    struct st_sock s;
    if (!base || !st_get(fd, &s))
        return;
    struct data_arg a = {.sent = (w & ST_W_SEND) != 0, .p = p, .n = n};
    if (is_dgram_inet(&s) && s.state != ST_STATE_CONNECTED)
        for (unsigned i = 0; i < n; i++)
            a.fresh[i] = p[i].ok ? st_peer_add(fd, s.sock_id, p[i].hash) : 0;
    else
        a.n = 0;
    st_change(fd, base, t_lo, data_apply, &a, &s);
    if (a.n && p[a.n - 1].ok)
        st_peer_cache(fd, p[a.n - 1].hash);
    if (a.changed)
        st_emit(call, fd, -1, 0, 0, &s);
}

ST_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags,
                         const struct sockaddr *sa, socklen_t len)
{
    if (!NEED(sendto))
        return syscall(SYS_sendto, fd, buf, n, flags, sa, len);
    ssize_t ret = REAL(sendto)(fd, buf, n, flags, sa, len);
    int err = errno;
    if (ret >= 0 && st_watch(fd)) {
        struct peer p;
        peer_from(&p, sa, len);
        data_done(ST_CALL_SENDTO, fd, true, &p, 1);
    } else if (ret < 0) {
        st_data_failed(ST_CALL_SENDTO, fd, err);
    }
    errno = err;
    return ret;
}

/* send is the hot path of every TCP program: it is watched only while a
 * non-blocking connect is pending. */
ST_EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags)
{
    if (!NEED(send))
        return syscall(SYS_sendto, fd, buf, n, flags, NULL, 0);
    ssize_t ret = REAL(send)(fd, buf, n, flags);
    int err = errno;
    if (ret >= 0 && (st_watch(fd) & ST_W_SEND))
        data_done(ST_CALL_SEND, fd, true, NULL, 0);
    else if (ret < 0)
        st_data_failed(ST_CALL_SEND, fd, err);
    errno = err;
    return ret;
}

ST_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    if (!NEED(sendmsg))
        return syscall(SYS_sendmsg, fd, msg, flags);
    ssize_t ret = REAL(sendmsg)(fd, msg, flags);
    int err = errno;
    if (ret >= 0 && st_watch(fd)) {
        struct peer p;
        peer_from(&p, msg->msg_name, msg->msg_namelen);
        data_done(ST_CALL_SENDMSG, fd, true, &p, 1);
    } else if (ret < 0) {
        st_data_failed(ST_CALL_SENDMSG, fd, err);
    }
    errno = err;
    return ret;
}


/* given[i], when set, is the size of message i's name buffer before a
 * receive: the kernel reports the full length even when it cut the copy. */
static unsigned batch_peers(struct peer *p, const struct mmsghdr *v, int n,
                            const socklen_t *given)
{
    unsigned k = 0;
    for (int i = 0; i < n && i < BATCH_PEERS; i++) {
        socklen_t len = v[i].msg_hdr.msg_namelen;
        if (given && given[i] < len)
            len = given[i];
        peer_from(&p[k], v[i].msg_hdr.msg_name, len);
        if (p[k].ok && (k == 0 || p[k].hash != p[k - 1].hash))
            k++;
    }
    return k;
}

ST_EXPORT int sendmmsg(int fd, struct mmsghdr *v, unsigned int vlen, st_mmsg_flags flags)
{
    if (!NEED(sendmmsg))
        return (int)syscall(SYS_sendmmsg, fd, v, vlen, flags);
    int ret = REAL(sendmmsg)(fd, v, vlen, flags);
    int err = errno;
    if (ret > 0 && st_watch(fd)) {
        struct peer p[BATCH_PEERS];
        data_done(ST_CALL_SENDMMSG, fd, true, p, batch_peers(p, v, ret, NULL));
    }
    errno = err;
    return ret;
}

ST_EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags,
                           struct sockaddr *sa, socklen_t *len)
{
    if (!NEED(recvfrom))
        return syscall(SYS_recvfrom, fd, buf, n, flags, sa, len);
    if (!(st_watch(fd) & ST_W_PEERS)) {
        ssize_t ret = REAL(recvfrom)(fd, buf, n, flags, sa, len);
        if (ret < 0) {
            int err = errno;
            st_data_failed(ST_CALL_RECVFROM, fd, err);
            errno = err;
        }
        return ret;
    }
    /* With no buffer from the caller, ours takes the source address: the
     * kernel behaves the same and the caller sees no difference. */
    struct sockaddr_storage own;
    socklen_t ownlen = sizeof own;
    struct sockaddr *a = sa ? sa : (struct sockaddr *)&own;
    socklen_t *l = sa ? len : &ownlen;
    socklen_t given = l ? *l : 0;
    ssize_t ret = REAL(recvfrom)(fd, buf, n, flags, a, l);
    int err = errno;
    if (ret >= 0 && l) {
        struct peer p;
        peer_from(&p, a, *l < given ? *l : given);
        data_done(ST_CALL_RECVFROM, fd, false, &p, 1);
    } else if (ret < 0) {
        st_data_failed(ST_CALL_RECVFROM, fd, err);
    }
    errno = err;
    return ret;
}

/* Sockets passed to us over a unix socket enter the table as received. */
static void received_fds(int fd, struct msghdr *msg)
{
    if (!st_active())
        return;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < n; i++) {
            int rfd;
            memcpy(&rfd, CMSG_DATA(c) + i * sizeof(int), sizeof rfd);
            struct st_sock s;
            if (st_ask(rfd, ST_ORIGIN_RECEIVED, NULL, &s))
                st_emit(ST_CALL_RECVMSG, fd, rfd, rfd, 0, &s);
        }
    }
}

ST_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
    if (!NEED(recvmsg))
        return syscall(SYS_recvmsg, fd, msg, flags);
    socklen_t given = msg->msg_name ? msg->msg_namelen : 0;
    ssize_t ret = REAL(recvmsg)(fd, msg, flags);
    int err = errno;
    if (ret >= 0 && msg->msg_controllen >= sizeof(struct cmsghdr) &&
        msg->msg_control)
        received_fds(fd, msg);
    if (ret >= 0 && given && (st_watch(fd) & ST_W_PEERS)) {
        struct peer p;
        peer_from(&p, msg->msg_name,
                  msg->msg_namelen < given ? msg->msg_namelen : given);
        data_done(ST_CALL_RECVMSG, fd, false, &p, 1);
    } else if (ret < 0) {
        st_data_failed(ST_CALL_RECVMSG, fd, err);
    }
    errno = err;
    return ret;
}

ST_EXPORT int recvmmsg(int fd, struct mmsghdr *v, unsigned int vlen, st_mmsg_flags flags,
                       struct timespec *timeout)
{
    if (!NEED(recvmmsg))
        return (int)syscall(SYS_recvmmsg, fd, v, vlen, flags, timeout);
    if (!(st_watch(fd) & ST_W_PEERS))
        return REAL(recvmmsg)(fd, v, vlen, flags, timeout);
    socklen_t given[BATCH_PEERS];
    for (unsigned i = 0; i < vlen && i < BATCH_PEERS; i++)
        given[i] = v[i].msg_hdr.msg_name ? v[i].msg_hdr.msg_namelen : 0;
    int ret = REAL(recvmmsg)(fd, v, vlen, flags, timeout);
    int err = errno;
    if (ret > 0) {
        struct peer p[BATCH_PEERS];
        data_done(ST_CALL_RECVMMSG, fd, false, p, batch_peers(p, v, ret, given));
    }
    errno = err;
    return ret;
}
