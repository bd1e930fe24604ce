/* tracedir.c - the trace directory: its path, its safety checks, the names
 * of the files in it, and how a process is told apart from a later one
 * with the same pid (its start time in /proc). Its own reads go through
 * syscall(), which in the preload is the private raw one (--wrap=syscall),
 * so they never enter the exported read/open hooks. */
#define _GNU_SOURCE
#include "tracedir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "portable.h"

/* The pieces of the names every start-up writes, in .data rather than
 * .rodata: a start-up that reads nothing else of our read-only data then
 * faults no page of it in, while .data shares the page ld.so has written
 * already (portable.h). */
static char tmp_dir[] ST_IN_DATA = "/tmp/socktrace-";
static char xdg_dir[] ST_IN_DATA = "/socktrace";
static char link_sep[] ST_IN_DATA = "/.";

/* Every start-up builds names with st_put, not with snprintf: the printf
 * family's code and tables are three pages a new process would fault in
 * for nothing else. */
size_t st_put(char *buf, size_t size, size_t at, const char *s, uint64_t n)
{
    char digits[20];
    int k = 0;
    if (at >= size)
        return size;
    if (n != ST_NO_NUM)
        do
            digits[k++] = (char)('0' + n % 10);
        while ((n /= 10) != 0);
    for (; (s && *s) || k; at++) {
        if (at + 1 >= size) {
            buf[at] = 0;
            return size;
        }
        buf[at] = s && *s ? *s++ : digits[--k];
    }
    buf[at] = 0;
    return at;
}

int st_dir_path(char *buf, size_t size, const char *override, uid_t euid)
{
    const char *d = override && *override ? override : secure_getenv("SOCKTRACE_DIR");
    return st_dir_path_of(buf, size, d, d && *d ? NULL : secure_getenv("XDG_RUNTIME_DIR"),
                          euid);
}

int st_dir_path_of(char *buf, size_t size, const char *d, const char *xdg, uid_t euid)
{
    size_t n;
    if (d && *d)
        n = st_put(buf, size, 0, d, ST_NO_NUM);
    else if (xdg && *xdg == '/')
        n = st_put(buf, size, st_put(buf, size, 0, xdg, ST_NO_NUM), xdg_dir, ST_NO_NUM);
    else
        n = st_put(buf, size, 0, tmp_dir, (unsigned)euid);
    return n < size ? 0 : -1;
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
    if (st.st_uid != (uid_t)syscall(SYS_geteuid)) {
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
    size_t n = st_put(buf, size, 0, dir, ST_NO_NUM);
    n = st_put(buf, size, st_put(buf, size, n, "/", (uint32_t)pid), "-", proc_start);
    return st_put(buf, size, n, ".trace", ST_NO_NUM) < size ? 0 : -1;
}

int st_link_name(char *buf, size_t size, const char *dir, int pid,
                 const char *suffix)
{
    size_t n = st_put(buf, size, st_put(buf, size, 0, dir, ST_NO_NUM), link_sep, (uint32_t)pid);
    return st_put(buf, size, n, suffix, ST_NO_NUM) < size ? 0 : -1;
}

int st_tmp_name(char *buf, size_t size, const char *dir, int pid, long tid)
{
    size_t n = st_put(buf, size, st_put(buf, size, 0, dir, ST_NO_NUM), link_sep, (uint32_t)pid);
    n = st_put(buf, size, n, "-", (uint64_t)tid);
    return st_put(buf, size, n, ".tmp", ST_NO_NUM) < size ? 0 : -1;
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

/* "/proc/PID", or "/proc/self" for pid 0; its length. */
static size_t proc_dir(char *buf, size_t size, int pid)
{
    return pid ? st_put(buf, size, 0, "/proc/", (uint32_t)pid)
               : st_put(buf, size, 0, "/proc/self", ST_NO_NUM);
}

int st_proc_read(int pid, uint64_t *start, int *ppid, int *ended)
{
    char path[64], buf[1024];
    int saved = errno;
    st_put(path, sizeof path, proc_dir(path, sizeof path, pid), "/stat", ST_NO_NUM);
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
    size_t at = proc_dir(path, sizeof path, pid);
    if (st_put(path, sizeof path, st_put(path, sizeof path, at, "/ns/", ST_NO_NUM), name,
            ST_NO_NUM) >= sizeof path)
        return 0;
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
