/* hooks_syscall.c - syscall(2), through which some runtimes make their
 * socket calls (libuv, so Node.js and uvloop, closes with
 * syscall(SYS_close, fd); bind9's tools too) and some daemons their
 * children (vsftpd clones each session). Those numbers are recorded as
 * the libc calls are; every other number goes straight to the next
 * syscall() with all six arguments, its return value and errno untouched. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/sched.h>
#include <sys/socket.h>

#include "hooks.h"
#include "hooks_fd.h"
#include "newproc.h"
#include "tracer.h"

#ifndef SYS_clone3
#define SYS_clone3 435
#endif

/* The x86-64 numbers below 64 that are socket or fd calls we follow, as
 * one mask: the test on the pass-through path is a compare and a bit
 * test. */
#define BIT(n) (1ull << (n))
#define LOW_CALLS                                                           \
    (BIT(SYS_close) | BIT(SYS_dup) | BIT(SYS_dup2) | BIT(SYS_socket) |      \
     BIT(SYS_connect) | BIT(SYS_accept) | BIT(SYS_sendto) |                 \
     BIT(SYS_recvfrom) | BIT(SYS_sendmsg) | BIT(SYS_recvmsg) |              \
     BIT(SYS_shutdown) | BIT(SYS_bind) | BIT(SYS_listen) |                  \
     BIT(SYS_getsockname) | BIT(SYS_getpeername) | BIT(SYS_socketpair) |    \
     BIT(SYS_setsockopt) | BIT(SYS_getsockopt) | BIT(SYS_clone) | BIT(SYS_fork))
_Static_assert(SYS_getsockopt < 64 && SYS_close < 64 && SYS_fork < 64, "x86-64 numbers");

static bool followed(long n)
{
    if ((unsigned long)n < 64)
        return (LOW_CALLS >> n) & 1;
    return n == SYS_fcntl || n == SYS_accept4 || n == SYS_dup3 ||
           n == SYS_close_range || n == SYS_sendmmsg || n == SYS_recvmmsg ||
           n == SYS_clone3;
}

/* clone, clone3 and fork made here return in the child too (with no new
 * stack: a child given one cannot return from syscall() at all). A child
 * with memory of its own gets its file now, as fork()'s does; one sharing
 * ours (CLONE_VM: a thread) finds our page armed and stays in our file. */
static long clone_call(long n, long a, long b, long c, long d, long e, long f)
{
    /* a child sharing our memory is a thread (or vfork-like): the child's
     * start-up would tear down the parent's own mapping */
    unsigned long flags = n == SYS_clone ? (unsigned long)a
                        : n == SYS_clone3 && a ? (unsigned long)((const struct clone_args *)a)->flags
                        : 0;
    long ret = st_next_syscall(n, a, b, c, d, e, f);
    if (ret == 0 && !(flags & CLONE_VM)) {
        int saved = errno;
        st_newproc_child();
        errno = saved;
    }
    return ret;
}

/* The socket calls go through our own hooks of the libc functions, which
 * make the same system call (libc's wrappers add nothing but a
 * cancellation point) and record it. The arguments are cast to the types
 * the kernel reads: an int argument's upper half is not the kernel's. */
static long socket_call(long n, long a, long b, long c, long d, long e, long f)
{
    switch (n) {
    case SYS_socket:
        return socket((int)a, (int)b, (int)c);
    case SYS_socketpair:
        return socketpair((int)a, (int)b, (int)c, (int *)d);
    case SYS_bind:
        return bind((int)a, (const struct sockaddr *)b, (socklen_t)c);
    case SYS_listen:
        return listen((int)a, (int)b);
    case SYS_connect:
        return connect((int)a, (const struct sockaddr *)b, (socklen_t)c);
    case SYS_accept:
        return accept((int)a, (struct sockaddr *)b, (socklen_t *)c);
    case SYS_accept4:
        return accept4((int)a, (struct sockaddr *)b, (socklen_t *)c, (int)d);
    case SYS_shutdown:
        return shutdown((int)a, (int)b);
    case SYS_getsockname:
        return getsockname((int)a, (struct sockaddr *)b, (socklen_t *)c);
    case SYS_getpeername:
        return getpeername((int)a, (struct sockaddr *)b, (socklen_t *)c);
    case SYS_getsockopt:
        return getsockopt((int)a, (int)b, (int)c, (void *)d, (socklen_t *)e);
    case SYS_setsockopt:
        return setsockopt((int)a, (int)b, (int)c, (const void *)d, (socklen_t)e);
    case SYS_sendto:
        return sendto((int)a, (const void *)b, (size_t)c, (int)d,
                      (const struct sockaddr *)e, (socklen_t)f);
    case SYS_recvfrom:
        return recvfrom((int)a, (void *)b, (size_t)c, (int)d, (struct sockaddr *)e,
                        (socklen_t *)f);
    case SYS_sendmsg:
        return sendmsg((int)a, (const struct msghdr *)b, (int)c);
    case SYS_recvmsg:
        return recvmsg((int)a, (struct msghdr *)b, (int)c);
    case SYS_sendmmsg:
        return sendmmsg((int)a, (struct mmsghdr *)b, (unsigned)c, (int)d);
    case SYS_recvmmsg:
        return recvmmsg((int)a, (struct mmsghdr *)b, (unsigned)c, (int)d,
                        (struct timespec *)e);
    }
    return st_next_syscall(n, a, b, c, d, e, f);
}

/* Six arguments are read whatever the number, as libc's syscall() reads
 * six registers: what a caller did not pass is passed on as it was.
 * Reached from syscall (below) for every number but vfork. */
long st_syscall_hook(long n, ...)
{
    va_list ap;
    va_start(ap, n);
    long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long);
    long d = va_arg(ap, long), e = va_arg(ap, long), f = va_arg(ap, long);
    va_end(ap);
    /* a vfork child, and a process not traced, pass straight through */
    if (__builtin_expect(followed(n), 0) && st_active()) {
        long ret;
        if (n == SYS_clone || n == SYS_clone3 || n == SYS_fork)
            return clone_call(n, a, b, c, d, e, f);
        if (st_fd_syscall(n, a, b, c, &ret))
            return ret;
        return socket_call(n, a, b, c, d, e, f);
    }
    /* never a symbol lookup here (signal handlers call syscall()): the next
     * syscall() is looked up with the first real function any hook needs */
    return st_next_syscall(n, a, b, c, d, e, f);
}

#if defined(__x86_64__)
/* The exported syscall. syscall(SYS_vfork)'s child runs on its parent's
 * stack and would write over any frame of ours the parent returns
 * through: it takes vfork()'s own path (hooks_vfork.c), which keeps the
 * return address in a register and marks the child. st_syscall_entry is
 * real.c's name for it, to tell our syscall() from the next one. */
__asm__(
    ".text\n"
    ".globl syscall\n"
    ".type syscall,@function\n"
    ".globl st_syscall_entry\n"
    ".hidden st_syscall_entry\n"
    "st_syscall_entry:\n"
    "syscall:\n"
    "    endbr64\n"
    "    cmpq $58, %rdi\n"             /* SYS_vfork */
    "    je st_vfork_entry\n"
    "    jmp st_syscall_hook\n"
    ".size syscall, .-syscall\n");
#else
extern __typeof(st_syscall_hook) syscall
    __attribute__((alias("st_syscall_hook"), visibility("default")));
extern __typeof(st_syscall_hook) st_syscall_entry __attribute__((alias("st_syscall_hook")));
#endif
