/* hooks_ioctl.c - ioctl, for the two requests that change what the table
 * keeps of a socket: FIONBIO (non-blocking; Python's setblocking() uses it,
 * not fcntl) and FIOCLEX/FIONCLEX (close-on-exec). Every other request
 * goes straight to the real call with its argument untouched. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>

#include "hooks.h"
#include "tracer.h"

/* glibc declares the request unsigned long, musl int (as POSIX) */
#ifdef __GLIBC__
typedef unsigned long ioctl_req;
#else
typedef int ioctl_req;
#endif
typedef int (*ioctl_fn)(int, ioctl_req, ...);

/* Not in st_real: nothing but this hook calls it. */
static ioctl_fn real_ioctl;

static bool ioctl_matters(ioctl_req req)
{
    return req == FIONBIO || req == FIOCLEX || req == FIONCLEX;
}

/* ioctl is variadic: like libc, the third argument is read as a
 * pointer-sized value and passed on as it came. */
ST_EXPORT int ioctl(int fd, ioctl_req req, ...)
{
    va_list ap;
    va_start(ap, req);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    ioctl_fn fn = __atomic_load_n(&real_ioctl, __ATOMIC_ACQUIRE);
    if (!fn && st_real_resolve_one((void **)&real_ioctl, "ioctl", (void *)&ioctl))
        fn = __atomic_load_n(&real_ioctl, __ATOMIC_ACQUIRE);
    if (!fn)
        return (int)syscall(SYS_ioctl, fd, req, arg);
    bool on = ioctl_matters(req) && st_active();
    uint64_t base = on ? st_word(fd) : 0;
    uint64_t t_lo = base ? st_before() : 0;
    int ret = fn(fd, req, arg);
    if (ret < 0 || !base)
        return ret;
    int err = errno;
    /* read only after the call succeeded: then the kernel has read it */
    struct st_flag_arg a = {req == FIONBIO ? ST_SF_NONBLOCK : ST_SF_CLOEXEC,
                       req == FIONBIO ? *(const int *)arg != 0 : req == FIOCLEX};
    struct st_changed c;
    st_change_head(fd, base, t_lo, st_flag_apply, &a, &c);
    errno = err;
    return ret;
}
