/* portable.h - fstat and lstat for code that must load in any glibc from
 * 2.17 and in musl: before 2.33 glibc exported no fstat or lstat (a header
 * inline called __fxstat), so a library built on a newer glibc that calls
 * them binds GLIBC_2.33 and fails to load in older images. And where the
 * linker puts our large arrays. */
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

/* A large zero-filled array (a global, and named st_*, for it is a common
 * symbol): the linker lays common symbols out after every .bss section,
 * so such an array does not stand between the small state that every
 * start-up touches. That state then shares the page ld.so has written
 * already (the end of .data, where .bss begins): no page fault of its own.
 * GNU ld, gold and lld alike; gcc and clang both take the attribute. */
#define ST_BSS_LAST __attribute__((common))

/* Constant data a start-up reads, kept in that same page rather than in
 * .rodata, a page of its own (tracedir.c). Named, for clang would move an
 * array it sees never written into .rodata. */
#define ST_IN_DATA __attribute__((section(".data")))

#endif
