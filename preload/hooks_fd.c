/* hooks_fd.c - the calls that change which fds are sockets without making
 * one: close, dup, dup2, dup3, fcntl (F_DUPFD*, F_SETFD, F_SETFL),
 * close_range, closefrom, and the same made through syscall(2)
 * (st_fd_syscall). close is the hottest path for programs with many
 * files: a non-socket fd costs a load or two. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "hooks.h"
#include "hooks_fd.h"
#include "tracefile.h"
#include "outcome.h"
#include "tracer.h"

/* close and glibc's __close_nocancel (which other glibc libraries, such
 * as NSS modules, call through the PLT); real is NULL before the
 * constructor resolved it. A signal handler's close takes the same path:
 * nothing here waits for the code it interrupted. */
static int close_through(int (*real)(int), int fd)
{
    /* never a symbol lookup here: close runs inside allocators and at exit */
    if (!real)
        return (int)syscall(SYS_close, fd);
    struct st_closing c;
    bool on = st_active();
    if (on)
        st_close_begin(fd, &c, true);
    /* the real close may block (linger): the slot is only marked meanwhile */
    int ret = real(fd);
    int err = errno;
    if (on && c.marked) {
        const struct st_sock *s = st_close_end(&c, ret, err);
        if (s)
            st_emit(ST_CALL_CLOSE, fd, -1, ret, err, s);
    }
    errno = err;
    return ret;
}

/* syscall(SYS_close, fd), as libuv closes (Node.js, uvloop) */
static int sys_close(int fd)
{
    return (int)st_next_syscall(SYS_close, fd, 0, 0, 0, 0, 0);
}

ST_EXPORT int close(int fd)
{
    return close_through(REAL(close), fd);
}

#ifdef __GLIBC__
static int raw_close(int fd)
{
    return (int)syscall(SYS_close, fd);
}

ST_EXPORT int __close_nocancel(int fd)
{
    /* what glibc's does: the system call, no cancellation point */
    return close_through(raw_close, fd);
}
#endif

/* newfd now refers to what oldfd refers to. m: the mark dup2 and dup3
 * set on newfd before the call (NULL for dup and F_DUPFD). */
static void dup_done(int call, int oldfd, int newfd, bool cloexec,
                     const struct st_mark *m, uint64_t t_lo)
{
    struct st_sock src, s;
    uint64_t w;
    bool known = st_get_at(oldfd, &src, &w);
    /* a stale entry (its socket closed unseen, the number reused by a
     * pipe) must not make newfd a socket: settled by the kernel, then
     * read again */
    if (known && !st_confirm(oldfd, &src))
        known = st_get_at(oldfd, &src, &w);
    if (!known) {
        /* not a socket we know: whatever newfd held is gone */
        if (st_word(newfd))
            st_ask(newfd, ST_ORIGIN_FOUND, NULL, &s);
    } else {
        /* the copy is good only if oldfd's entry was settled before the
         * call and nothing was changing it: else newfd is the kernel's
         * to say */
        bool settled = !(w & ST_W_CLOSING) && src.t_hi < t_lo;
        s = src;
        s.serial = 0;
        s.origin = ST_ORIGIN_DUP;
        s.flags = (src.flags & ~(ST_SF_CLOEXEC | ST_SF_ASKED)) | ST_SF_SHARED |
                  (cloexec ? ST_SF_CLOEXEC : 0);
        s.opened_ns = 0;
        if (settled)
            st_open(newfd, t_lo, &s, m);
        else
            st_ask(newfd, ST_ORIGIN_DUP, &s, &s);
    }
    if (m && m->ours) {
        /* the socket the call displaced: closed by it */
        struct st_sock closed = m->s;
        st_outcome_closed(&closed);
        st_set_closed(&closed);
        closed.closed_ns = st_now();
        st_history(&closed);
        st_emit(ST_CALL_CLOSE, newfd, -1, 0, 0, &closed);
    }
    if (known || st_word(newfd))
        st_emit(call, oldfd, newfd, newfd, 0, known ? &s : NULL);
}

