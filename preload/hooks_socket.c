/* hooks_socket.c - the calls that create sockets and give them endpoints:
 * socket, socketpair, bind, listen, connect, accept, accept4, shutdown,
 * getsockname, getpeername, getsockopt, setsockopt. Each calls the real
 * function first, then records; errno and the caller's buffers are
 * always what libc left. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "hooks.h"
#include "sockaddr_conv.h"
#include "tracer.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define TYPE_MASK (~(SOCK_NONBLOCK | SOCK_CLOEXEC))

/* The protocol the kernel picks for protocol 0, without asking it. */
static int default_protocol(int family, int type, int protocol)
{
    if (protocol || (family != AF_INET && family != AF_INET6))
        return protocol;
    if (type == SOCK_STREAM)
        return IPPROTO_TCP;
    if (type == SOCK_DGRAM)
        return IPPROTO_UDP;
    return protocol;
}

static uint32_t type_flags(int type_or_flags)
{
    return ((type_or_flags & SOCK_CLOEXEC) ? ST_SF_CLOEXEC : 0) |
           ((type_or_flags & SOCK_NONBLOCK) ? ST_SF_NONBLOCK : 0);
}

/* An address the caller passed to a call that failed, for the event. The
 * kernel reads len bytes before failing for any reason but EFAULT and an
 * oversized len, so reading them here is safe in every other case. */
static void attempted(struct st_addr *out, const struct sockaddr *sa,
                      socklen_t len, int err, int family)
{
    memset(out, 0, sizeof *out);
    if (sa && err != EFAULT && len <= sizeof(struct sockaddr_storage))
        st_addr_from(out, sa, len, family);
}

static bool is_inet(const struct st_sock *s)
{
    return s->family == AF_INET || s->family == AF_INET6;
}

ST_EXPORT int socket(int domain, int type, int protocol)
{
    if (!NEED(socket))
        return (int)syscall(SYS_socket, domain, type, protocol);
    int fd = st_real.socket(domain, type, protocol);
    int err = errno;
    if (st_enter()) {
        struct st_sock *s = NULL;
        if (fd >= 0) {
            int t = type & TYPE_MASK;
            s = st_open_entry(fd, domain, t, default_protocol(domain, t, protocol),
                              ST_ORIGIN_SOCKET);
            if (s) {
                st_edit(s);
                s->flags |= type_flags(type);
                st_done(s);
            }
        }
        st_emit(ST_CALL_SOCKET, fd, -1, fd, err, s);
        st_leave();
    }
    errno = err;
    return fd;
}

ST_EXPORT int socketpair(int domain, int type, int protocol, int sv[2])
{
    if (!NEED(socketpair))
        return (int)syscall(SYS_socketpair, domain, type, protocol, sv);
    int ret = st_real.socketpair(domain, type, protocol, sv);
    int err = errno;
    if (st_enter()) {
        struct st_sock *s = NULL;
        if (ret == 0) {
            int t = type & TYPE_MASK;
            for (int i = 0; i < 2; i++) {
                s = st_open_entry(sv[i], domain, t,
                                  default_protocol(domain, t, protocol),
                                  ST_ORIGIN_SOCKETPAIR);
                if (!s)
                    continue;
                st_edit(s);
                s->flags |= type_flags(type) | ST_SF_LOCAL_DONE;
                s->state = ST_STATE_CONNECTED;
                if (domain == AF_UNIX) {
                    s->local.kind = s->peer.kind = ST_ADDR_UNNAMED;
                    s->local.family = s->peer.family = AF_UNIX;
                }
                st_done(s);
            }
        }
        st_emit(ST_CALL_SOCKETPAIR, ret == 0 ? sv[0] : -1, ret == 0 ? sv[1] : -1,
                ret, err, s);
        st_leave();
    }
    errno = err;
    return ret;
}

