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

/* Each function is looked up on its first use, not all at start-up: a
 * dlsym costs microseconds, and most processes (every program a shell
 * script runs) call few of these, or none. */
int st_real_resolve_one(void **field, const char *name, void *self)
{
    if (resolving)
        return 0;
    resolving = 1;
    int saved = errno;
    void *p = next_symbol(name, self);
    errno = saved;
    resolving = 0;
    if (p)
        __atomic_store_n(field, p, __ATOMIC_RELEASE);
    return p != NULL;
}

/* close is resolved at start-up: it must never call dlsym itself, since
 * it runs inside allocators and at exit. */
void st_real_resolve_close(void)
{
    st_real_resolve_one((void **)&st_real.close, "close", (void *)&close);
    st_real_resolve_one((void **)&st_real.close_nocancel, "__close_nocancel",
                        (void *)&__close_nocancel);
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
