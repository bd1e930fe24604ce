/* tracedb.c - lists the trace directory. Only names of the form
 * PID-START.trace are considered; what they are is checked on load. */
#define _GNU_SOURCE
#include "tracedb.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int tracedb_find(const char *dir, int pid, struct trace_ref *out)
{
    size_t n;
    struct trace_ref *v = tracedb_list(dir, &n);
    uint64_t live_start = 0;
    int ppid;
    int have_live = st_proc_stat(pid, &live_start, &ppid) == 0;
    int found = -1;
    for (size_t i = 0; i < n; i++) {
        if (v[i].pid != pid)
            continue;
        if (have_live && v[i].proc_start == live_start) {
            *out = v[i];
            found = 0;
            break;
        }
        if (found != 0 || v[i].proc_start > out->proc_start) {
            *out = v[i];
            found = 0;
        }
    }
    free(v);
    return found;
}

struct snapshot *tracedb_load_all(const char *dir, unsigned what, const char *prog,
                                  size_t *loaded, size_t *bad)
{
    size_t n;
    *loaded = *bad = 0;
    struct trace_ref *v = tracedb_list(dir, &n);
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