ST_EXPORT int bind(int fd, const struct sockaddr *sa, socklen_t len)
{
    if (!NEED(bind))
        return (int)syscall(SYS_bind, fd, sa, len);
    int ret = st_real.bind(fd, sa, len);
    int err = errno;
    if (st_enter()) {
        struct st_sock *s = st_find(fd);
        if (!s && ret == 0)
            s = st_adopt(fd, ST_ORIGIN_INHERITED);
        if (s && ret == 0) {
            st_edit(s);
            st_addr_from(&s->local, sa, len, s->family);
            bool ask = false;
            if (is_inet(s) && s->local.port == 0 && !(s->flags & ST_SF_NO_PORT)) {
                ask = true;
                s->flags |= ST_SF_PORT_CHOSEN;
            } else if (s->family == AF_UNIX && s->local.kind == ST_ADDR_UNNAMED) {
                ask = true;     /* autobind: the kernel picks an abstract name */
            } else if (!is_inet(s) && s->family != AF_UNIX) {
                ask = true;     /* netlink and friends fill in their own */
            }
            if (ask)
                st_ask_local(s, fd);
            s->flags |= ST_SF_LOCAL_DONE;
            if (s->state == ST_STATE_CREATED)
                s->state = ST_STATE_BOUND;
            st_done(s);
            st_watch_update(fd, s);
            st_emit(ST_CALL_BIND, fd, -1, ret, err, s);
        } else {
            struct st_addr want, none;
            attempted(&want, sa, len, err, s ? s->family : 0);
            memset(&none, 0, sizeof none);
            st_emit_addrs(ST_CALL_BIND, fd, -1, ret, err, &want, &none);
        }
        st_leave();
    }
    errno = err;
    return ret;
}

ST_EXPORT int listen(int fd, int backlog)
{
    if (!NEED(listen))
        return (int)syscall(SYS_listen, fd, backlog);
    int ret = st_real.listen(fd, backlog);
    int err = errno;
    if (st_enter()) {
        struct st_sock *s = st_find(fd);
        if (!s && ret == 0)
            s = st_adopt(fd, ST_ORIGIN_INHERITED);
        if (s && ret == 0) {
            st_edit(s);
            /* listen on an unbound socket: the kernel picks the port now */
            if (s->local.kind == ST_ADDR_NONE || (is_inet(s) && s->local.port == 0)) {
                st_ask_local(s, fd);
                if (is_inet(s))
                    s->flags |= ST_SF_PORT_CHOSEN;
            }
            s->state = ST_STATE_LISTENING;
            st_done(s);
        }
        st_emit(ST_CALL_LISTEN, fd, -1, ret, err, s);
        st_leave();
    }
    errno = err;
    return ret;
}

static void connect_done(struct st_sock *s, int fd, const struct sockaddr *sa,
                         socklen_t len, int ret)
{
    st_edit(s);
    if (sa->sa_family == AF_UNSPEC) {
        /* a datagram socket's association dissolved; the kernel may also
         * drop an address it chose at connect time */
        memset(&s->peer, 0, sizeof s->peer);
        s->flags &= ~ST_SF_PEER_LAST;
        if (is_inet(s))
            st_ask_local(s, fd);
        bool bound = s->local.kind != ST_ADDR_NONE && s->local.port;
        if (!bound)     /* the port the kernel chose went back to it */
            s->flags &= ~(ST_SF_PORT_CHOSEN | ST_SF_LOCAL_DONE);
        s->state = bound ? ST_STATE_BOUND : ST_STATE_CREATED;
        st_done(s);
        st_watch_update(fd, s);
        return;
    }
    st_addr_from(&s->peer, sa, len, s->family);
    s->flags &= ~ST_SF_PEER_LAST;
    if (is_inet(s)) {
        /* the one question the call makes necessary: which local address
         * and port the kernel gave, unless bind already fixed both */
        if (!(s->flags & ST_SF_LOCAL_DONE) || st_addr_incomplete(&s->local)) {
            if (s->local.port == 0)
                s->flags |= ST_SF_PORT_CHOSEN;
            st_ask_local(s, fd);
        }
    } else if (s->local.kind == ST_ADDR_NONE && s->family == AF_UNIX) {
        s->local.kind = ST_ADDR_UNNAMED;
        s->local.family = AF_UNIX;
    }
    s->flags |= ST_SF_LOCAL_DONE;
    s->state = ret == 0 ? ST_STATE_CONNECTED : ST_STATE_CONNECTING;
    st_done(s);
    st_watch_update(fd, s);
}

