/* tracedb.c - lists the trace directory. Only names of the form
 * PID-START.trace are considered; what they are is checked on load. */
#define _GNU_SOURCE
#include "tracedb.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nsdirs.h"
#include "nsmap.h"
#include "snapshot.h"
#include "tracedir.h"

struct trace_ref *tracedb_list(const char *dir, size_t *n)
{
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    struct trace_ref *v = NULL;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        int pid;
        uint64_t start;
        if (st_trace_name_parse(e->d_name, &pid, &start) != 0)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            struct trace_ref *p = realloc(v, cap * sizeof *v);
            if (!p)
                break;
            v = p;
        }
        struct trace_ref *r = &v[(*n)++];
        r->pid = pid;
        r->proc_start = start;
        snprintf(r->path, sizeof r->path, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    if (!*n) {
        free(v);
        errno = 0;
        return NULL;
    }
    return v;
}

struct trace_ref *tracedb_list_all(const char *dir, size_t *n)
{
    struct trace_ref *v = tracedb_list(dir, n);
    int saved = errno;
    char **dirs;
    size_t nd = nsdirs_find(dir, &dirs);
    for (size_t i = 0; i < nd; i++) {
        size_t m;
        struct trace_ref *w = tracedb_list(dirs[i], &m);
        struct trace_ref *p = w ? realloc(v, (*n + m) * sizeof *v) : NULL;
        if (p) {
            v = p;
            memcpy(v + *n, w, m * sizeof *w);
            *n += m;
        }
        free(w);
        free(dirs[i]);
    }
    free(dirs);
    errno = *n ? 0 : saved;
    return v;
}

/* The header alone; 0 when it is a trace file's. */
static int read_header(const char *path, struct st_header *h)
{
    /* a FIFO or device named like a trace file must not block us */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return -1;
    struct stat st;
    ssize_t r = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? pread(fd, h, sizeof *h, 0) : -1;
    close(fd);
    return r == (ssize_t)sizeof *h && memcmp(h->magic, ST_MAGIC, 8) == 0 &&
           h->version == ST_VERSION ? 0 : -1;
}

int tracedb_find(const char *dir, int pid, struct trace_ref *out)
{
    size_t n;
    struct trace_ref *v = tracedb_list_all(dir, &n);
    int found = -1;
    /* a running process by the viewer's pid: its file is named by the pid
     * its own namespace gave it, and records that namespace */
    int inner;
    uint64_t pidns, start;
    if (nsmap_inner(pid, &inner, &pidns, &start) == 0) {
        for (size_t i = 0; i < n && found; i++) {
            struct st_header h;
            if (v[i].pid != inner || v[i].proc_start != start)
                continue;
            if (read_header(v[i].path, &h) != 0)
                h.pidns_ino = 0;
            bool other = nsmap_other(&h);
            if (inner == pid ? !other : other && (!pidns || h.pidns_ino == pidns)) {
                *out = v[i];
                found = 0;
            }
        }
    }
    /* else the files named pid: the viewer's namespace's (the one started
     * last), then another namespace's when only one namespace has it */
    int same = -1, other = -1;
    uint64_t other_ns = 0;
    bool ambiguous = false;
    for (size_t i = 0; i < n && found != 0; i++) {
        struct st_header h;
        if (v[i].pid != pid)
            continue;
        if (read_header(v[i].path, &h) != 0)
            h.pidns_ino = 0;
        int *best = &same;
        if (nsmap_other(&h)) {
            ambiguous |= other_ns && h.pidns_ino != other_ns;
            other_ns = h.pidns_ino;
            best = &other;
        }
        if (*best < 0 || v[i].proc_start > v[*best].proc_start)
            *best = (int)i;
    }
    if (found != 0 && (same >= 0 || (other >= 0 && !ambiguous))) {
        *out = v[same >= 0 ? same : other];
        found = 0;
    } else if (found != 0 && ambiguous) {
        found = -2;
    }
    free(v);
    return found;
}

struct snapshot *tracedb_load_all(const char *dir, unsigned what, const char *prog,
                                  size_t *loaded, size_t *bad)
{
    size_t n;
    *loaded = *bad = 0;
    struct trace_ref *v = tracedb_list_all(dir, &n);
    struct snapshot *snaps = v ? calloc(n, sizeof *snaps) : NULL;
    if (v && !snaps) {
        if (prog)
            fprintf(stderr, "%s: out of memory\n", prog);
        *bad = n;
    }
    for (size_t i = 0; snaps && i < n; i++) {
        char err[256];
        if (snap_load(v[i].path, what, &snaps[*loaded], err, sizeof err) == 0) {
            (*loaded)++;
            continue;
        }
        if (prog)
            fprintf(stderr, "%s: %s: %s\n", prog, v[i].path, err);
        (*bad)++;
    }
    free(v);
    if (!*loaded) {
        free(snaps);
        return NULL;
    }
    return snaps;
}
