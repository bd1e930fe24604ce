/* hooks_socket.c - the calls that create sockets and give them endpoints:
 * socket, socketpair, bind, listen, connect, accept, accept4, shutdown
 * (the calls that ask about a socket are hooks_query.c's). Each calls the real
 * function first, then records; errno and the caller's buffers are
 * always what libc left. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "hooks.h"
#include "outcome.h"
#include "sockaddr_conv.h"
#include "tracefile.h"
#include "tracer.h"

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

/* The family of fd's socket as the table has it, for reading an address
 * a failed call was given. */
static int family_of(int fd)
{
    struct st_sock s;
    return st_get(fd, &s) ? s.family : 0;
}

ST_EXPORT int socket(int domain, int type, int protocol)
{
    if (!NEED(socket))
        return (int)syscall(SYS_socket, domain, type, protocol);
    bool on = st_active();
    uint64_t t_lo = on ? st_before() : 0;
    int fd = REAL(socket)(domain, type, protocol);
    int err = errno;
    if (on) {
        struct st_sock s;
        memset(&s, 0, sizeof s);
        if (fd >= 0) {
            int t = type & TYPE_MASK;
            s.family = (uint16_t)domain;
            s.type = (uint16_t)t;
            s.protocol = (uint16_t)default_protocol(domain, t, protocol);
            s.state = ST_STATE_CREATED;
            s.origin = ST_ORIGIN_SOCKET;
            s.flags = type_flags(type);
            st_open(fd, t_lo, &s, NULL);
        }
        st_emit(ST_CALL_SOCKET, fd, -1, fd, err, fd >= 0 ? &s : NULL);
    }
    errno = err;
    return fd;
}

ST_EXPORT int socketpair(int domain, int type, int protocol, int sv[2])
{
    if (!NEED(socketpair))
        return (int)syscall(SYS_socketpair, domain, type, protocol, sv);
    bool on = st_active();
    uint64_t t_lo = on ? st_before() : 0;
    int ret = REAL(socketpair)(domain, type, protocol, sv);
    int err = errno;
    if (on) {
        struct st_sock s;
        memset(&s, 0, sizeof s);
        for (int i = 0; ret == 0 && i < 2; i++) {
            int t = type & TYPE_MASK;
            memset(&s, 0, sizeof s);
            s.family = (uint16_t)domain;
            s.type = (uint16_t)t;
            s.protocol = (uint16_t)default_protocol(domain, t, protocol);
            s.origin = ST_ORIGIN_SOCKETPAIR;
            s.flags = type_flags(type) | ST_SF_LOCAL_DONE;
            s.state = ST_STATE_CONNECTED;
            if (domain == AF_UNIX) {
                s.local.kind = s.peer.kind = ST_ADDR_UNNAMED;
                s.local.family = s.peer.family = AF_UNIX;
            }
            st_open(sv[i], t_lo, &s, NULL);
        }
        st_emit(ST_CALL_SOCKETPAIR, ret == 0 ? sv[0] : -1, ret == 0 ? sv[1] : -1,
                ret, err, ret == 0 ? &s : NULL);
    }
    errno = err;
    return ret;
}

struct addr_arg {
    const struct sockaddr *sa;
    socklen_t len;
    int ret;
};

static bool bind_apply(struct st_sock *s, int fd, void *arg)
{
    const struct addr_arg *a = arg;
    st_addr_from(&s->local, a->sa, a->len, s->family);
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
    return true;
}

ST_EXPORT int bind(int fd, const struct sockaddr *sa, socklen_t len)
{
    if (!NEED(bind))
        return (int)syscall(SYS_bind, fd, sa, len);
    bool on = st_active();
    uint64_t base = on ? st_word(fd) : 0, t_lo = st_before_loose();
    int ret = REAL(bind)(fd, sa, len);
    int err = errno;
    if (on) {
        struct st_sock s;
        if (ret == 0) {
            struct addr_arg a = {sa, len, ret};
            st_change(fd, base, t_lo, bind_apply, &a, &s);
            st_emit(ST_CALL_BIND, fd, -1, ret, err, &s);
        } else {
            struct st_addr want, none;
            attempted(&want, sa, len, err, family_of(fd));
            memset(&none, 0, sizeof none);
            st_emit_addrs(ST_CALL_BIND, fd, -1, ret, err, &want, &none, 0);
        }
    }
    errno = err;
    return ret;
}

