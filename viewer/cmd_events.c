/* cmd_events.c - `socktrace events PID`: every recorded call of a process
 * in order, failures included; -f follows new ones (watch's engine, the
 * children too). --json prints JSON Lines, one object per call. */
#define _GNU_SOURCE
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "describe.h"
#include "output.h"
#include "json_out.h"
#include "peerjoin.h"
#include "select.h"
#include "sockaddr_conv.h"
#include "tracedb.h"
#include "event_text.h"
#include "follow.h"
#include "since.h"
#include "resolve.h"

static const char usage[] =
    "usage: socktrace events PID...|NAME [FILTER] [--json]\n"
    "       socktrace events -f [PID] [--json] [--since TIME|DURATION]\n"
    "  Prints every intercepted call of traced processes, in order: time,\n"
    "  thread, call, fd, result (value or errno name), local and peer after it.\n"
    "  A FILTER keeps the calls whose addresses (and socket) it passes.\n"
    "  -f, --follow  print new calls as they happen, from now on, until Ctrl-C:\n"
    "                of PID and the children it forks (until they all end),\n"
    "                or without PID of every traced process (as watch)\n"
    "  --since T     with -f, start earlier: 30s, 5m, 2h, 14:05, @EPOCH,\n"
    "                2026-11-24T18:09:11 (from what the ring still holds)\n"
    "  -j, --json    JSON Lines: one object per call\n"
    SELECT_USAGE
    "  -h, --help    this text\n";

static void print_json(const struct snapshot *s, const struct conn_index *ci,
                       const struct st_event *e)
{
    bool first = true;
    fputc('{', stdout);
    event_json_fields(stdout, &first, s, ci, e);
    fputs("}\n", stdout);
}

static void text_row(struct table *t, const struct snapshot *s, const struct conn_index *ci,
                     const struct st_event *e)
{
    struct event_cells c;
    event_cells(s, ci, e, &c);
    const char *cells[] = {c.time, c.tid, c.call, c.fd, c.result, c.local, c.peer, c.tcp};
    const char *colors[] = {NULL, NULL, NULL, NULL, c.failed ? C_RED : NULL, NULL, NULL, NULL};
    table_add(t, cells, colors);
}

static const char *const headers[] = {"TIME", "TID", "CALL", "FD", "RESULT", "LOCAL", "PEER",
                                      "TCP"};

