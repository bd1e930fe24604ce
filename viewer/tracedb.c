/* tracedb.c - lists the trace directory. Only names of the form
 * PID-START.trace are considered; what they are is checked on load. */
#define _GNU_SOURCE
#include "tracedb.h"

#include <dirent.h>
#include <glob.h>
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
#include "trace_read.h"
#include "resolve.h"

static struct {
    char dir[ST_PATH_MAX];
    bool all_users, owners;
} widen;

void tracedb_widen(const char *default_dir, bool all_users, bool owners)
{
    snprintf(widen.dir, sizeof widen.dir, "%s", default_dir);
    widen.all_users = all_users;
    widen.owners = owners;
}

/* Appends the trace files of dir to *v. Returns 0, or -1 (errno set) when
 * the directory cannot be read. */
static int list_one(const char *dir, struct trace_ref **v, size_t *n, size_t *cap)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        int pid;
        uint64_t start;
        if (st_trace_name_parse(e->d_name, &pid, &start) != 0)
            continue;
        if (*n == *cap) {
            size_t c = *cap ? *cap * 2 : 64;
            struct trace_ref *p = realloc(*v, c * sizeof **v);
            if (!p)
                break;
            *v = p;
            *cap = c;
        }
        struct trace_ref *r = &(*v)[(*n)++];
        r->pid = pid;
        r->proc_start = start;
        snprintf(r->path, sizeof r->path, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    return 0;
}

/* A default trace directory of user uid: a real directory that uid owns
 * and only uid may write, so that no one plants traces in another's name. */
static bool users_dir(const char *path, uid_t uid)
{
    struct stat st;
    return lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == uid &&
           !(st.st_mode & (S_IWGRP | S_IWOTH));
}

/* The other users' default directories, each once (not dir itself). */
static void list_users(const char *dir, struct trace_ref **v, size_t *n, size_t *cap)
{
    static const char *const patterns[] = {"/tmp/socktrace-*", "/run/user/*/socktrace"};
    for (size_t k = 0; k < 2; k++) {
        glob_t g;
        if (glob(patterns[k], GLOB_NOSORT, NULL, &g) != 0)
            continue;
        for (size_t i = 0; i < g.gl_pathc; i++) {
            const char *p = g.gl_pathv[i], *num = k ? p + strlen("/run/user/") :
                                                  p + strlen("/tmp/socktrace-");
            char *end;
            errno = 0;
            unsigned long uid = strtoul(num, &end, 10);
            if (errno || end == num || (k ? *end != '/' : *end != 0) || uid > 0xfffffffeUL)
                continue;
            if (strcmp(p, dir) != 0 && users_dir(p, (uid_t)uid))
                list_one(p, v, n, cap);
        }
        globfree(&g);
    }
}

struct trace_ref *tracedb_list(const char *dir, size_t *n)
{
    *n = 0;
    struct trace_ref *v = NULL;
    size_t cap = 0;
    int r = list_one(dir, &v, n, &cap);
    int saved = errno;
    if (widen.all_users && !strcmp(dir, widen.dir))
        list_users(dir, &v, n, &cap);
    if (!*n) {
        free(v);
        errno = r ? saved : 0;
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

/* 2: the file of the running process pid found, 1: an older one, 0: none */
static int find_in(const char *dir, int pid, bool have_live, uint64_t live_start,
                   struct trace_ref *out)
{
    size_t n;
    struct trace_ref *v = tracedb_list(dir, &n);
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].pid != pid)
            continue;
        if (have_live && v[i].proc_start == live_start) {
            *out = v[i];
            found = 2;
            break;
        }
        if (!found || v[i].proc_start > out->proc_start) {
            *out = v[i];
            found = 1;
        }
    }
    free(v);
    return found;
}

/* One variable of /proc/PID/environ (readable by its owner and root). */
static bool environ_var(int pid, const char *name, char *buf, size_t size)
{
    char path[64], env[16384];
    snprintf(path, sizeof path, "/proc/%d/environ", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    size_t len = fread(env, 1, sizeof env - 1, f);
    fclose(f);
    env[len] = 0;
    size_t nl = strlen(name);
    for (size_t o = 0; o < len; o += strlen(env + o) + 1)
        if (!strncmp(env + o, name, nl) && env[o + nl] == '=' && env[o + nl + 1]) {
            snprintf(buf, size, "%s", env + o + nl + 1);
            return true;
        }
    return false;
}

/* The running process pid in the directories its own user's tracer would
 * have used: its environment's, then that user's defaults. */
static int find_owners(int pid, uint64_t live_start, struct trace_ref *out)
{
    char proc[32], dirs[4][ST_PATH_MAX], v[ST_PATH_MAX];
    struct stat st;
    size_t nd = 0;
    snprintf(proc, sizeof proc, "/proc/%d", pid);
    if (stat(proc, &st) != 0)
        return 0;
    if (environ_var(pid, "SOCKTRACE_DIR", v, sizeof v))
        snprintf(dirs[nd++], ST_PATH_MAX, "%s", v);
    if (environ_var(pid, "XDG_RUNTIME_DIR", v, sizeof v) && v[0] == '/' &&
        strlen(v) < ST_PATH_MAX - 16)
        snprintf(dirs[nd++], ST_PATH_MAX, "%.*s/socktrace", ST_PATH_MAX - 16, v);
    snprintf(dirs[nd++], ST_PATH_MAX, "/tmp/socktrace-%u", (unsigned)st.st_uid);
    snprintf(dirs[nd++], ST_PATH_MAX, "/run/user/%u/socktrace", (unsigned)st.st_uid);
    for (size_t i = 0; i < nd; i++)
        if (find_in(dirs[i], pid, true, live_start, out) == 2)
            return 2;
    return 0;
}

/* In dir and the containers' directories: 0 with *out (*live: it is the
 * running process's own file), -1 none, -2 a pid that several pid
 * namespaces have. */
static int find_ns(const char *dir, int pid, struct trace_ref *out, bool *live)
{
    size_t n;
    struct trace_ref *v = tracedb_list_all(dir, &n);
    int found = -1;
    *live = false;
    /* a running process by the viewer's pid: its file is named by the pid
     * its own namespace gave it, and records that namespace */
    int inner;
    uint64_t pidns, start;
    if (nsmap_inner(pid, &inner, &pidns, &start) == 0) {
        for (size_t i = 0; i < n && found; i++) {
            struct st_header h;
            if (v[i].pid != inner || v[i].proc_start != start)
                continue;
            if (snap_read_header(v[i].path, false, &h) != 0)
                h.pidns_ino = 0;
            bool other = nsmap_other(&h);
            if (inner == pid ? !other : other && (!pidns || h.pidns_ino == pidns)) {
                *out = v[i];
                found = 0;
                *live = true;
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
        if (snap_read_header(v[i].path, false, &h) != 0)
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

int tracedb_find(const char *dir, int pid, struct trace_ref *out)
{
    bool live;
    int found = find_ns(dir, pid, out, &live);
    if (found == 0 && live)
        return 0;
    /* not the running process's own file here: it may be in the
     * directory its own user's tracer used */
    uint64_t live_start = 0;
    int ppid;
    struct trace_ref there;
    if (widen.owners && st_proc_stat(pid, &live_start, &ppid) == 0 &&
        find_owners(pid, live_start, &there) == 2) {
        *out = there;
        return 0;
    }
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