static bool listen_apply(struct st_sock *s, int fd, void *arg)
{
    (void)arg;
    /* listen on an unbound socket: the kernel picks the port now */
    if (s->local.kind == ST_ADDR_NONE || (is_inet(s) && s->local.port == 0)) {
        st_ask_local(s, fd);
        if (is_inet(s))
            s->flags |= ST_SF_PORT_CHOSEN;
    }
    s->state = ST_STATE_LISTENING;
    return true;
}

ST_EXPORT int listen(int fd, int backlog)
{
    if (!NEED(listen))
        return (int)syscall(SYS_listen, fd, backlog);
    bool on = st_active();
    uint64_t base = on ? st_word(fd) : 0, t_lo = st_before_loose();
    int ret = REAL(listen)(fd, backlog);
    int err = errno;
    if (on) {
        struct st_sock s;
        bool known = ret == 0 ? (st_change(fd, base, t_lo, listen_apply, NULL, &s), true)
                              : st_get(fd, &s);
        st_emit(ST_CALL_LISTEN, fd, -1, ret, err, known ? &s : NULL);
    }
    errno = err;
    return ret;
}

struct connect_arg {
    const struct sockaddr *sa;
    socklen_t len;
    int ret, err;
    uint64_t t_lo;
};

/* The connect is under way (EINPROGRESS, or a signal interrupted a
 * blocking one, which goes on in the kernel) or done. */
static bool connect_apply(struct st_sock *s, int fd, void *arg)
{
    const struct connect_arg *a = arg;
    if (a->sa->sa_family == AF_UNSPEC) {
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
        s->outcome = ST_CONN_NONE;
        s->connect_ns = 0;
        return true;
    }
    st_addr_from(&s->peer, a->sa, a->len, s->family);
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
    s->state = a->ret == 0 ? ST_STATE_CONNECTED : ST_STATE_CONNECTING;
    s->outcome = a->ret == 0 ? ST_CONN_OK : ST_CONN_PENDING;
    s->connect_ns = a->t_lo;
    s->connect_err = s->end_err = 0;
    return true;
}

/* A connect that failed at once (or a second connect on a pending one,
 * which reports its outcome): the peer it tried stays on the socket. */
static bool connect_failed(struct st_sock *s, int fd, void *arg)
{
    (void)fd;
    const struct connect_arg *a = arg;
    if (s->type != SOCK_STREAM && s->type != SOCK_SEQPACKET)
        return false;
    if (a->err == EISCONN) {    /* the pending connect succeeded */
        if (s->state != ST_STATE_CONNECTING && s->outcome != ST_CONN_PENDING)
            return false;
        s->state = ST_STATE_CONNECTED;
        s->outcome = ST_CONN_OK;
        return true;
    }
    if (s->outcome != ST_CONN_PENDING && s->state != ST_STATE_CONNECTING) {
        if (s->peer.kind == ST_ADDR_NONE && a->sa && a->err != EFAULT &&
            a->len <= sizeof(struct sockaddr_storage))
            st_addr_from(&s->peer, a->sa, a->len, s->family);
        s->connect_ns = a->t_lo;
    }
    s->state = ST_STATE_FAILED;
    s->outcome = ST_CONN_FAILED;
    s->connect_err = (uint16_t)a->err;
    return true;
}

ST_EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
    if (!NEED(connect))
        return (int)syscall(SYS_connect, fd, sa, len);
    bool on = st_active();
    uint64_t base = on ? st_word(fd) : 0, t_lo = on ? st_before() : 0;
    int ret = REAL(connect)(fd, sa, len);
    int err = errno;
    if (on) {
        struct st_sock s;
        struct connect_arg a = {sa, len, ret, err, t_lo};
        /* the entry is read here only when the call failed: a connect
         * that went ahead reads it in st_change, once */
        bool known = (ret != 0 && err != EINPROGRESS) && st_get(fd, &s);
        bool started = ret == 0 || err == EINPROGRESS ||
                       (err == EINTR && known && sa && sa->sa_family != AF_UNSPEC &&
                        (s.type == SOCK_STREAM || s.type == SOCK_SEQPACKET));
        if (started) {
            st_change(fd, base, t_lo, connect_apply, &a, &s);
            st_emit(ST_CALL_CONNECT, fd, -1, ret, err, &s);
        } else {
            if (known && !ST_QUIET_ERR(err) && err != EALREADY && err != EBADF &&
                err != ENOTSOCK)
                st_change(fd, base, t_lo, connect_failed, &a, &s);
            struct st_addr want;
            attempted(&want, sa, len, err, known ? s.family : 0);
            st_emit_addrs(ST_CALL_CONNECT, fd, -1, ret, err,
                          known ? &s.local : &want, &want, known ? s.sock_id : 0);
        }
    }
    errno = err;
    return ret;
}

