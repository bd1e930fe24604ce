/* hooks_fd.c - the calls that change which fds are sockets without making
 * one: close, dup, dup2, dup3, fcntl (F_DUPFD*, F_SETFD, F_SETFL),
 * close_range, closefrom. close is the hottest path for programs with
 * many files: a non-socket fd costs one hash miss. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "fdindex.h"
#include "hooks.h"
#include "tracer.h"

/* TCP states (the kernel's, not exported to user space) after the peer's
 * FIN has arrived. */
enum {
    ST_TCP_TIME_WAIT = 6,
    ST_TCP_CLOSE_WAIT = 8,
    ST_TCP_LAST_ACK = 9,
    ST_TCP_CLOSING = 11,
};

/* One getsockopt before the close, for tcplife-style byte counts. */
static void tcp_counters(struct st_sock *s, int fd)
{
    if (!st_tcpinfo || s->protocol != IPPROTO_TCP || s->type != SOCK_STREAM ||
        (s->state != ST_STATE_CONNECTED && s->state != ST_STATE_CONNECTING))
        return;
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    memset(&ti, 0, sizeof ti);
    if (st_sys_getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
        len < offsetof(struct tcp_info, tcpi_bytes_received) + 8)
        return;
    /* The kernel's counters are in sequence numbers: bytes_acked counts
     * an active opener's SYN and our acked FIN, bytes_received the peer's
     * FIN. Data octets sent once (sent minus retransmitted, Linux 4.19)
     * have neither; the peer's FIN is known from the state it leaves. */
    if (len >= offsetof(struct tcp_info, tcpi_bytes_retrans) + 8)
        s->bytes_sent = ti.tcpi_bytes_sent - ti.tcpi_bytes_retrans;
    else
        s->bytes_sent = ti.tcpi_bytes_acked;
    s->bytes_received = ti.tcpi_bytes_received;
    if (s->bytes_received && (ti.tcpi_state == ST_TCP_CLOSE_WAIT || ti.tcpi_state == ST_TCP_LAST_ACK ||
                              ti.tcpi_state == ST_TCP_CLOSING || ti.tcpi_state == ST_TCP_TIME_WAIT))
        s->bytes_received--;
    s->rtt_us = ti.tcpi_rtt;
    s->retrans = ti.tcpi_total_retrans;
    s->flags |= ST_SF_TCPINFO;
}

/* close and glibc's __close_nocancel (which other glibc libraries, such
 * as NSS modules, call through the PLT); real is NULL before the
 * constructor resolved it. */
static int close_through(int (*real)(int), int fd)
{
    /* never dlsym here: close runs inside allocators and at exit */
    if (!real)
        return (int)syscall(SYS_close, fd);
    uint64_t id = 0;
    bool nested = st_nested();
    if (!nested && st_enter()) {
        struct st_sock *s = st_find(fd);
        if (s) {
            id = s->sock_id;
            st_edit(s);
            s->flags |= ST_SF_CLOSING;
            tcp_counters(s, fd);
            st_done(s);
        }
        st_leave();
    }
    /* the lock is not held across the real close: it may block (linger) */
    int ret = real(fd);
    int err = errno;
    if (nested) {
        st_defer_close(fd);
    } else if (id && st_enter()) {
        struct st_sock *s = st_find(fd);
        /* another thread may have been handed the same fd number already */
        if (s && s->sock_id == id) {
            st_emit(ST_CALL_CLOSE, fd, -1, ret, err, s);
            st_close_entry(fd, (ret < 0 && err == EBADF) ? ST_SF_CLOSED_UNSEEN : 0);
        }
        st_leave();
    }
    errno = err;
    return ret;
}

ST_EXPORT int close(int fd)
{
    return close_through(st_real.close, fd);
}

ST_EXPORT int __close_nocancel(int fd)
{
    return close_through(st_real.close_nocancel, fd);
}

/* newfd now refers to what oldfd refers to. `replaced` tells whether
 * newfd may have held a socket the program meant to close (dup2/dup3). */
static void dup_entry(int call, int oldfd, int newfd, bool cloexec, bool replaced)
{
    struct st_sock *src = st_find(oldfd);
    struct st_sock *old = oldfd != newfd ? st_find(newfd) : NULL;
    if (old && replaced) {
        st_emit(ST_CALL_CLOSE, newfd, -1, 0, 0, old);
        st_close_entry(newfd, 0);
    } else if (old && !src) {
        /* not a socket we know: an entry under newfd is stale */
        st_close_entry(newfd, ST_SF_CLOSED_UNSEEN);
    }
    if (!src)
        return;
    if (!(src->flags & ST_SF_SHARED)) {
        st_edit(src);
        src->flags |= ST_SF_SHARED;
        st_done(src);
    }
    struct st_sock copy = *src;
    struct st_sock *s = st_open_entry(newfd, copy.family, copy.type,
                                      copy.protocol, ST_ORIGIN_DUP);
    if (s) {
        st_edit(s);
        s->sock_id = copy.sock_id;
        s->local = copy.local;
        s->peer = copy.peer;
        s->state = copy.state;
        s->peers_seen = copy.peers_seen;
        s->flags = (copy.flags & ~(ST_SF_CLOEXEC | ST_SF_CLOSING)) |
                   (cloexec ? ST_SF_CLOEXEC : 0);
        st_done(s);
        st_watch_update(newfd, s);
    }
    st_emit(call, oldfd, newfd, newfd, 0, s);
}

