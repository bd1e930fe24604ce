/* hooks_query.c - the calls that ask about a socket or set its options:
 * getsockname, getpeername, getsockopt, setsockopt. What the kernel tells
 * the program here settles a pending connect, at no cost to it. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "hooks.h"
#include "outcome.h"
#include "tracefile.h"
#include "tracer.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

/* A connect in progress is settled by what the kernel tells the program:
 * its own calls tell us, at no cost (getpeername's answer; its ENOTCONN,
 * while the connect may still be running, costs one TCP_INFO read). */
static int name_hook(int call, int fd, struct sockaddr *sa, socklen_t *len)
{
    bool on = st_active();
    uint64_t base = on ? st_word(fd) : 0, t_lo = st_before_loose();
    int ret = call == ST_CALL_GETSOCKNAME ? REAL(getsockname)(fd, sa, len)
                                          : REAL(getpeername)(fd, sa, len);
    int err = errno;
    if (on && st_hdr()) {
        union st_rec_any r;
        bool known = st_get_rec(fd, &r);
        if (known && call == ST_CALL_GETPEERNAME && r.head.outcome == ST_CONN_PENDING &&
            (ret == 0 || err == ENOTCONN)) {
            struct st_sock s;
            st_rec_decode(&r, &s);
            st_told(fd, base, t_lo, ret == 0 ? ST_TOLD_CONNECTED : ST_TOLD_NOTHING,
                    0, &s);
            st_emit(call, fd, -1, ret, err, &s);
        } else if (known || ret == 0) {
            st_emit_rec(call, fd, -1, ret, err, known ? &r : NULL);
        }
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

/* SO_ERROR is how most programs learn a non-blocking connect's outcome;
 * the value it returned is the socket's connect error (or, once
 * connected, the error its connection ended with). */
ST_EXPORT int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
    if (!NEED(getsockopt))
        return (int)syscall(SYS_getsockopt, fd, level, name, val, len);
    bool watch = level == SOL_SOCKET && name == SO_ERROR && st_active();
    uint64_t base = watch ? st_word(fd) : 0, t_lo = st_before_loose();
    int ret = REAL(getsockopt)(fd, level, name, val, len);
    int err = errno;
    struct st_sock s;
    if (ret == 0 && base && val && len && *len >= sizeof(int) && st_get(fd, &s)) {
        int e;
        memcpy(&e, val, sizeof e);
        bool was_pending = s.outcome == ST_CONN_PENDING || s.state == ST_STATE_CONNECTING;
        if (e ? st_told(fd, base, t_lo, ST_TOLD_ERROR, e, &s)
              : was_pending && (st_told(fd, base, t_lo, ST_TOLD_NOTHING, 0, &s), true))
            st_emit(ST_CALL_GETSOCKOPT, fd, e, ret, err, &s);
    }
    errno = err;
    return ret;
}

static bool no_port_apply(struct st_sock *s, int fd, void *arg)
{
    (void)fd;
    uint32_t was = s->flags;
    s->flags = *(const int *)arg ? (s->flags | ST_SF_NO_PORT) : (s->flags & ~ST_SF_NO_PORT);
    return s->flags != was;
}

ST_EXPORT int setsockopt(int fd, int level, int name, const void *val,
                         socklen_t len)
{
    if (!NEED(setsockopt))
        return (int)syscall(SYS_setsockopt, fd, level, name, val, len);
    bool watch = level == IPPROTO_IP && name == IP_BIND_ADDRESS_NO_PORT &&
                 len >= sizeof(int) && st_active();
    uint64_t base = watch ? st_word(fd) : 0, t_lo = st_before_loose();
    int ret = REAL(setsockopt)(fd, level, name, val, len);
    int err = errno;
    if (ret == 0 && watch && base) {
        int on;
        memcpy(&on, val, sizeof on);
        struct st_changed c;
        if (st_change_head(fd, base, t_lo, no_port_apply, &on, &c) || st_changed_id(&c))
            st_emit_changed(ST_CALL_SETSOCKOPT, fd, on, ret, err, &c);
    }
    errno = err;
    return ret;
}
