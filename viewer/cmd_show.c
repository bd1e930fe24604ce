/* cmd_show.c - `socktrace show PID`: one process's sockets, open now (or
 * when it ended), with --all the closed ones from history; text or JSON. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "commands.h"
#include "describe.h"
#include "output.h"
#include "proc_text.h"
#include "json_out.h"
#include "kernel.h"
#include "peerjoin.h"
#include "select.h"
#include "show_kernel.h"
#include "tracedb.h"
#include "resolve.h"

static const char usage[] =
    "usage: socktrace show [PID...|NAME] [FILTER] [--all] [--json] [--verify]\n"
    "  Prints the sockets of traced processes: open now, or open when they\n"
    "  ended; with a FILTER only the sockets it passes (and only processes\n"
    "  with one, unless named by PID). A PID with no trace file is shown\n"
    "  from the kernel's view (/proc). --json: one object per process per line.\n"
    "  -a, --all     add the sockets it closed (from history), with open and\n"
    "                close times and lifetime\n"
    "  -j, --json    one JSON object (schema in README.md)\n"
    "  -v, --verify  hold the trace against the kernel's view of the running\n"
    "                process (one PID); exit 0 when they agree, 1 when they differ,\n"
    "                3 when this user may not read its fds (/proc/PID/fd)\n"
    SELECT_USAGE SELECT_SORT_USAGE
    "  -h, --help    this text\n";

static const char *state_color(const struct st_sock *s)
{
    if (s->flags & SNAP_SF_NO_ACCESS)
        return C_YELLOW;
    switch (s->state) {
    case ST_STATE_LISTENING: return C_CYAN;
    case ST_STATE_CONNECTED: return C_GREEN;
    case ST_STATE_FAILED: return C_RED;
    case ST_STATE_CLOSED:
        return s->outcome == ST_CONN_FAILED || s->outcome == ST_CONN_GAVE_UP ? C_RED : C_DIM;
    default: return NULL;
    }
}

static void add_row(struct table *t, const struct st_sock *s,
                    const struct sock_extra *x, bool all)
{
    char fd[16], local[ADDR_TEXT_MAX], peer[ADDR_TEXT_MAX], state[80];
    char opened[64] = "", closed[64] = "", life[32] = "", tcp[128] = "";
    snprintf(fd, sizeof fd, "%d", s->fd);
    sock_addr_cells(s, x, local, peer);
    state_text(s, state, sizeof state);
    if (all) {
        time_text(s->opened_ns, opened, sizeof opened);
        if (s->closed_ns) {
            time_text(s->closed_ns, closed, sizeof closed);
            duration_text(s->closed_ns - (s->opened_ns < s->closed_ns ? s->opened_ns : s->closed_ns),
                          life, sizeof life);
        }
        tcp_text(s, tcp, sizeof tcp);
    }
    const char *cells[] = {fd, proto_name(s), state, local, peer,
                           origin_name(s->origin), opened, closed, life, tcp};
    const char *colors[] = {NULL, NULL, state_color(s), NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    table_add(t, cells, colors);
}

static void print_text(const struct snapshot *s, const struct conn_index *ci,
                       const struct sel_row *rows, size_t n, bool all)
{
    struct sock_extra x;
    char cmd[ST_CMDLINE_MAX], start[64], end[64];
    char pid[64];
    cmdline_text(&s->h, cmd, sizeof cmd);
    time_text(s->h.start_ns, start, sizeof start);
    pid_text(s->h.pid, s->ns_pid, pid, sizeof pid);
    if (s->exec_untraced) {
        /* what runs now is what /proc says, not the command the file has */
        char now[ST_CMDLINE_MAX] = "", what[ST_CMDLINE_MAX + 200];
        argv_text(s->command_now, s->command_now_len, now, sizeof now);
        exec_untraced_text(s, what, sizeof what);
        printf("%spid %s%s  %s\n", color(C_BOLD), pid, color("0"),
               now[0] ? now : "(command unknown)");
        printf("  %s%s%s; traced as: %s\n", color(C_YELLOW), what, color("0"), cmd);
    } else {
        printf("%spid %s%s  %s\n", color(C_BOLD), pid, color("0"), cmd);
    }
    char ppid[64];
    pid_text(s->h.ppid, -s->h.ppid, ppid, sizeof ppid);
    printf("  ppid %s, started %s, ", ppid, start);
    if (s->alive) {
        printf("running");
    } else if (s->h.flags & ST_HF_EXITED) {
        time_text(s->h.end_ns, end, sizeof end);
        printf("exited %s", end);
    } else {
        printf("ended without exit (killed, or _exit)");
    }
    /* entries found gone from /proc are listed, as closed, but not open */
    printf(", %zu open%s", snap_open_now(s), s->alive ? "" : " at the end");
    if (s->no_access)
        printf(", %s%zu unknown: no access to /proc/%d/fd%s", color(C_YELLOW),
               snap_unknown_now(s), s->h.pid, color("0"));
    putchar('\n');
    if (s->h.dropped.v || s->torn) {
        /* "12 records dropped (the file could not grow: 10, unreadable: 2)" */
        printf("  %s%" PRIu64 " record%s dropped", color(C_YELLOW), s->h.dropped.v + s->torn,
               s->h.dropped.v + s->torn == 1 ? "" : "s");
        const char *sep = " (";
        for (unsigned i = 0; i <= DROP_UNREADABLE; i++) {
            uint64_t n = i < ST_DROP_WHY_COUNT_ ? s->h.dropped.why[i] : s->torn;
            if (n) {
                printf("%s%s: %" PRIu64, sep, drop_words(i), n);
                sep = ", ";
            }
        }
        printf("%s%s\n", *sep == ',' ? ")" : "", color("0"));
    }
    if (all && s->closed_lost)
        printf("  %s%" PRIu64 " older closed sockets overwritten in the history ring%s\n",
               color(C_YELLOW), s->closed_lost, color("0"));
    static const char *const hdr[] = {"FD", "PROTO", "STATE", "LOCAL", "PEER",
                                      "ORIGIN", "OPENED", "CLOSED", "LIFETIME", "TCP"};
    struct table *t = table_new(all ? 10 : 6, hdr);
    for (size_t i = 0; i < n; i++) {
        conn_index_extra(ci, s, rows[i].sock, &x);
        add_row(t, rows[i].sock, &x, all);
    }
    table_print(t, stdout);
    table_free(t);
    bool chosen = false;
    for (size_t i = 0; i < n && !chosen; i++)
        chosen = !rows[i].sock->closed_ns && (rows[i].sock->flags & ST_SF_PORT_CHOSEN);
    if (chosen)
        printf("  * port chosen by the kernel\n");
}

