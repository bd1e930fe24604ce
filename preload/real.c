/* real.c - resolution of the real libc functions behind our hooks, and the
 * tracer's own system calls, which must not go through the hooks: inside
 * libsocktrace.so a plain call to close() binds to our own close(). */
#define _GNU_SOURCE
#include "real.h"

#include <dlfcn.h>
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
    void *p = dlsym(RTLD_NEXT, name);
    return p == self ? NULL : p;
}

/* glibc's own name for close, bound by the loader: no dlsym at start-up */
extern int __close(int fd);
static int close_looked_up;

/* Each function is looked up on its first use, not all at start-up: a
 * dlsym costs microseconds, and most processes (every program a shell
 * script runs) call few of these, or none. The first lookup also looks up
 * close behind us (another preload may stand between us and libc): close
 * itself must never call dlsym, since it runs inside allocators. */
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
    }
    errno = saved;
    resolving = 0;
    if (p)
        __atomic_store_n(field, p, __ATOMIC_RELEASE);
    return p != NULL;
}

void st_real_resolve_close(void)
{
    st_real.close = __close;
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