ST_EXPORT int dup(int oldfd)
{
    if (!NEED(dup))
        return (int)syscall(SYS_dup, oldfd);
    int ret = st_real.dup(oldfd);
    int err = errno;
    if (ret >= 0 && st_enter()) {
        dup_entry(ST_CALL_DUP, oldfd, ret, false, false);
        st_leave();
    }
    errno = err;
    return ret;
}

ST_EXPORT int dup2(int oldfd, int newfd)
{
    if (!NEED(dup2))
        return (int)syscall(SYS_dup2, oldfd, newfd);
    int ret = st_real.dup2(oldfd, newfd);
    int err = errno;
    if (ret >= 0 && oldfd != newfd && st_enter()) {
        dup_entry(ST_CALL_DUP2, oldfd, ret, false, true);
        st_leave();
    }
    errno = err;
    return ret;
}

ST_EXPORT int dup3(int oldfd, int newfd, int flags)
{
    if (!NEED(dup3))
        return (int)syscall(SYS_dup3, oldfd, newfd, flags);
    int ret = st_real.dup3(oldfd, newfd, flags);
    int err = errno;
    if (ret >= 0 && st_enter()) {
        dup_entry(ST_CALL_DUP3, oldfd, ret, flags & O_CLOEXEC, true);
        st_leave();
    }
    errno = err;
    return ret;
}

static void fcntl_done(int fd, int cmd, intptr_t arg, int ret)
{
    if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) {
        dup_entry(ST_CALL_FCNTL, fd, ret, cmd == F_DUPFD_CLOEXEC, false);
        return;
    }
    struct st_sock *s = st_find(fd);
    if (!s)
        return;
    uint32_t bit = cmd == F_SETFD ? ST_SF_CLOEXEC : ST_SF_NONBLOCK;
    bool set = cmd == F_SETFD ? (arg & FD_CLOEXEC) : (arg & O_NONBLOCK);
    if (!!(s->flags & bit) == set)
        return;
    st_edit(s);
    s->flags = set ? (s->flags | bit) : (s->flags & ~bit);
    st_done(s);
    st_emit(ST_CALL_FCNTL, fd, cmd, ret, 0, s);
}

static bool fcntl_matters(int cmd)
{
    return cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC || cmd == F_SETFD ||
           cmd == F_SETFL;
}

/* fcntl's third argument is an int or a pointer; like libc, read it as a
 * pointer-sized value and pass it on untouched. */
#define FCNTL_HOOK(name)                                                    \
    ST_EXPORT int name(int fd, int cmd, ...)                                \
    {                                                                       \
        va_list ap;                                                         \
        va_start(ap, cmd);                                                  \
        void *arg = va_arg(ap, void *);                                     \
        va_end(ap);                                                         \
        if (!NEED(name))                                                    \
            return (int)syscall(SYS_fcntl, fd, cmd, arg);                   \
        int ret = st_real.name(fd, cmd, arg);                               \
        int err = errno;                                                    \
        if (ret >= 0 && fcntl_matters(cmd) && st_enter()) {                 \
            fcntl_done(fd, cmd, (intptr_t)arg, ret);                        \
            st_leave();                                                     \
        }                                                                   \
        errno = err;                                                        \
        return ret;                                                         \
    }

FCNTL_HOOK(fcntl)
FCNTL_HOOK(fcntl64)

/* Applies a close_range that succeeded to the table. */
static void range_done(unsigned lo, unsigned hi, int flags)
{
    int lo_i = (int)(lo > INT32_MAX ? INT32_MAX : lo);
    int hi_i = (int)(hi > INT32_MAX ? INT32_MAX : hi);
    int fds[256];
    if (flags & CLOSE_RANGE_CLOEXEC) {
        unsigned n = st_index_range(lo_i, hi_i, fds, 256);
        for (unsigned i = 0; i < n; i++) {
            struct st_sock *s = st_find(fds[i]);
            st_edit(s);
            s->flags |= ST_SF_CLOEXEC;
            st_done(s);
        }
        /* beyond 256 sockets in range, the exec scan still gets it right */
        return;
    }
    unsigned n;
    while ((n = st_index_range(lo_i, hi_i, fds, 256)) > 0)
        for (unsigned i = 0; i < n; i++) {
            st_emit(ST_CALL_CLOSE_RANGE, fds[i], -1, 0, 0, st_find(fds[i]));
            st_close_entry(fds[i], 0);
        }
}

ST_EXPORT int close_range(unsigned int lo, unsigned int hi, int flags)
{
    int ret = NEED(close_range) ? st_real.close_range(lo, hi, flags)
                                : (int)syscall(SYS_close_range, lo, hi, flags);
    int err = errno;
    if (ret == 0 && st_enter()) {
        range_done(lo, hi, flags);
        st_leave();
    }
    errno = err;
    return ret;
}

ST_EXPORT void closefrom(int lo)
{
    int err = errno;
    if (NEED(closefrom))
        st_real.closefrom(lo);
    else
        syscall(SYS_close_range, (unsigned)lo, ~0u, 0);
    if (lo >= 0 && st_enter()) {
        range_done((unsigned)lo, ~0u, 0);
        st_leave();
    }
    errno = err;
}