static void print_json(const struct snapshot *s, const struct conn_index *ci,
                       const struct sel_row *rows, size_t n, bool all)
{
    struct sock_extra x;
    bool first = true;
    FILE *f = stdout;
    fputc('{', f);
    json_schema_version(f, &first);
    json_process_fields(f, &first, s);
    json_key(f, &first, "sockets");
    fputc('[', f);
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputc(',', f);
        conn_index_extra(ci, s, rows[i].sock, &x);
        json_socket(f, rows[i].sock, &x);
    }
    fputc(']', f);
    if (all) {
        json_key(f, &first, "history_overwritten");
        fprintf(f, "%" PRIu64, s->closed_lost);
    }
    fputs("}\n", f);
}

/* A process's sockets as rows: open ones, with --all the closed ones,
 * those the filter passes, in --sort order. *n 0 when none. */
static struct sel_row *rows_of(const struct selection *sel, const struct snapshot *s,
                               bool all, size_t *n)
{
    struct sel_row *r = calloc(s->n_open + s->n_closed + 1, sizeof *r);
    *n = 0;
    if (!r)
        return NULL;
    for (size_t i = 0; i < s->n_open; i++)
        if (select_socket(sel, s, &s->open[i]))
            r[(*n)++] = (struct sel_row){s, &s->open[i]};
    for (size_t i = 0; all && i < s->n_closed; i++)
        if (select_socket(sel, s, &s->closed[i]))
            r[(*n)++] = (struct sel_row){s, &s->closed[i]};
    select_sort_rows(sel, r, *n);
    return r;
}

/* A process that may have ended with a connect under way: the kernel
 * settles a non-blocking connect the program never checked. */
static void settle(struct snapshot *s)
{
    snap_check_live(s);
    if (!s->alive)
        return;
    bool connecting = false;
    for (size_t i = 0; i < s->n_open && !connecting; i++)
        connecting = s->open[i].state == ST_STATE_CONNECTING;
    struct kview k;
    char kerr[256];
    if (connecting && kview_load(s->h.pid, &k, kerr, sizeof kerr) == 0) {
        kview_settle_connects(&k, s->open, s->n_open);
        kview_free(&k);
    }
}

/* The processes named by pid, each the way `show PID` finds it: the file
 * of the running process (its owner's directory too), else the last. */
static int load_pids(struct ctx *c, const struct selection *sel, bool all,
                     struct snapshot **out, size_t *n)
{
    size_t np;
    const int *pids = select_pids(sel, &np);
    *out = calloc(np, sizeof **out);
    *n = 0;
    if (!*out)
        return 1;
    for (size_t i = 0; i < np; i++) {
        struct trace_ref ref;
        char err[256];
        if (tracedb_find(c->dir, pids[i], &ref) != 0) {
            fprintf(stderr, "%s: no trace file for pid %d in %s\n", c->prog, pids[i], c->dir);
            return 1;
        }
        if (snap_load(ref.path, SNAP_TABLE | (all ? SNAP_HISTORY : 0) | select_what(sel), &(*out)[*n], err,
                      sizeof err)) {
            fprintf(stderr, "%s: %s: %s\n", c->prog, ref.path, err);
            return 1;
        }
        (*n)++;
    }
    return 0;
}

