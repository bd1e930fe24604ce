/* nsmap.c - the viewer's pid of a trace written in another pid namespace
 * (see nsmap.h). /proc is read once for the processes that live in pid
 * namespaces below the viewer's, only when such a trace shows up. */
#define _GNU_SOURCE
#include "nsmap.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "snapshot.h"
#include "tracedir.h"

static uint64_t self_pidns(void)
{
    static uint64_t ino;
    static bool read;
    if (!read) {
        ino = st_ns_inode(0, "pid");
        read = true;
    }
    return ino;
}

bool nsmap_other(const struct st_header *h)
{
    return h->pidns_ino && self_pidns() && h->pidns_ino != self_pidns();
}

/* The pids of the NSpid: line, outermost (as this /proc sees it) first.
 * Returns how many, 0 when unreadable. */
static int nspids(int pid, int *v, int max)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    int n = 0;
    while (fgets(buf, sizeof buf, f)) {
        if (strncmp(buf, "NSpid:", 6) != 0)
            continue;
        char *p = buf + 6, *end;
        while (n < max) {
            long x = strtol(p, &end, 10);
            if (end == p)
                break;
            v[n++] = (int)x;
            p = end;
        }
        break;
    }
    fclose(f);
    return n;
}

int nsmap_inner(int pid, int *ns_pid, uint64_t *pidns, uint64_t *start)
{
    int v[32], ppid;
    if (pid <= 0 || st_proc_stat(pid, start, &ppid) != 0)
        return -1;
    int n = nspids(pid, v, 32);
    if (n <= 1) {
        /* in the viewer's own namespace (or a kernel without NSpid) */
        *ns_pid = pid;
        *pidns = self_pidns();
        return 0;
    }
    *ns_pid = v[n - 1];
    *pidns = st_ns_inode(pid, "pid");
    return 0;
}

/* Processes in pid namespaces below the viewer's: its pid, theirs. */
struct inner {
    int pid, ns_pid;
};
static struct inner *tab;
static size_t ntab;
static uint64_t scanned_ns;     /* CLOCK_MONOTONIC of the last scan; 0: none */

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void scan(void)
{
    ntab = 0;
    scanned_ns = mono_ns();
    DIR *d = opendir("/proc");
    if (!d)
        return;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        int pid = atoi(e->d_name), v[32];
        int n = nspids(pid, v, 32);
        if (n < 2)
            continue;
        if (ntab == cap) {
            cap = cap ? cap * 2 : 64;
            void *p = realloc(tab, cap * sizeof *tab);
            if (!p)
                break;
            tab = p;
        }
        tab[ntab].pid = pid;
        tab[ntab++].ns_pid = v[n - 1];
    }
    closedir(d);
}

static int lookup(int ns_pid, uint64_t pidns, uint64_t start)
{
    for (size_t i = 0; i < ntab; i++) {
        if (tab[i].ns_pid != ns_pid || st_ns_inode(tab[i].pid, "pid") != pidns)
            continue;
        uint64_t st;
        int ppid;
        if (st_proc_stat(tab[i].pid, &st, &ppid) != 0)
            continue;
        if (!start || st == start)
            return tab[i].pid;
    }
    return 0;
}

int nsmap_outer(int ns_pid, uint64_t pidns, uint64_t start)
{
    if (ns_pid <= 0 || !pidns)
        return 0;
    if (!scanned_ns)
        scan();
    int pid = lookup(ns_pid, pidns, start);
    /* a process started since the scan: look again, at most once a
     * second, so that a directory of ended containers' files stays cheap */
    if (!pid && mono_ns() - scanned_ns > 1000000000u) {
        scan();
        pid = lookup(ns_pid, pidns, start);
    }
    return pid;
}

void nsmap_resolve(struct snapshot *s)
{
    s->ns_pid = s->h.pid;
    if (!nsmap_other(&s->h))
        return;
    int ns = s->h.pid, ns_ppid = s->h.ppid;
    int pid = nsmap_outer(ns, s->h.pidns_ino, s->h.proc_start);
    if (pid <= 0) {
        s->h.pid = -ns;
        s->h.ppid = -ns_ppid;
        return;
    }
    s->h.pid = pid;
    /* the forking process, as the file names it, when it still runs; else
     * (the namespace's first process has parent 0 there) the kernel's */
    int ppid = ns_ppid > 0 ? nsmap_outer(ns_ppid, s->h.pidns_ino, 0) : 0;
    uint64_t st;
    if (ppid <= 0 && st_proc_stat(pid, &st, &ppid) != 0)
        ppid = 0;
    s->h.ppid = ppid;
}

int nsmap_pick(const struct snapshot *v, size_t n, int pid, int *out)
{
    bool found = false;
    uint64_t ns = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i].h.pid == pid) {
            *out = pid;
            return 0;
        }
    for (size_t i = 0; i < n; i++) {
        if (v[i].ns_pid != pid || !nsmap_other(&v[i].h))
            continue;
        /* the same pid may have several files (reused): the running one
         * decides; processes of two namespaces are ambiguous */
        if (found && v[i].h.pidns_ino != ns)
            return -2;
        if (!found || v[i].h.pid > 0)
            *out = v[i].h.pid;
        found = true;
        ns = v[i].h.pidns_ino;
    }
    return found ? 0 : -1;
}
