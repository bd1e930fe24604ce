/* real.h - the libc functions the hooks stand in front of. Found on first
 * use, as dlsym(RTLD_NEXT) would find them (next_symbol.h), so a call that
 * arrives before our constructor (another library's, a malloc) still works. */
#ifndef SOCKTRACE_REAL_H
#define SOCKTRACE_REAL_H

#include <netdb.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "portable.h"

/* sendmmsg/recvmmsg take their flags as int in glibc, unsigned in musl */
#ifdef __GLIBC__
typedef int st_mmsg_flags;
#else
typedef unsigned int st_mmsg_flags;
/* musl (1.2.3) has the system call but declares no libc function */
int close_range(unsigned int lo, unsigned int hi, int flags);
#endif

struct st_real {
    int (*socket)(int, int, int);
    int (*socketpair)(int, int, int, int[2]);
    int (*bind)(int, const struct sockaddr *, socklen_t);
    int (*listen)(int, int);
    int (*connect)(int, const struct sockaddr *, socklen_t);
    int (*accept)(int, struct sockaddr *, socklen_t *);
    int (*accept4)(int, struct sockaddr *, socklen_t *, int);
    int (*getsockname)(int, struct sockaddr *, socklen_t *);
    int (*getpeername)(int, struct sockaddr *, socklen_t *);
    int (*getsockopt)(int, int, int, void *, socklen_t *);
    int (*setsockopt)(int, int, int, const void *, socklen_t);
    int (*shutdown)(int, int);
    int (*close)(int);
    int (*dup)(int);
    int (*dup2)(int, int);
    int (*dup3)(int, int, int);
    int (*fcntl)(int, int, ...);
    int (*fcntl64)(int, int, ...);
    int (*close_range)(unsigned int, unsigned int, int);
    void (*closefrom)(int);
    ssize_t (*sendto)(int, const void *, size_t, int,
                      const struct sockaddr *, socklen_t);
    ssize_t (*sendmsg)(int, const struct msghdr *, int);
    int (*sendmmsg)(int, struct mmsghdr *, unsigned int, st_mmsg_flags);
    ssize_t (*recvmsg)(int, struct msghdr *, int);
    ssize_t (*send)(int, const void *, size_t, int);
    ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
    int (*recvmmsg)(int, struct mmsghdr *, unsigned int, st_mmsg_flags,
                    struct timespec *);
    ssize_t (*recv)(int, void *, size_t, int);
    ssize_t (*read)(int, void *, size_t);
    ssize_t (*write)(int, const void *, size_t);
    ssize_t (*readv)(int, const struct iovec *, int);
    ssize_t (*writev)(int, const struct iovec *, int);
    ssize_t (*__read_chk)(int, void *, size_t, size_t);
    ssize_t (*__recv_chk)(int, void *, size_t, size_t, int);
    int (*getaddrinfo)(const char *, const char *, const struct addrinfo *,
                       struct addrinfo **);
    struct hostent *(*gethostbyname)(const char *);
    struct hostent *(*gethostbyname2)(const char *, int);
    int (*gethostbyname_r)(const char *, struct hostent *, char *, size_t,
                           struct hostent **, int *);
    int (*gethostbyname2_r)(const char *, int, struct hostent *, char *, size_t,
                            struct hostent **, int *);
    long (*syscall)(long, ...);
};

extern struct st_real st_real;

/* Sets *field to the next definition of name (not self). Returns 0 while
 * a resolution is already running on this thread (an IFUNC resolver could
 * call back into us) or when there is none: the caller then uses the raw
 * system call. */
int st_real_resolve_one(void **field, const char *name, void *self);
/* close, at start-up (see real.c). */
void st_real_resolve_close(void);
#ifdef __GLIBC__
/* glibc exports it (GLIBC_PRIVATE) without declaring it */
int __close_nocancel(int fd);
#endif

/* A system call made here, never through a hook. The library exports
 * syscall(2), so a plain syscall() inside it would bind to that hook
 * through the PLT (recording the tracer's own closes, or recursing): the
 * link (-Wl,--wrap=syscall) sends every internal syscall() to
 * __wrap_syscall in real.c, which is this. Unused arguments are whatever
 * the caller left in the registers, as with libc's syscall(). */
long st_raw_syscall(long n, long a, long b, long c, long d, long e, long f);
/* The next syscall() behind ours (libc's, or another interposer's) when it
 * has been looked up (with the first lookup of any real function), else
 * the raw call: never a lookup. */
long st_next_syscall(long n, long a, long b, long c, long d, long e, long f);
/* Our own syscall() (hooks_syscall.c): the exported entry, for telling it
 * from the next one, and the hook in C behind it. */
long st_syscall_entry(long n, ...);
long st_syscall_hook(long n, ...);

/* The tracer's own uses of these calls: errno is preserved, the hooks are
 * never entered, and close never looks a symbol up. The tracer's own files are
 * opened and closed with the system calls alike, so no interposer (a
 * sanitizer's included) sees one half of the pair. */
int st_sys_open(const char *path, int flags, int mode);
int st_sys_close(int fd);
ssize_t st_sys_write(int fd, const void *buf, size_t n);
ssize_t st_sys_pread(int fd, void *buf, size_t n, off_t off);
ssize_t st_sys_readlink(const char *path, char *buf, size_t n);
int st_sys_getsockname(int fd, struct sockaddr *sa, socklen_t *len);
int st_sys_getpeername(int fd, struct sockaddr *sa, socklen_t *len);
int st_sys_getsockopt(int fd, int level, int name, void *val, socklen_t *len);

#endif
