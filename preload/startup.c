/* startup.c - the scan of /proc/self/fd at start-up, after exec and in a
 * forked child. It reads the directory with getdents64 into a stack
 * buffer: no malloc, no stdio, so it is safe however early we run. */
#define _GNU_SOURCE
#include "startup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "real.h"
#include "tracer.h"

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

static bool is_socket(int fd)
{
    struct stat st;
    return st_fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

static void enter(int fd, int origin, struct st_header *hints)
{
    struct st_sock hint, s;
    bool have_hint = hints && st_get_in(hints, fd, &hint);
    bool known = !hints && st_get(fd, &s);
    if (st_ask(fd, origin, have_hint ? &hint : NULL, &s) && !known && !have_hint)
        st_emit(ST_CALL_INHERIT, fd, -1, 0, 0, &s);
}

/* fds below this are looked at with one poll at start-up */
#define QUICK_FDS 64

/* The sockets among fds 0..QUICK_FDS-1: one poll says which are open (a
 * closed one answers POLLNVAL), an fstat each which are sockets. True when
 * the last eight are open too: the process likely has more above, and
 * the full scan is worth its cost (reading /proc/self/fd in a new process
 * costs some 30 us, ten times this). */
static bool quick_scan(int origin)
{
    struct pollfd p[QUICK_FDS];
    for (int i = 0; i < QUICK_FDS; i++) {
        p[i].fd = i;
        p[i].events = 0;
    }
    if (poll(p, QUICK_FDS, 0) < 0)
        return true;
    int busy = 0;
    for (int i = 0; i < QUICK_FDS; i++) {
        if (p[i].revents & POLLNVAL)
            continue;
        if (i >= QUICK_FDS - 8)
            busy++;
        if (is_socket(i))
            enter(i, origin, NULL);
    }
    return busy > 0;
}

void st_scan_fds(int origin, struct st_header *hints, bool quick)
{
    int saved = errno;
    if (quick && !quick_scan(origin))
        goto out;
    int dfd = st_sys_open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (dfd < 0)
        goto out;
    char buf[4096] __attribute__((aligned(8)));
    for (;;) {
        long n = syscall(SYS_getdents64, dfd, buf, sizeof buf);
        if (n <= 0)
            break;
        for (long off = 0; off < n;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
            off += d->d_reclen;
            char *end;
            long fd = strtol(d->d_name, &end, 10);
            if (*end || end == d->d_name || fd == dfd || fd < 0 || fd > INT32_MAX)
                continue;
            if (is_socket((int)fd))
                enter((int)fd, origin, hints);
        }
    }
    st_sys_close(dfd);
out:
    errno = saved;
}
