/* portable.h - fstat and lstat for code that must load in any glibc from
 * 2.17 and in musl: before 2.33 glibc exported no fstat or lstat (a header
 * inline called __fxstat), so a library built on a newer glibc that calls
 * them binds GLIBC_2.33 and fails to load in older images. */
#ifndef SOCKTRACE_PORTABLE_H
#define SOCKTRACE_PORTABLE_H

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The system calls themselves (x86-64: the kernel's struct stat is libc's).
 * Inside the preload, syscall() is the private raw one (--wrap=syscall). */
static inline int st_fstat(int fd, struct stat *st)
{
    return (int)syscall(SYS_fstat, fd, st);
}

static inline int st_lstat(const char *path, struct stat *st)
{
    return (int)syscall(SYS_newfstatat, AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
}

#endif
