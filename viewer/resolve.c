/* resolve.c - a loaded trace set against /proc (resolve.h). The reader
 * (snapshot.c) never looks at /proc; what the kernel says about the
 * process is decided here, once per load. */
#define _GNU_SOURCE
#include "resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "nsmap.h"
#include "proc_exec.h"
#include "trace_read.h"
#include "tracedir.h"

/* After the table is read: whether the process left the tracer by exec.
 * Returns 1 when the file should be read again (a new image took it over
 * meanwhile). */
static int exec_state(const struct st_header *live, struct snapshot *s)
{
    snap_exec_mark(live, s);
    if (!s->exec_pending)
        return 0;
    if (!s->alive) {
        /* a traced image clears the mark, a failed exec takes it back:
         * what ended with it set ran an untraced program last */
        s->exec_untraced = !(s->h.flags & ST_HF_EXITED);
        return 0;
    }
    bool untraced;
    int r = proc_exec_check(s->h.pid, &live->exec_pending, &untraced);
    if (r == 1)
        return 1;
    if (r < 0) {
        s->alive = snap_is_alive(&s->h);
        s->exec_untraced = !s->alive && !(s->h.flags & ST_HF_EXITED);
        return 0;
    }
    s->exec_untraced = untraced;
    if (untraced)
        s->command_now_len = proc_cmdline(s->h.pid, s->command_now, sizeof s->command_now);
    return 0;
}

/* Run by the reader while the file is mapped: the exec check watches the
 * live header's mark. */
static int while_mapped(const struct st_header *live, struct snapshot *s)
{
    nsmap_resolve(s);       /* a container's pids into the viewer's */
    s->alive = snap_is_alive(&s->h);
    return exec_state(live, s);
}

static void read_comm(struct snapshot *s)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/comm", s->h.pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    if (fgets(s->comm, sizeof s->comm, f))
        s->comm[strcspn(s->comm, "\n")] = 0;
    fclose(f);
}

int snap_load(const char *path, unsigned what, struct snapshot *out,
              char *err, size_t errlen)
{
    return snap_load_since(path, what, 0, out, err, errlen);
}

int snap_load_since(const char *path, unsigned what, uint64_t since,
                    struct snapshot *out, char *err, size_t errlen)
{
    /* twice at most: a new image that loads the library while we look
     * rewrites the header (the second read is kept either way) */
    int r = snap_read(path, what, since, while_mapped, out, err, errlen);
    if (r == 1) {
        snap_free(out);
        r = snap_read(path, what, since, while_mapped, out, err, errlen);
    }
    if (r < 0)
        return -1;
    if ((what & SNAP_COMM) && out->alive)
        read_comm(out);
    return 0;
}

/* Not being let look is not seeing nothing: a process that runs as
 * another user, kept a capability the viewer lacks, or made itself
 * non-dumpable hides /proc/PID/fd (open) or each link in it (readlink). */
static bool no_access(int err)
{
    return err == EACCES || err == EPERM;
}

static void mark_no_access(struct snapshot *s, struct st_sock *so)
{
    so->flags |= SNAP_SF_NO_ACCESS;
    s->no_access = true;
}

void snap_check_live(struct snapshot *s)
{
    if (!s->alive)
        return;
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/fd", s->h.pid);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        /* the process ended meanwhile (ENOENT): leave the table as written */
        if (no_access(errno))
            for (size_t i = 0; i < s->n_open; i++)
                if (!snap_gone(&s->open[i]))
                    mark_no_access(s, &s->open[i]);
        return;
    }
    for (size_t i = 0; i < s->n_open; i++) {
        struct st_sock *so = &s->open[i];
        if (snap_gone(so))
            continue;
        char name[16], link[64];
        snprintf(name, sizeof name, "%d", so->fd);
        ssize_t n = readlinkat(dfd, name, link, sizeof link - 1);
        if (n > 0) {
            link[n] = 0;
            if (strncmp(link, "socket:", 7) == 0)
                continue;
        } else if (n < 0 && no_access(errno)) {
            /* the fd exists (a missing one is ENOENT), what it is we may
             * not see */
            mark_no_access(s, so);
            continue;
        }
        st_set_closed(so);
        /* after an exec the tracer did not follow, a close-on-exec socket
         * went with it. The flag alone proves nothing (ioctl(FIOCLEX), a
         * raw fcntl change it unseen): /proc decides, the flag names why */
        so->flags |= s->exec_untraced && (so->flags & ST_SF_CLOEXEC) ? ST_SF_CLOSED_EXEC
                                                                     : ST_SF_CLOSED_UNSEEN;
    }
    close(dfd);
}

bool snap_pid_running(int pid, uint64_t proc_start)
{
    uint64_t start;
    int ppid, ended;
    if (pid <= 0 || st_proc_read(pid, &start, &ppid, &ended) != 0 || ended)
        return false;
    return proc_start == 0 || start == proc_start;
}

bool snap_is_alive(const struct st_header *h)
{
    return snap_pid_running(h->pid, h->proc_start);
}

uint64_t proc_fd_inode(int pid, int fd)
{
    char path[64], link[64];
    snprintf(path, sizeof path, "/proc/%d/fd/%d", pid, fd);
    ssize_t n = readlink(path, link, sizeof link - 1);
    if (n <= 0)
        return 0;
    link[n] = 0;
    unsigned long long ino;
    return sscanf(link, "socket:[%llu]", &ino) == 1 ? ino : 0;
}

bool proc_exists(int pid)
{
    char path[32];
    snprintf(path, sizeof path, "/proc/%d", pid);
    return access(path, F_OK) == 0;
}

int proc_parent(int pid, uint64_t *start, int *ppid)
{
    return st_proc_stat(pid, start, ppid);
}

int proc_self_dir(char *buf, size_t size)
{
    ssize_t n = readlink("/proc/self/exe", buf, size - 1);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    char *slash = strrchr(buf, '/');
    if (!slash)
        return -1;
    *slash = 0;
    return 0;
}
