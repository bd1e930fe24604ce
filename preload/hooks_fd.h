/* hooks_fd.h - what hooks_fd.c offers syscall(2)'s hook (hooks_syscall.c):
 * the fd calls' recording around the system call itself. */
#ifndef SOCKTRACE_HOOKS_FD_H
#define SOCKTRACE_HOOKS_FD_H

#include <stdbool.h>

/* syscall(n, a, b, c) for close, close_range, dup, dup2, dup3 and the
 * fcntl commands the table follows: made and recorded as the libc call
 * would be; *ret is what syscall() returns (errno set alike). False for
 * any other call, which the caller passes on untouched. */
bool st_fd_syscall(long n, long a, long b, long c, long *ret);

#endif
