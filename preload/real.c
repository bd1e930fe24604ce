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

#define RESOLVE(field, name) \
    do { if (!st_real.field) \
        *(void **)&st_real.field = next_symbol(#name, (void *)&name); } while (0)

int st_real_resolve(void)
{
    if (resolving)
        return -1;
    resolving = 1;
    int saved = errno;
    RESOLVE(socket, socket);
    RESOLVE(socketpair, socketpair);
    RESOLVE(bind, bind);
    RESOLVE(listen, listen);
    RESOLVE(connect, connect);
    RESOLVE(accept, accept);
    RESOLVE(accept4, accept4);
    RESOLVE(getsockname, getsockname);
    RESOLVE(getpeername, getpeername);
    RESOLVE(getsockopt, getsockopt);
    RESOLVE(setsockopt, setsockopt);
    RESOLVE(shutdown, shutdown);
    RESOLVE(close, close);
    RESOLVE(close_nocancel, __close_nocancel);
    RESOLVE(dup, dup);
    RESOLVE(dup2, dup2);
    RESOLVE(dup3, dup3);
    RESOLVE(fcntl, fcntl);
    RESOLVE(fcntl64, fcntl64);
    RESOLVE(close_range, close_range);
    RESOLVE(closefrom, closefrom);
    RESOLVE(sendto, sendto);
    RESOLVE(sendmsg, sendmsg);
    RESOLVE(sendmmsg, sendmmsg);
    RESOLVE(recvmsg, recvmsg);
    RESOLVE(send, send);
    RESOLVE(recvfrom, recvfrom);
    RESOLVE(recvmmsg, recvmmsg);
    RESOLVE(getaddrinfo, getaddrinfo);
    RESOLVE(gethostbyname, gethostbyname);
    RESOLVE(gethostbyname2, gethostbyname2);
    RESOLVE(gethostbyname_r, gethostbyname_r);
    RESOLVE(gethostbyname2_r, gethostbyname2_r);
    errno = saved;
    resolving = 0;
    return 0;
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