ST_EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
    if (!NEED(connect))
        return (int)syscall(SYS_connect, fd, sa, len);
    int ret = st_real.connect(fd, sa, len);
    int err = errno;
    if (st_enter()) {
        bool started = ret == 0 || err == EINPROGRESS;
        struct st_sock *s = st_find(fd);
        if (!s && started)
            s = st_adopt(fd, ST_ORIGIN_INHERITED);
        if (s && started) {
            connect_done(s, fd, sa, len, ret);
            st_emit(ST_CALL_CONNECT, fd, -1, ret, err, s);
        } else {
            if (s && s->type == SOCK_STREAM && !ST_QUIET_ERR(err) &&
                err != EALREADY && err != EISCONN && err != EBADF) {
                st_edit(s);
                s->state = ST_STATE_FAILED;
                st_done(s);
            }
            struct st_addr want;
            attempted(&want, sa, len, err, s ? s->family : 0);
            st_emit_addrs(ST_CALL_CONNECT, fd, -1, ret, err,
                          s ? &s->local : &want, &want);
        }
        st_leave();
    }
    errno = err;
    return ret;
}

/* The new socket's addresses: the peer from what accept wrote (asking the
 * kernel only when the caller's buffer was too short), the local address
 * from the listener unless it listens on a wildcard address. */
static void accept_done(int lfd, int nfd, int flags, const struct sockaddr *a,
                        socklen_t alen, bool complete, int call)
{
    struct st_sock *ls = st_find(lfd);
    struct st_sock *s;
    if (ls) {
        s = st_open_entry(nfd, ls->family, ls->type, ls->protocol,
                          ST_ORIGIN_ACCEPT);
        if (s) {
            st_edit(s);
            if (complete)
                st_addr_from(&s->peer, a, alen, s->family);
            else
                st_ask_peer(s, nfd);
            if (ls->local.kind != ST_ADDR_NONE && !st_addr_incomplete(&ls->local))
                s->local = ls->local;
            else
                st_ask_local(s, nfd);
        }
    } else {
        s = st_adopt(nfd, ST_ORIGIN_ACCEPT);
        if (s)
            st_edit(s);
    }
    if (s) {
        s->flags |= type_flags(flags) | ST_SF_LOCAL_DONE;
        s->state = ST_STATE_CONNECTED;
        st_done(s);
    }
    st_emit(call, lfd, nfd, nfd, 0, s);
}

static int do_accept(int call, int fd, struct sockaddr *addr, socklen_t *alen,
                     int flags)
{
    struct sockaddr_storage own;
    socklen_t ownlen = sizeof own, given = 0;
    struct sockaddr *a = addr;
    socklen_t *l = alen;
    bool on = __atomic_load_n(&st_on, __ATOMIC_RELAXED);
    /* With no buffer from the caller, ours takes the peer: the kernel
     * behaves the same and the caller sees no difference. */
    if (on && !addr) {
        a = (struct sockaddr *)&own;
        l = &ownlen;
    } else if (on && alen) {
        given = *alen;
    }
    int nfd = call == ST_CALL_ACCEPT ? st_real.accept(fd, a, l)
                                     : st_real.accept4(fd, a, l, flags);
    int err = errno;
    if (on && st_enter()) {
        if (nfd >= 0)
            accept_done(fd, nfd, flags, a, l ? *l : 0,
                        a == (struct sockaddr *)&own || (l && *l <= given), call);
        else if (!ST_QUIET_ERR(err))
            st_emit(call, fd, -1, nfd, err, st_find(fd));
        st_leave();
    }
    errno = err;
    return nfd;
}

ST_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *alen)
{
    if (!NEED(accept))
        return (int)syscall(SYS_accept, fd, addr, alen);
    return do_accept(ST_CALL_ACCEPT, fd, addr, alen, 0);
}

ST_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *alen, int flags)
{
    if (!NEED(accept4))
        return (int)syscall(SYS_accept4, fd, addr, alen, flags);
    return do_accept(ST_CALL_ACCEPT4, fd, addr, alen, flags);
}

