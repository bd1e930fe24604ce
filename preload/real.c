/* real.c - resolution of the real libc functions behind our hooks, and the
 * tracer's own system calls, which must not go through the hooks: inside
 * libsocktrace.so a plain call to close() binds to our own close(), and a
 * plain syscall() to our own syscall() but for the link's --wrap. */
#define _GNU_SOURCE
#include "real.h"

#include "next_symbol.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

struct st_real st_real;

static __thread int resolving __attribute__((tls_model("initial-exec")));

/* A symbol that resolves back into this library would make a hook call
 * itself forever; leave it NULL so the raw system call is used. */
static void *next_symbol(const char *name, void *self)
{
    void *p = st_next_symbol(name);
    return p == self ? NULL : p;
}

#ifdef __GLIBC__
/* glibc's own name for close, bound by the loader: no lookup at start-up.
 * Weak, so a libc without it leaves it NULL rather than failing to load. */
extern int __close(int fd) __attribute__((weak));
#endif
static int close_looked_up;

/* close without libc, until the first lookup finds the next close: what
 * musl's close does (EINTR is success: the fd is gone either way) */
static int close_syscall(int fd)
{
    int r = (int)syscall(SYS_close, fd);
    return r == -1 && errno == EINTR ? 0 : r;
}

/* Each function is looked up on its first use, not all at start-up: a
 * lookup reads other objects' symbol tables (pages a process may never
 * touch otherwise), and most processes (every program a shell script
 * runs) call few of these, or none. The first lookup also looks up close
 * and syscall behind us (another preload may stand between us and libc):
 * those two must never look anything up, since they run inside
 * allocators and signal handlers. */
int st_real_resolve_one(void **field, const char *name, void *self)
{
    if (resolving)
        return 0;
    resolving = 1;
    int saved = errno;
    void *p = next_symbol(name, self);
    if (!close_looked_up) {
        close_looked_up = 1;
        void *c = next_symbol("close", (void *)&close);
        if (c)
            __atomic_store_n((void **)&st_real.close, c, __ATOMIC_RELEASE);
        /* syscall's hook never looks anything up either: programs call
         * syscall() from signal handlers (gettid, tgkill) and allocators;
         * until this runs it makes the system call itself, as libc's
         * would */
        void *sc = next_symbol("syscall", (void *)&st_syscall_entry);
        if (sc)
            __atomic_store_n((void **)&st_real.syscall, sc, __ATOMIC_RELEASE);
    }
    errno = saved;
    resolving = 0;
    if (p)
        __atomic_store_n(field, p, __ATOMIC_RELEASE);
    return p != NULL;
}

void st_real_resolve_close(void)
{
#ifdef __GLIBC__
    if (__close) {
        st_real.close = __close;
        return;
    }
#endif
    st_real.close = close_syscall;
}

#if !defined(__x86_64__)
#error "st_raw_syscall is written for x86-64 (the hooks use its numbers too)"
#endif

long st_raw_syscall(long n, long a, long b, long c, long d, long e, long f)
{
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "0"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    /* what libc's syscall() does with the kernel's -errno */
    if ((unsigned long)ret > -4096ul) {
        errno = (int)-ret;
        return -1;
    }
    return ret;
}

/* Every internal syscall() lands here (the Makefile's --wrap=syscall).
 * Callers use libc's variadic prototype; on x86-64 a variadic call passes
 * integer arguments where this non-variadic definition reads them, and
 * reading the slots of arguments a caller did not pass is what libc's own
 * syscall() does (no va_arg walking the caller's frame, which the
 * sanitizer build would check). */
long __wrap_syscall(long n, long a, long b, long c, long d, long e, long f);
long __wrap_syscall(long n, long a, long b, long c, long d, long e, long f)
{
    return st_raw_syscall(n, a, b, c, d, e, f);
}

long st_next_syscall(long n, long a, long b, long c, long d, long e, long f)
{
    long (*next)(long, ...) = __atomic_load_n(&st_real.syscall, __ATOMIC_ACQUIRE);
    return next ? next(n, a, b, c, d, e, f) : st_raw_syscall(n, a, b, c, d, e, f);
}

int st_sys_open(const char *path, int flags, int mode)
{
    return (int)syscall(SYS_openat, AT_FDCWD, path, flags, mode);
}

int st_sys_close(int fd)
{
    int saved = errno;
    int r = (int)syscall(SYS_close, fd);
    errno = saved;
    return r;
}

ssize_t st_sys_write(int fd, const void *buf, size_t n)
{
    int saved = errno;
    ssize_t r = syscall(SYS_write, fd, buf, n);
    errno = saved;
    return r;
}

ssize_t st_sys_pread(int fd, void *buf, size_t n, off_t off)
{
    int saved = errno;
    ssize_t r = syscall(SYS_pread64, fd, buf, n, off);
    errno = saved;
    return r;
}

ssize_t st_sys_readlink(const char *path, char *buf, size_t n)
{
    int saved = errno;
    ssize_t r = syscall(SYS_readlinkat, AT_FDCWD, path, buf, n);
    errno = saved;
    return r;
}

int st_sys_getsockname(int fd, struct sockaddr *sa, socklen_t *len)
{
    int saved = errno;
    int r = (int)syscall(SYS_getsockname, fd, sa, len);
    errno = saved;
    return r;
}

int st_sys_getpeername(int fd, struct sockaddr *sa, socklen_t *len)
{
    int saved = errno;
    int r = (int)syscall(SYS_getpeername, fd, sa, len);
    errno = saved;
    return r;
}

int st_sys_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
    int saved = errno;
    int r = (int)syscall(SYS_getsockopt, fd, level, name, val, len);
    errno = saved;
    return r;
}