/* The new socket's addresses: the peer from what accept wrote (asking the
 * kernel only when the caller's buffer was too short), the local address
 * from the listener unless it listens on a wildcard address. */
static void accept_done(int lfd, int nfd, int flags, const struct sockaddr *a,
                        socklen_t alen, bool complete, int call, uint64_t t_lo)
{
    struct st_sock ls, s;
    if (st_get(lfd, &ls)) {
        memset(&s, 0, sizeof s);
        s.family = ls.family;
        s.type = ls.type;
        s.protocol = ls.protocol;
        s.origin = ST_ORIGIN_ACCEPT;
        if (complete)
            st_addr_from(&s.peer, a, alen, s.family);
        else
            st_ask_peer(&s, nfd);
        if (ls.local.kind != ST_ADDR_NONE && !st_addr_incomplete(&ls.local))
            s.local = ls.local;
        else
            st_ask_local(&s, nfd);
        s.flags = type_flags(flags) | ST_SF_LOCAL_DONE;
        s.state = ST_STATE_CONNECTED;
        st_open(nfd, t_lo, &s, NULL);
    } else {
        st_ask(nfd, ST_ORIGIN_ACCEPT, NULL, &s);
    }
    st_emit(call, lfd, nfd, nfd, 0, &s);
}

static int do_accept(int call, int fd, struct sockaddr *addr, socklen_t *alen,
                     int flags)
{
    struct sockaddr_storage own;
    socklen_t ownlen = sizeof own, given = 0;
    struct sockaddr *a = addr;
    socklen_t *l = alen;
    bool on = st_active();
    uint64_t t_lo = on ? st_before() : 0;
    /* With no buffer from the caller, ours takes the peer: the kernel
     * behaves the same and the caller sees no difference. */
    if (on && !addr) {
        a = (struct sockaddr *)&own;
        l = &ownlen;
    } else if (on && alen) {
        given = *alen;
    }
    int nfd = call == ST_CALL_ACCEPT ? REAL(accept)(fd, a, l)
                                     : REAL(accept4)(fd, a, l, flags);
    int err = errno;
    if (on) {
        if (nfd >= 0) {
            accept_done(fd, nfd, flags, a, l ? *l : 0,
                        a == (struct sockaddr *)&own || (l && *l <= given), call, t_lo);
        } else if (!ST_QUIET_ERR(err)) {
            struct st_sock s;
            bool known = st_get(fd, &s);
            st_emit(call, fd, -1, nfd, err, known ? &s : NULL);
        }
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

static bool shutdown_apply(struct st_sock *s, int fd, void *arg)
{
    (void)fd;
    int how = *(const int *)arg;
    uint32_t was = s->flags;
    if (how == SHUT_RD || how == SHUT_RDWR)
        s->flags |= ST_SF_SHUT_RD;
    if (how == SHUT_WR || how == SHUT_RDWR)
        s->flags |= ST_SF_SHUT_WR;
    return s->flags != was;
}

ST_EXPORT int shutdown(int fd, int how)
{
    if (!NEED(shutdown))
        return (int)syscall(SYS_shutdown, fd, how);
    bool on = st_active();
    uint64_t base = on ? st_word(fd) : 0, t_lo = st_before_loose();
    int ret = REAL(shutdown)(fd, how);
    int err = errno;
    if (on) {
        struct st_changed c;
        c.as_filed = false;
        bool known = ret == 0 ? (st_change_head(fd, base, t_lo, shutdown_apply, &how, &c), true)
                              : st_get(fd, &c.s);
        if (known)
            st_emit_changed(ST_CALL_SHUTDOWN, fd, how, ret, err, &c);
    }
    errno = err;
    return ret;
}
