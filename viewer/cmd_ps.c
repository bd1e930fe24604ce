/* cmd_ps.c - `socktrace ps`: the traced processes, children under their
 * parent, from the headers of the trace files alone (fast on thousands). */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "describe.h"
#include "output.h"
#include "proc_text.h"
#include "json_out.h"
#include "tracedb.h"
#include "resolve.h"

static const char usage[] =
    "usage: socktrace ps [--json]\n"
    "  Lists traced processes: pid, ppid, state, start time, sockets open now\n"
    "  (or at the end), sockets seen in all, command line.\n"
    "  -j, --json    a JSON object: {\"schema_version\", \"processes\": [...]}\n"
    "  -h, --help    this text\n";

struct proc {
    struct st_header h;
    int ns_pid;         /* snapshot.h */
    uint64_t open_count, socks_total;
    bool alive;
    bool no_access;     /* its fds could not be checked: open unknown */
    bool exec_untraced;
    char command_now[ST_CMDLINE_MAX];   /* /proc's, when exec_untraced */
    char exec_path[ST_EXEC_PATH_MAX];
    int parent;         /* index of the parent in the list, or -1 */
    int depth;
    bool printed;
    struct snapshot snap;   /* its header and marks (arrays freed) */
};

static int by_start(const void *a, const void *b)
{
    const struct proc *x = a, *y = b;
    return (x->h.start_ns > y->h.start_ns) - (x->h.start_ns < y->h.start_ns);
}

static void json_proc(FILE *f, const struct proc *p, bool *first_row)
{
    bool first = true;
    if (!*first_row)
        fputc(',', f);
    *first_row = false;
    fputc('{', f);
    json_process_fields(f, &first, &p->snap);
    json_key(f, &first, "open");
    if (p->no_access)
        fputs("null", f);
    else
        fprintf(f, "%" PRIu64, p->open_count);
    json_key(f, &first, "seen");
    fprintf(f, "%" PRIu64, p->socks_total);
    json_key(f, &first, "execs");
    fprintf(f, "%u", p->h.exec_count);
    fputc('}', f);
}

static void add_row(struct table *t, const struct proc *p)
{
    char pid[96], ppid[64], start[64], open[24], seen[24], cmd[2 * ST_CMDLINE_MAX + 64];
    char ids[64];
    pid_text(p->h.pid, p->ns_pid, ids, sizeof ids);
    snprintf(pid, sizeof pid, "%*s%s%s", p->depth * 2, "", p->depth ? "└ " : "", ids);
    pid_text(p->h.ppid, -p->h.ppid, ppid, sizeof ppid);
    time_text(p->h.start_ns, start, sizeof start);
    if (p->no_access)
        snprintf(open, sizeof open, "no access");
    else
        snprintf(open, sizeof open, "%" PRIu64, p->open_count);
    snprintf(seen, sizeof seen, "%" PRIu64, p->socks_total);
    cmdline_text(&p->h, cmd, sizeof cmd);
    if (p->exec_untraced) {
        /* what runs now, not the command the file has */
        char was[ST_CMDLINE_MAX];
        cmdline_text(&p->h, was, sizeof was);
        /* an ended one: what the exec named */
        snprintf(cmd, sizeof cmd, "%s  [exec'd, untraced; was: %s]",
                 p->command_now[0] ? p->command_now :
                 p->exec_path[0] ? p->exec_path : "?", was);
    }
    const char *cells[] = {pid, ppid, p->alive ? "running" : "exited", start, open, seen, cmd};
    const char *colors[] = {NULL, NULL, p->alive ? C_GREEN : C_DIM, NULL, NULL, NULL, NULL};
    table_add(t, cells, colors);
}

/* Depth-first: each process, then its children in start order. */
static void walk(struct proc *v, size_t n, size_t i, int depth, struct table *t,
                 FILE *f, bool json, bool *first_row)
{
    if (v[i].printed)
        return;
    v[i].printed = true;
    v[i].depth = depth;
    if (json)
        json_proc(f, &v[i], first_row);
    else
        add_row(t, &v[i]);
    for (size_t j = 0; j < n; j++)
        if (v[j].parent == (int)i)
            walk(v, n, j, depth + 1, t, f, json, first_row);
}

/* One process's row: its header, and for a running one with sockets the
 * count of those /proc still has (what show shows open). */
static int load_proc(struct ctx *c, const char *path, struct proc *p)
{
    struct snapshot s;
    char err[256];
    if (snap_load(path, SNAP_HEADER, &s, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s: %s\n", c->prog, path, err);
        return -1;
    }
    if (s.alive && s.open_count) {
        /* count open what show shows open: entries whose fd /proc no
         * longer has as a socket are closed (it reads the records) */
        snap_free(&s);
        if (snap_load(path, SNAP_TABLE, &s, err, sizeof err) != 0) {
            fprintf(stderr, "%s: %s: %s\n", c->prog, path, err);
            return -1;
        }
        snap_check_live(&s);
        s.open_count = snap_open_now(&s);
        p->no_access = s.no_access;
    }
    p->h = s.h;
    p->ns_pid = s.ns_pid;
    p->open_count = s.open_count;
    p->socks_total = s.socks_total;
    p->alive = s.alive;
    p->exec_untraced = s.exec_untraced;
    p->command_now[0] = 0;
    memcpy(p->exec_path, s.exec_path, sizeof p->exec_path);
    if (s.exec_untraced && s.command_now_len)
        argv_text(s.command_now, s.command_now_len, p->command_now, sizeof p->command_now);
    snap_free(&s);
    p->snap = s;
    return 0;
}

int cmd_ps(struct ctx *c, int argc, char **argv)
{
    bool json;
    int status = flag_args(argc, argv, usage, "json", &json);
    if (status >= 0)
        return status;
    color_init(stdout, json);
    size_t n;
    struct trace_ref *refs = tracedb_list_all(c->dir, &n);
    struct proc *v = calloc(n ? n : 1, sizeof *v);
    size_t m = 0, bad = 0;
    for (size_t i = 0; v && i < n; i++) {
        if (load_proc(c, refs[i].path, &v[m]) == 0)
            m++;
        else
            bad++;
    }
    free(refs);
    qsort(v, m, sizeof *v, by_start);
    /* a parent is the process with the child's ppid that was running when
     * the child started: the latest one started before it */
    for (size_t i = 0; i < m; i++) {
        v[i].parent = -1;
        for (size_t j = 0; j < i; j++)
            if (v[j].h.pid == v[i].h.ppid)
                v[i].parent = (int)j;
    }
    static const char *const hdr[] = {"PID", "PPID", "STATE", "STARTED", "OPEN", "SEEN", "COMMAND"};
    struct table *t = json ? NULL : table_new(7, hdr);
    bool first_row = true;
    if (json)
        printf("{\"schema_version\":%d,\"processes\":[", JSON_SCHEMA_VERSION);
    for (size_t i = 0; i < m; i++)
        if (v[i].parent < 0)
            walk(v, m, i, 0, t, stdout, json, &first_row);
    if (json)
        fputs("]}\n", stdout);
    else if (m)
        table_print(t, stdout);
    else
        printf("no traced processes in %s\n", c->dir);
    table_free(t);
    free(v);
    return (bad && !m) ? 1 : 0;
}