static int show_one(struct ctx *c, bool json, struct trace_ref *ref, bool verify, bool all,
                    struct selection *sel)
{
    struct snapshot s;
    char err[256];
    if (snap_load(ref->path, SNAP_TABLE | (all ? SNAP_HISTORY : 0) | select_what(sel), &s, err, sizeof err)) {
        fprintf(stderr, "%s: %s: %s\n", c->prog, ref->path, err);
        return 1;
    }
    int status = 0;
    if (verify) {
        /* entries show prints as closed are not open for --verify either */
        snap_check_live(&s);
        status = show_verify(&s, json, c->prog);
    } else {
        settle(&s);
        select_resolve(sel, &s, 1);
        struct conn_index *ci = conn_index_new();
        conn_index_add_dir(ci, c->dir);
        size_t n;
        struct sel_row *rows = rows_of(sel, &s, all, &n);
        if (json)
            print_json(&s, ci, rows, n, all);
        else
            print_text(&s, ci, rows, n, all);
        free(rows);
        conn_index_free(ci);
    }
    snap_free(&s);
    return status;
}

struct show_opts {
    bool all, verify;
};

static int take_opt(void *ctx, int o, const char *arg)
{
    (void)arg;
    struct show_opts *so = ctx;
    if (o == 'a')
        so->all = true;
    else if (o == 'v')
        so->verify = true;
    else
        return 1;
    return 0;
}

/* One PID and no filter: its file, else (never traced) what the kernel
 * tells anyone allowed to look. */
static int show_pid(struct ctx *c, int pid, bool json, const struct show_opts *so,
                    struct selection *sel)
{
    struct trace_ref ref;
    if (tracedb_find(c->dir, pid, &ref) == 0)
        return show_one(c, json, &ref, so->verify, so->all, sel);
    if (!so->verify && proc_exists(pid))
        return show_kernel(pid, json, c->prog);
    fprintf(stderr, "%s: no trace file for pid %d in %s\n", c->prog, pid, c->dir);
    return 1;
}

/* Several processes: by pid, else every traced one, then selected. */
static int show_many(struct ctx *c, bool json, bool all, struct selection *sel)
{
    struct snapshot *snaps;
    size_t n, bad;
    int status = 0;
    if (select_only_pids(sel)) {
        status = load_pids(c, sel, all, &snaps, &n);
    } else {
        snaps = tracedb_load_all(c->dir, SNAP_TABLE | (all ? SNAP_HISTORY : 0) | select_what(sel),
                                 NULL, &n, &bad);
        if (!n && errno) {
            fprintf(stderr, "%s: %s: %s\n", c->prog, c->dir, strerror(errno));
            status = 1;
        }
    }
    if (!status) {
        select_resolve(sel, snaps, n);
        select_sort_snaps(sel, snaps, n);
        struct conn_index *ci = conn_index_new();
        conn_index_add_dir(ci, c->dir);
        size_t shown = 0;
        for (size_t i = 0; i < n; i++) {
            if (!select_process(sel, &snaps[i]))
                continue;
            settle(&snaps[i]);
            size_t nr;
            struct sel_row *rows = rows_of(sel, &snaps[i], all, &nr);
            /* a filter leaves out the processes it leaves no row of,
             * unless they were named by pid */
            if (nr || !select_has_filter(sel) || select_only_pids(sel)) {
                if (!json && shown)
                    putchar('\n');
                if (json)
                    print_json(&snaps[i], ci, rows, nr, all);
                else
                    print_text(&snaps[i], ci, rows, nr, all);
                shown++;
            }
            free(rows);
        }
        conn_index_free(ci);
        char why[256];
        const char *none = select_nothing(sel, why, sizeof why);
        if (none || !shown) {
            fprintf(stderr, "%s: %s\n", c->prog, none ? none : "no traced socket passes the filter");
            status = 1;
        }
    }
    for (size_t i = 0; i < n; i++)
        snap_free(&snaps[i]);
    free(snaps);
    return status;
}

int cmd_show(struct ctx *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"all", no_argument, NULL, 'a'},
        {"verify", no_argument, NULL, 'v'},
        {0, 0, 0, 0},
    };
    struct show_opts so = {0};
    const struct verb_opts own = {opts, "av", take_opt, &so};
    struct verb_args a;
    int status = verb_args(c, argc, argv, usage, VERB_JSON | VERB_SELECT, &own, &a);
    if (status >= 0)
        return status;
    struct selection *sel = a.sel;
    color_init(stdout, a.json);
    size_t np;
    const int *pids = select_pids(sel, &np);
    bool one = np == 1 && !select_has_filter(sel);
    if (!select_has_process(sel) && !select_has_filter(sel))
        status = usage_error(usage, "a PID, a name or a filter is needed", NULL);
    else if (so.verify && !one)
        status = usage_error(usage, "--verify takes one PID and no filter", NULL);
    else if (one && select_only_pids(sel))
        status = show_pid(c, pids[0], a.json, &so, sel);
    else
        status = show_many(c, a.json, so.all, sel);
    select_free(sel);
    return status;
}