ST_EXPORT int shutdown(int fd, int how)
{
    if (!NEED(shutdown))
        return (int)syscall(SYS_shutdown, fd, how);
    int ret = st_real.shutdown(fd, how);
    int err = errno;
    if (st_enter()) {
        struct st_sock *s = st_find(fd);
        if (s && ret == 0) {
            st_edit(s);
            if (how == SHUT_RD || how == SHUT_RDWR)
                s->flags |= ST_SF_SHUT_RD;
            if (how == SHUT_WR || how == SHUT_RDWR)
                s->flags |= ST_SF_SHUT_WR;
            st_done(s);
        }
        if (s || ret == 0)
            st_emit(ST_CALL_SHUTDOWN, fd, how, ret, err, s);
        st_leave();
    }
    errno = err;
    return ret;
}

/* A connect in progress is finished once the kernel answers a question
 * only a connected socket can answer; the program's own calls tell us,
 * at no cost. */
static void connecting_outcome(struct st_sock *s, int fd, bool connected)
{
    if (!s || s->state != ST_STATE_CONNECTING)
        return;
    st_edit(s);
    s->state = connected ? ST_STATE_CONNECTED : ST_STATE_FAILED;
    st_done(s);
    st_watch_update(fd, s);
}

static int name_hook(int call, int fd, struct sockaddr *sa, socklen_t *len)
{
    int ret = call == ST_CALL_GETSOCKNAME ? st_real.getsockname(fd, sa, len)
                                          : st_real.getpeername(fd, sa, len);
    int err = errno;
    if (st_enter()) {
        struct st_sock *s = st_find(fd);
        if (call == ST_CALL_GETPEERNAME && ret == 0)
            connecting_outcome(s, fd, true);
        if (s || ret == 0)
            st_emit(call, fd, -1, ret, err, s);
        st_leave();
    }
    errno = err;
    return ret;
}

ST_EXPORT int getsockname(int fd, struct sockaddr *sa, socklen_t *len)
{
    if (!NEED(getsockname))
        return (int)syscall(SYS_getsockname, fd, sa, len);
    return name_hook(ST_CALL_GETSOCKNAME, fd, sa, len);
}

ST_EXPORT int getpeername(int fd, struct sockaddr *sa, socklen_t *len)
{
    if (!NEED(getpeername))
        return (int)syscall(SYS_getpeername, fd, sa, len);
    return name_hook(ST_CALL_GETPEERNAME, fd, sa, len);
}

ST_EXPORT int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
    if (!NEED(getsockopt))
        return (int)syscall(SYS_getsockopt, fd, level, name, val, len);
    int ret = st_real.getsockopt(fd, level, name, val, len);
    int err = errno;
    if (ret == 0 && level == SOL_SOCKET && name == SO_ERROR && st_enter()) {
        struct st_sock *s = st_find(fd);
        if (s && s->state == ST_STATE_CONNECTING && *len >= sizeof(int)) {
            int e;
            memcpy(&e, val, sizeof e);
            connecting_outcome(s, fd, e == 0);
            st_emit(ST_CALL_GETSOCKOPT, fd, e, ret, err, s);
        }
        st_leave();
    }
    errno = err;
    return ret;
}

ST_EXPORT int setsockopt(int fd, int level, int name, const void *val,
                         socklen_t len)
{
    if (!NEED(setsockopt))
        return (int)syscall(SYS_setsockopt, fd, level, name, val, len);
    int ret = st_real.setsockopt(fd, level, name, val, len);
    int err = errno;
    if (ret == 0 && level == IPPROTO_IP && name == IP_BIND_ADDRESS_NO_PORT &&
        len >= sizeof(int) && st_enter()) {
        struct st_sock *s = st_find(fd);
        if (s) {
            int on;
            memcpy(&on, val, sizeof on);
            st_edit(s);
            s->flags = on ? (s->flags | ST_SF_NO_PORT) : (s->flags & ~ST_SF_NO_PORT);
            st_done(s);
            st_emit(ST_CALL_SETSOCKOPT, fd, on, ret, err, s);
        }
        st_leave();
    }
    errno = err;
    return ret;
}