/* How a hook makes its real call: through libc's function (which NEED
 * has looked up), or, for syscall(2), through the system call. */
enum via { VIA_LIBC, VIA_SYSCALL };

static int dup_through(enum via via, int oldfd)
{
    bool on = st_active();
    uint64_t t_lo = on ? st_before() : 0;
    int ret = via == VIA_LIBC ? REAL(dup)(oldfd)
                              : (int)st_next_syscall(SYS_dup, oldfd, 0, 0, 0, 0, 0);
    int err = errno;
    if (ret >= 0 && on && st_word(oldfd))
        dup_done(ST_CALL_DUP, oldfd, ret, false, NULL, t_lo);
    errno = err;
    return ret;
}

ST_EXPORT int dup(int oldfd)
{
    if (!NEED(dup))
        return (int)syscall(SYS_dup, oldfd);
    return dup_through(VIA_LIBC, oldfd);
}

/* dup2 and dup3: newfd is marked before the call. */
static int dup_onto(enum via via, int call, int oldfd, int newfd, int flags)
{
    bool on = st_active() && oldfd != newfd;
    struct st_mark m = {0, false, {0}};
    if (on)
        st_mark(newfd, &m);
    uint64_t t_lo = on ? st_before() : 0;
    int ret;
    if (via == VIA_SYSCALL)
        ret = call == ST_CALL_DUP2 ? (int)st_next_syscall(SYS_dup2, oldfd, newfd, 0, 0, 0, 0)
                                   : (int)st_next_syscall(SYS_dup3, oldfd, newfd, flags, 0, 0, 0);
    else
        ret = call == ST_CALL_DUP2 ? REAL(dup2)(oldfd, newfd)
                                   : REAL(dup3)(oldfd, newfd, flags);
    int err = errno;
    if (ret >= 0 && on && (m.word || st_word(oldfd)))
        dup_done(call, oldfd, ret, flags & O_CLOEXEC, &m, t_lo);
    else if (ret < 0 && on)
        st_unmark(newfd, &m);
    errno = err;
    return ret;
}

ST_EXPORT int dup2(int oldfd, int newfd)
{
    if (!NEED(dup2))
        return (int)syscall(SYS_dup2, oldfd, newfd);
    return dup_onto(VIA_LIBC, ST_CALL_DUP2, oldfd, newfd, 0);
}

ST_EXPORT int dup3(int oldfd, int newfd, int flags)
{
    if (!NEED(dup3))
        return (int)syscall(SYS_dup3, oldfd, newfd, flags);
    return dup_onto(VIA_LIBC, ST_CALL_DUP3, oldfd, newfd, flags);
}

static void fcntl_done(int fd, int cmd, intptr_t arg, int ret, uint64_t base,
                       uint64_t t_lo)
{
    if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) {
        if (st_word(fd))
            dup_done(ST_CALL_FCNTL, fd, ret, cmd == F_DUPFD_CLOEXEC, NULL, t_lo);
        return;
    }
    if (!base)
        return;
    /* the flags of a pipe that took a stale entry's number are not the
     * socket's */
    struct st_sock cur;
    if (st_get(fd, &cur) && !st_confirm(fd, &cur))
        return;
    struct st_flag_arg a = {cmd == F_SETFD ? ST_SF_CLOEXEC : ST_SF_NONBLOCK,
                       cmd == F_SETFD ? (arg & FD_CLOEXEC) : (arg & O_NONBLOCK)};
    struct st_changed c;
    if (st_change_head(fd, base, t_lo, st_flag_apply, &a, &c))
        st_emit_changed(ST_CALL_FCNTL, fd, cmd, ret, 0, &c);
}