/* The calls of one trace file. */
static int events_of(struct ctx *c, const struct trace_ref *ref, bool json,
                     const struct selection *sel, bool banner)
{
    /* a filter looks at the socket an event acted on: the table too */
    unsigned what = SNAP_EVENTS | SNAP_HISTORY | (select_has_filter(sel) ? SNAP_TABLE : 0);
    struct snapshot s;
    char err[256];
    if (snap_load(ref->path, what, &s, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s: %s\n", c->prog, ref->path, err);
        return 1;
    }
    if (s.events_lost && !json)
        fprintf(stderr, "%s: %" PRIu64 " earlier calls overwritten in the ring\n",
                c->prog, s.events_lost);
    if (banner && !json) {
        char cmd[ST_CMDLINE_MAX];
        cmdline_text(&s.h, cmd, sizeof cmd);
        printf("%spid %d%s  %s\n", color(C_BOLD), s.h.pid, color("0"), cmd);
    }
    struct table *t = json ? NULL : table_new(8, headers);
    struct conn_index *ci = NULL;
    if (s.n_events) {
        ci = conn_index_new();
        conn_index_add_dir(ci, c->dir);
    }
    for (size_t i = 0; i < s.n_events; i++) {
        if (!select_event(sel, &s, &s.events[i]))
            continue;
        if (json)
            print_json(&s, ci, &s.events[i]);
        else
            text_row(t, &s, ci, &s.events[i]);
    }
    conn_index_free(ci);
    if (t)
        table_print(t, stdout);
    table_free(t);
    snap_free(&s);
    return 0;
}

/* The trace files the selection names beyond one PID: every file's
 * header is read to resolve names and trees. */
static struct trace_ref *select_refs(struct ctx *c, struct selection *sel, size_t *n)
{
    size_t nr;
    *n = 0;
    struct trace_ref *refs = tracedb_list(c->dir, &nr);
    struct snapshot *h = calloc(nr ? nr : 1, sizeof *h);
    size_t *at = calloc(nr ? nr : 1, sizeof *at);
    size_t nh = 0;
    for (size_t i = 0; h && at && i < nr; i++) {
        char err[256];
        if (snap_load(refs[i].path, SNAP_HEADER | select_what(sel), &h[nh], err, sizeof err) == 0)
            at[nh++] = i;
    }
    select_resolve(sel, h, nh);
    for (size_t i = 0; i < nh; i++) {
        if (select_process(sel, &h[i]))
            refs[(*n)++] = refs[at[i]];
        snap_free(&h[i]);
    }
    free(h);
    free(at);
    return refs;
}

struct events_opts {
    bool follow;
    const char *since;
};

static int take_opt(void *ctx, int o, const char *arg)
{
    struct events_opts *eo = ctx;
    if (o == 'f')
        eo->follow = true;
    else if (o == 'S')
        eo->since = arg;
    else
        return 1;
    return 0;
}

/* -f: every traced process (as watch), or one and the children it forks
 * from now on. */
static int follow(struct ctx *c, struct selection *sel, bool json, const char *since)
{
    struct follow_opts fo = {.json = json};
    size_t np;
    const int *pids = select_pids(sel, &np);
    if (since && since_time(since, &fo.since_ns) != 0)
        return usage_error(usage, "--since: not a time or a duration: %s", since);
    if (!select_has_process(sel)) {
        fo.sel = select_has_filter(sel) ? sel : NULL;
        return follow_run(c, &fo);
    }
    if (select_has_filter(sel)) {
        fprintf(stderr, "%s: -f PID follows every call of the process and its children;"
                " for a FILTER use watch PID FILTER\n", c->prog);
        return 2;
    }
    if (np != 1 || !select_only_pids(sel)) {
        fprintf(stderr, "%s: -f follows one process and its children; name one PID\n",
                c->prog);
        return 2;
    }
    struct trace_ref ref;
    if (tracedb_find(c->dir, pids[0], &ref) != 0) {
        fprintf(stderr, "%s: no trace file for pid %d in %s\n", c->prog, pids[0], c->dir);
        return 1;
    }
    fo.pid = ref.pid;
    fo.tree = true;
    snprintf(fo.root_path, sizeof fo.root_path, "%s", ref.path);
    return follow_run(c, &fo);
}

/* The calls recorded so far: of one PID, or of every process selected. */
static int recorded(struct ctx *c, struct selection *sel, bool json)
{
    color_init(stdout, json);
    size_t np;
    const int *pids = select_pids(sel, &np);
    if (np == 1 && select_only_pids(sel)) {
        struct trace_ref ref;
        if (tracedb_find(c->dir, pids[0], &ref) != 0) {
            fprintf(stderr, "%s: no trace file for pid %d in %s\n", c->prog, pids[0], c->dir);
            return 1;
        }
        return events_of(c, &ref, json, sel, false);
    }
    size_t n;
    struct trace_ref *refs = select_refs(c, sel, &n);
    char why[256];
    const char *none = select_nothing(sel, why, sizeof why);
    int status = 0;
    if (none) {
        fprintf(stderr, "%s: %s\n", c->prog, none);
        status = 1;
    }
    for (size_t i = 0; !status && i < n; i++) {
        if (i && !json)
            putchar('\n');
        status = events_of(c, &refs[i], json, sel, true);
    }
    free(refs);
    return status;
}

int cmd_events(struct ctx *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"follow", no_argument, NULL, 'f'},
        {"since", required_argument, NULL, 'S'},
        {0, 0, 0, 0},
    };
    struct events_opts eo = {0};
    const struct verb_opts own = {opts, "f", take_opt, &eo};
    struct verb_args a;
    int status = verb_args(c, argc, argv, usage, VERB_JSON | VERB_SELECT, &own, &a);
    if (status >= 0)
        return status;
    if (eo.since && !eo.follow)
        status = usage_error(usage, "--since goes with -f", NULL);
    else if (eo.follow)
        status = follow(c, a.sel, a.json, eo.since);
    else if (!select_has_process(a.sel))
        status = usage_error(usage, "a PID or a name is needed", NULL);
    else
        status = recorded(c, a.sel, a.json);
    select_free(a.sel);
    return status;
}
