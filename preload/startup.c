/* startup.c - the start-up scan of /proc/self/fd. It reads the directory
 * with getdents64 into a stack buffer: no malloc, no stdio, so it is safe
 * however early we run. */
#define _GNU_SOURCE
#include "startup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fdindex.h"
#include "real.h"
#include "tracefile.h"
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
    return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* After exec the table holds the old image's entries: those whose fd was
 * close-on-exec are gone now. */
static void drop_closed_on_exec(void)
{
    uint32_t total = st_slot_total();
    for (uint32_t id = 0; id < total; id++) {
        struct st_sock *s = st_slot(id);
        if (s->state == ST_STATE_FREE)
            continue;
        int fd = s->fd;
        /* gone, or a second entry for one fd (a crash mid-update) */
        if (st_index_find(fd) >= 0 || !is_socket(fd) || st_index_add(fd, id)) {
            st_emit(ST_CALL_CLOSE, fd, -1, 0, 0, s);
            st_close_slot(id, ST_SF_CLOSED_EXEC);
            continue;
        }
        st_edit(s);
        s->flags &= ~(ST_SF_CLOEXEC | ST_SF_CLOSING);
        st_done(s);
        st_watch_update(fd, s);
    }
}

void st_scan_fds(bool reopened)
{
    int saved = errno;
    if (reopened)
        drop_closed_on_exec();
    int dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
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
            if (*end || end == d->d_name || fd == dfd || fd < 0)
                continue;
            if (st_index_find((int)fd) >= 0 || !is_socket((int)fd))
                continue;
            struct st_sock *s = st_adopt((int)fd, ST_ORIGIN_INHERITED);
            if (s)
                st_emit(ST_CALL_INHERIT, (int)fd, -1, 0, 0, s);
        }
    }
    st_sys_close(dfd);
out:
    errno = saved;
}
