/* tracedir.c - the trace directory: its path, its safety checks, the names
 * of the files in it, and how a process is told apart from a later one
 * with the same pid (its start time in /proc). Its own reads go through
 * syscall(), which in the preload is the private raw one (--wrap=syscall),
 * so they never enter the exported read/open hooks. */
#define _GNU_SOURCE
#include "tracedir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "portable.h"

int st_dir_path(char *buf, size_t size, const char *override)
{
    const char *d = override;
    int n;
    if (!d || !*d)
        d = secure_getenv("SOCKTRACE_DIR");
    if (d && *d) {
        n = snprintf(buf, size, "%s", d);
    } else {
        const char *xdg = secure_getenv("XDG_RUNTIME_DIR");
        if (xdg && *xdg == '/')
            n = snprintf(buf, size, "%s/socktrace", xdg);
        else
            n = snprintf(buf, size, "/tmp/socktrace-%u", (unsigned)geteuid());
    }
    return (n < 0 || (size_t)n >= size) ? -1 : 0;
}

int st_dir_prepare(const char *dir, int create, const char **why)
{
    struct stat st;
    int saved = errno;
    int r = -1;
    if (create && mkdir(dir, 0700) != 0 && errno != EEXIST) {
        *why = errno == ENOENT ? "its parent does not exist" : strerror(errno);
        goto out;
    }
    if (st_lstat(dir, &st) != 0) {
        *why = strerror(errno);
        goto out;
    }
    if (S_ISLNK(st.st_mode)) {
        *why = "it is a symbolic link";
        goto out;
    }
    if (!S_ISDIR(st.st_mode)) {
        *why = "it is not a directory";
        goto out;
    }
    if (st.st_uid != geteuid()) {
        *why = "it belongs to another user";
        goto out;
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        *why = "it is writable by group or others";
        goto out;
    }
    r = 0;
out:
    errno = saved;
    return r;
}

int st_trace_name(char *buf, size_t size, const char *dir, int pid,
                  uint64_t proc_start)
{
    int n = snprintf(buf, size, "%s/%d-%llu.trace", dir, pid,
                     (unsigned long long)proc_start);
    return (n < 0 || (size_t)n >= size) ? -1 : 0;
}

int st_trace_name_parse(const char *name, int *pid, uint64_t *proc_start)
{
    char *end;
    if (*name < '0' || *name > '9')
        return -1;
    errno = 0;
    unsigned long p = strtoul(name, &end, 10);
    if (*end != '-' || p == 0 || p > 0x7fffffffUL || errno)
        return -1;
    const char *s = end + 1;
    if (*s < '0' || *s > '9')
        return -1;
    unsigned long long t = strtoull(s, &end, 10);
    if (strcmp(end, ".trace") != 0 || errno)
        return -1;
    *pid = (int)p;
    *proc_start = t;
    return 0;
}

int st_proc_read(int pid, uint64_t *start, int *ppid, int *ended)
{
    char path[64], buf[1024];
    int saved = errno;
    if (pid)
        snprintf(path, sizeof path, "/proc/%d/stat", pid);
    else
        snprintf(path, sizeof path, "/proc/self/stat");
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        errno = saved;
        return -1;
    }
    ssize_t n = syscall(SYS_read, fd, buf, sizeof buf - 1);
    syscall(SYS_close, fd);
    errno = saved;
    if (n <= 0)
        return -1;
    buf[n] = 0;
    /* comm may hold spaces and parentheses: fields start after the last ')' */
    char *p = strrchr(buf, ')');
    if (!p || p[1] != ' ')
        return -1;
    p += 2; /* field 3, state */
    char state = *p;
    long threads = 0;
    for (int field = 3; field < 22 && p; field++) {
        if (field == 4 && ppid)
            *ppid = (int)strtol(p, NULL, 10);
        if (field == 20)
            threads = strtol(p, NULL, 10);
        p = strchr(p, ' ');
        if (p)
            p++;
    }
    if (!p)
        return -1;
    *start = strtoull(p, NULL, 10);
    /* A zombie has done all it will do, but a thread-group leader that
     * called pthread_exit is a zombie too while its other threads run:
     * num_threads (field 20) still counts them. */
    if (ended)
        *ended = state == 'X' || (state == 'Z' && threads <= 1);
    return 0;
}

int st_proc_stat(int pid, uint64_t *start, int *ppid)
{
    return st_proc_read(pid, start, ppid, NULL);
}

uint64_t st_ns_inode(int pid, const char *name)
{
    char path[64], buf[64];
    if (pid)
        snprintf(path, sizeof path, "/proc/%d/ns/%s", pid, name);
    else
        snprintf(path, sizeof path, "/proc/self/ns/%s", name);
    ssize_t n = syscall(SYS_readlinkat, AT_FDCWD, path, buf, sizeof buf - 1);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    const char *b = strchr(buf, '[');
    uint64_t v = 0;
    for (b = b ? b + 1 : buf + n; *b >= '0' && *b <= '9'; b++)
        v = v * 10 + (uint64_t)(*b - '0');
    return v;
}