static bool fcntl_matters(int cmd)
{
    return cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC || cmd == F_SETFD ||
           cmd == F_SETFL;
}

/* real: libc's fcntl or fcntl64; NULL: the system call (syscall(2)). */
static int fcntl_through(int (*real)(int, int, ...), int fd, int cmd, void *arg)
{
    bool on = fcntl_matters(cmd) && st_active();
    uint64_t base = on ? st_word(fd) : 0;
    uint64_t t_lo = on ? (base ? st_before() : 0) : 0;
    int ret = real ? real(fd, cmd, arg)
                   : (int)st_next_syscall(SYS_fcntl, fd, cmd, (long)arg, 0, 0, 0);
    int err = errno;
    if (ret >= 0 && on && base)
        fcntl_done(fd, cmd, (intptr_t)arg, ret, base, t_lo);
    errno = err;
    return ret;
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
        return fcntl_through(REAL(name), fd, cmd, arg);                     \
    }

FCNTL_HOOK(fcntl)
FCNTL_HOOK(fcntl64)

static int clamp(unsigned v)
{
    return (int)(v > INT32_MAX ? INT32_MAX : v);
}

static int range_through(enum via via, unsigned int lo, unsigned int hi, int flags)
{
    bool on = st_active() && st_hdr();
    bool closes = !(flags & CLOSE_RANGE_CLOEXEC);
    uint64_t t_lo = on ? st_before() : 0;
    if (on && closes)
        st_range_begin(clamp(lo), clamp(hi));
    int ret = via == VIA_LIBC && NEED(close_range)
                  ? REAL(close_range)(lo, hi, flags)
                  : (int)st_next_syscall(SYS_close_range, lo, hi, flags, 0, 0, 0);
    int err = errno;
    if (on && ret == 0 && closes)
        st_range_end(clamp(lo), clamp(hi), ST_CALL_CLOSE_RANGE, t_lo);
    else if (on && ret == 0)
        st_range_cloexec(clamp(lo), clamp(hi), t_lo);
    else if (on && closes)
        st_range_abort(clamp(lo), clamp(hi));
    errno = err;
    return ret;
}

ST_EXPORT int close_range(unsigned int lo, unsigned int hi, int flags)
{
    return range_through(VIA_LIBC, lo, hi, flags);
}

ST_EXPORT void closefrom(int lo)
{
    int err = errno;
    bool on = lo >= 0 && st_active() && st_hdr();
    uint64_t t_lo = on ? st_before() : 0;
    if (on)
        st_range_begin(lo, INT32_MAX);
    if (NEED(closefrom))
        REAL(closefrom)(lo);
    else
        syscall(SYS_close_range, (unsigned)lo, ~0u, 0);
    if (on)
        st_range_end(lo, INT32_MAX, ST_CALL_CLOSE_RANGE, t_lo);
    errno = err;
}

bool st_fd_syscall(long n, long a, long b, long c, long *ret)
{
    /* the kernel takes these as ints (unsigned for close and close_range):
     * the upper halves of the registers are not read, so not here either */
    switch (n) {
    case SYS_close:
        *ret = close_through(sys_close, (int)a);
        return true;
    case SYS_close_range:
        *ret = range_through(VIA_SYSCALL, (unsigned)a, (unsigned)b, (int)c);
        return true;
    case SYS_dup:
        *ret = dup_through(VIA_SYSCALL, (int)a);
        return true;
    case SYS_dup2:
        *ret = dup_onto(VIA_SYSCALL, ST_CALL_DUP2, (int)a, (int)b, 0);
        return true;
    case SYS_dup3:
        *ret = dup_onto(VIA_SYSCALL, ST_CALL_DUP3, (int)a, (int)b, (int)c);
        return true;
    case SYS_fcntl:
        if (!fcntl_matters((int)b))
            return false;
        *ret = fcntl_through(NULL, (int)a, (int)b, (void *)c);
        return true;
    }
    return false;
}
