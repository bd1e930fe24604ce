/* follow.c - the live stream of `watch` and `events -f`: new processes
 * and forked children included, the trace directory is polled for files
 * and each file's ring read from where it stopped: its head says whether
 * anything is new, so a quiet process costs one read of its header. */
#define _GNU_SOURCE
#include "follow.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uthash.h>

#include "event_text.h"
#include "output.h"
#include "peerjoin.h"
#include "resolve.h"
#include "select.h"
#include "tracedb.h"

#define POLL_NS     (100ull * 1000 * 1000)
/* A close event is written just before its socket's history entry, which
 * carries the bytes and lifetime: a close without one is held back this
 * long (the process still running) before it is printed without them. */
#define HOLD_NS     (2ull * 1000 * 1000 * 1000)
/* A file whose header cannot be read this many times in a row is reported
 * and left alone (a new file's header may not be complete on first look). */
#define BAD_READS   10

struct held {               /* a connect waiting for its outcome */
    struct st_event e;
};

struct watched {
    char path[600];         /* the key */
    int pid, ppid;
    uint64_t proc_start;
    uint64_t start_ns;      /* the process's start, CLOCK_REALTIME */
    bool have_header;
    bool primed;            /* next is set */
    uint64_t next;          /* the first event position not yet read */
    int member;             /* selected: -1 not known yet, 0, 1 */
    bool done;              /* ended and read to the end, not selected, or bad */
    int bad_reads;
    struct held *held;
    size_t n_held, cap_held;
    UT_hash_handle hh;
};

struct item {               /* one line to print */
    struct watched *w;
    const struct snapshot *s;
    struct st_event e;
    bool has_sock;
    struct st_sock sock;    /* connects: the socket, for its outcome */
};

struct watcher {
    struct ctx *c;
    const struct follow_opts *o;
    struct watched *files;
    uint64_t root_start;    /* tree: the root's start_ns */
    bool first_scan;
    bool header_done;
    uint64_t printed;
    struct item *items;
    size_t n_items, cap_items;
};

static volatile sig_atomic_t stop;
static void on_stop(int sig)
{
    (void)sig;
    stop = 1;
}

static uint64_t now_ns(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static const char *comm_of(const struct snapshot *s)
{
    const char *c = s->h.cmdline_len ? s->h.cmdline : "?";
    const char *slash = strrchr(c, '/');
    return slash ? slash + 1 : c;
}

/* tree: whether w's process descends from the root, through the ppids in
 * the trace files and, for a parent that never had a socket (no file),
 * through /proc while that parent runs. -1: not known yet. */
static int tree_member(struct watcher *W, struct watched *w, int depth)
{
    if (w->member >= 0)
        return w->member;
    if (!w->have_header || depth > 64)
        return -1;
    if (!strcmp(w->path, W->o->root_path))
        return w->member = 1;
    if (!W->root_start)
        return -1;
    if (w->start_ns < W->root_start)
        return w->member = 0;       /* older than the root: not its child */
    int ppid = w->ppid;
    for (int hop = 0; hop < 64; hop++) {
        if (ppid == W->o->pid)
            return w->member = 1;
        if (ppid <= 1)
            return w->member = 0;
        struct watched *p = NULL, *f, *tmp;
        HASH_ITER(hh, W->files, f, tmp) {
            if (f->pid == ppid && f->have_header && f->start_ns <= w->start_ns &&
                (!p || f->start_ns > p->start_ns))
                p = f;
        }
        if (p) {
            int r = tree_member(W, p, depth + 1);
            return r < 0 ? -1 : (w->member = r);
        }
        uint64_t start;
        int pp;
        if (proc_parent(ppid, &start, &pp) != 0)
            return w->member = 0;   /* the chain is lost with its process */
        ppid = pp;
    }
    return w->member = 0;
}

static int member(struct watcher *W, struct watched *w)
{
    const struct follow_opts *o = W->o;
    if (!o->pid)
        return 1;
    if (!o->tree)
        return w->pid == o->pid;
    return tree_member(W, w, 0);
}

static void scan(struct watcher *W)
{
    size_t n;
    struct trace_ref *refs = tracedb_list(W->c->dir, &n);
    for (size_t i = 0; i < n; i++) {
        struct watched *w;
        HASH_FIND_STR(W->files, refs[i].path, w);
        if (w)
            continue;
        if (!(w = calloc(1, sizeof *w)))
            break;
        snprintf(w->path, sizeof w->path, "%s", refs[i].path);
        w->pid = refs[i].pid;
        w->proc_start = refs[i].proc_start;
        w->member = -1;
        /* a file there before we started: only what comes from now on,
         * unless --since; a new file: all of it, it is all new */
        w->primed = !W->first_scan || W->o->since_ns;
        HASH_ADD_STR(W->files, path, w);
    }
    free(refs);
    W->first_scan = false;
}

static struct item *add_item(struct watcher *W, struct watched *w, const struct snapshot *s,
                             const struct st_event *e)
{
    if (W->n_items == W->cap_items) {
        size_t ncap = W->cap_items ? W->cap_items * 2 : 64;
        void *p = realloc(W->items, ncap * sizeof *W->items);
        if (!p)
            return NULL;
        W->items = p;
        W->cap_items = ncap;
    }
    struct item *it = &W->items[W->n_items++];
    memset(it, 0, sizeof *it);
    it->w = w;
    it->s = s;
    it->e = *e;
    return it;
}

static bool is_close(const struct st_event *e)
{
    return e->call == ST_CALL_CLOSE || e->call == ST_CALL_CLOSE_RANGE;
}

static bool is_accept(const struct st_event *e)
{
    return e->call == ST_CALL_ACCEPT || e->call == ST_CALL_ACCEPT4;
}

/* The socket an event was about, found by its id: open, or closed after
 * the call. */
static bool sock_of(const struct snapshot *s, const struct st_event *e, struct st_sock *out)
{
    for (size_t i = 0; i < s->n_open; i++)
        if (s->open[i].sock_id == e->sock_id) {
            *out = s->open[i];
            return true;
        }
    for (size_t i = s->n_closed; i-- > 0;)
        if (s->closed[i].sock_id == e->sock_id && s->closed[i].closed_ns >= e->ns) {
            *out = s->closed[i];
            return true;
        }
    return false;
}

/* What a connect came to. The call's own result when it says; else (in
 * progress) the socket's record, once the program has learnt it. False
 * while not known. */
static bool connect_known(const struct snapshot *s, const struct st_event *e,
                          struct st_sock *so)
{
    bool found = sock_of(s, e, so);
    if (!found)
        memset(so, 0, sizeof *so);
    if (e->ret == 0) {
        so->outcome = ST_CONN_OK;
        return true;
    }
    if (e->err != EINPROGRESS && e->err != EALREADY && e->err != EINTR) {
        so->outcome = ST_CONN_FAILED;
        so->connect_err = (uint16_t)e->err;
        return true;
    }
    return found && so->outcome != ST_CONN_PENDING && so->outcome != ST_CONN_NONE;
}

/* A closed connection, as tcplife counts them: a socket that was
 * connected to an inet peer. */
static bool closed_connection(const struct st_sock *so)
{
    return so && (so->peer.kind == ST_ADDR_INET || so->peer.kind == ST_ADDR_INET6) &&
           !(so->flags & ST_SF_PEER_LAST) &&
           (so->was == ST_STATE_CONNECTED || so->outcome == ST_CONN_OK);
}

/* Whether event e of process s is printed: --since, the selection (its
 * process resolved against s alone: a stream has no whole set to resolve
 * a --tree against), the presets. */
static bool wanted(const struct watcher *W, const struct snapshot *s, const struct st_event *e)
{
    if (W->o->since_ns && e->ns < W->o->since_ns)
        return false;
    if (W->o->sel && !select_event(W->o->sel, s, e))
        return false;
    switch (W->o->show) {
    case FOLLOW_CONNECTS:
        return e->call == ST_CALL_CONNECT || (is_accept(e) && e->ret >= 0);
    case FOLLOW_CLOSES:
        return is_close(e) && closed_connection(event_closed(s, e));
    default:
        return true;
    }
}

static void hold(struct watched *w, const struct st_event *e)
{
    if (w->n_held == w->cap_held) {
        size_t ncap = w->cap_held ? w->cap_held * 2 : 8;
        void *p = realloc(w->held, ncap * sizeof *w->held);
        if (!p)
            return;
        w->held = p;
        w->cap_held = ncap;
    }
    w->held[w->n_held++].e = *e;
}

/* The new events of one file (and the connects it held whose outcome is
 * now known) into the batch. */
static void take(struct watcher *W, struct watched *w, const struct snapshot *s, bool alive)
{
    uint64_t now = now_ns(CLOCK_REALTIME);
    bool connects = W->o->show == FOLLOW_CONNECTS;
    for (size_t i = 0; i < w->n_held;) {
        struct st_sock so;
        if (connect_known(s, &w->held[i].e, &so) || !alive) {
            struct item *it = add_item(W, w, s, &w->held[i].e);
            if (it) {
                it->has_sock = true;
                it->sock = so;
            }
            w->held[i] = w->held[--w->n_held];
        } else {
            i++;
        }
    }
    uint64_t next = s->events_head;
    for (size_t i = 0; i < s->n_events; i++) {
        const struct st_event *e = &s->events[i];
        if (is_close(e) && alive && !event_closed(s, e) && now < e->ns + HOLD_NS) {
            next = e->serial;       /* its history entry is on its way */
            break;
        }
        if (!wanted(W, s, e))
            continue;
        struct st_sock so;
        if (connects && e->call == ST_CALL_CONNECT && !connect_known(s, e, &so)) {
            hold(w, e);
            continue;
        }
        struct item *it = add_item(W, w, s, e);
        if (it && connects && e->call == ST_CALL_CONNECT) {
            it->has_sock = true;
            it->sock = so;
        }
    }
    w->next = next;
}

static int by_time(const void *a, const void *b)
{
    const struct item *x = a, *y = b;
    if (x->e.ns != y->e.ns)
        return x->e.ns < y->e.ns ? -1 : 1;
    if (x->w->pid != y->w->pid)
        return x->w->pid < y->w->pid ? -1 : 1;
    return (x->e.serial > y->e.serial) - (x->e.serial < y->e.serial);
}

/* "connected", "failed ECONNREFUSED", "timed out after 1,002 ms" */
static void outcome_text(const struct item *it, char *buf, size_t size)
{
    char tmp[16], ms[32];
    const struct st_sock *so = &it->sock;
    if (is_accept(&it->e)) {
        snprintf(buf, size, "accepted");
        return;
    }
    switch (so->outcome) {
    case ST_CONN_OK:
        snprintf(buf, size, "connected");
        break;
    case ST_CONN_FAILED:
        if (so->connect_err == ETIMEDOUT && so->connect_ns && so->closed_ns > so->connect_ns) {
            ms_text(so->closed_ns - so->connect_ns, ms, sizeof ms);
            snprintf(buf, size, "timed out after %s ms", ms);
        } else {
            snprintf(buf, size, "failed%s%s", so->connect_err ? " " : "",
                     so->connect_err ? errno_name(so->connect_err, tmp, sizeof tmp) : "");
        }
        break;
    case ST_CONN_GAVE_UP:
        ms_text(so->closed_ns > so->connect_ns ? so->closed_ns - so->connect_ns : 0, ms, sizeof ms);
        snprintf(buf, size, "gave up after %s ms", ms);
        break;
    default:
        snprintf(buf, size, "not known (the process ended)");
    }
}

static const char *const all_headers[] = {"TIME", "PID", "COMM", "CALL", "FD", "RESULT",
                                          "LOCAL", "PEER", "TCP"};
static const unsigned all_widths[] = {29, 7, 10, 12, 7, 16, 24, 24, 0};
static const char *const connect_headers[] = {"TIME", "PID", "COMM", "CALL", "FD", "LOCAL",
                                              "PEER", "OUTCOME"};
static const unsigned connect_widths[] = {29, 7, 10, 8, 7, 24, 24, 0};
static const char *const close_headers[] = {"TIME", "PID", "COMM", "FD", "LOCAL", "PEER",
                                            "TX_BYTES", "RX_BYTES", "MS"};
static const unsigned close_widths[] = {29, 7, 10, 5, 24, 24, 9, 9, 0};

static struct table *new_table(const struct follow_opts *o)
{
    struct table *t;
    switch (o->show) {
    case FOLLOW_CONNECTS:
        t = table_new(8, connect_headers);
        table_min_widths(t, connect_widths);
        break;
    case FOLLOW_CLOSES:
        t = table_new(9, close_headers);
        table_min_widths(t, close_widths);
        break;
    default:
        t = table_new(9, all_headers);
        table_min_widths(t, all_widths);
    }
    return t;
}

static void text_row(struct table *t, const struct follow_opts *o,
                     const struct conn_index *ci, const struct item *it)
{
    struct event_cells c;
    event_cells(it->s, ci, &it->e, &c);
    char pid[16];
    snprintf(pid, sizeof pid, "%d", it->s->h.pid);
    const char *comm = comm_of(it->s);
    if (o->show == FOLLOW_CONNECTS) {
        char out[96];
        outcome_text(it, out, sizeof out);
        bool bad = it->sock.outcome == ST_CONN_FAILED || it->sock.outcome == ST_CONN_GAVE_UP;
        const char *cells[] = {c.time, pid, comm, c.call, c.fd, c.local, c.peer, out};
        const char *colors[] = {NULL, NULL, NULL, NULL, NULL, NULL, NULL, bad ? C_RED : NULL};
        table_add(t, cells, colors);
    } else if (o->show == FOLLOW_CLOSES) {
        const struct st_sock *so = event_closed(it->s, &it->e);
        char tx[24] = "-", rx[24] = "-", ms[32] = "-";
        if (so && (so->flags & ST_SF_TCPINFO)) {
            snprintf(tx, sizeof tx, "%" PRIu64, so->bytes_sent);
            snprintf(rx, sizeof rx, "%" PRIu64, so->bytes_received);
        }
        if (so && so->closed_ns >= so->opened_ns)
            snprintf(ms, sizeof ms, "%.3f", (double)(so->closed_ns - so->opened_ns) / 1e6);
        const char *cells[] = {c.time, pid, comm, c.fd, c.local, c.peer, tx, rx, ms};
        table_add(t, cells, NULL);
    } else {
        const char *cells[] = {c.time, pid, comm, c.call, c.fd, c.result, c.local, c.peer, c.tcp};
        const char *colors[] = {NULL, NULL, NULL, NULL, NULL, c.failed ? C_RED : NULL,
                                NULL, NULL, NULL};
        table_add(t, cells, colors);
    }
}

static void json_row(const struct conn_index *ci, const struct item *it)
{
    bool first = true;
    fputc('{', stdout);
    event_json_fields(stdout, &first, it->s, ci, &it->e);
    if (it->has_sock)
        json_outcome(stdout, &first, &it->sock);
    fputs("}\n", stdout);
}

/* Prints the batch in time order; false once --count is reached. */
static bool print_batch(struct watcher *W)
{
    const struct follow_opts *o = W->o;
    bool go_on = true;
    if (!o->json && !W->header_done) {
        struct table *t = new_table(o);
        table_print(t, stdout);     /* the header alone: we are watching */
        table_free(t);
        W->header_done = true;
    }
    if (!W->n_items)
        return true;
    qsort(W->items, W->n_items, sizeof *W->items, by_time);
    /* loaded for each batch: the other ends are often new processes */
    struct conn_index *ci = conn_index_new();
    conn_index_add_dir(ci, W->c->dir);
    struct table *t = o->json ? NULL : new_table(o);
    if (t)
        table_skip_header(t);
    for (size_t i = 0; i < W->n_items; i++) {
        if (o->json)
            json_row(ci, &W->items[i]);
        else
            text_row(t, o, ci, &W->items[i]);
        if (o->count && ++W->printed >= o->count) {
            go_on = false;
            break;
        }
    }
    if (t)
        table_print(t, stdout);
    table_free(t);
    conn_index_free(ci);
    fflush(stdout);
    return go_on;
}

/* One look at every file; returns false when done (tree ended, count). */
static bool poll_once(struct watcher *W)
{
    const struct follow_opts *o = W->o;
    scan(W);
    struct watched *w, *tmp;
    /* first every header: a child's membership needs its parent's */
    HASH_ITER(hh, W->files, w, tmp) {
        if (w->done || w->have_header)
            continue;
        struct st_header h;
        if (snap_read_header(w->path, true, &h) != 0) {
            if (++w->bad_reads >= BAD_READS) {
                struct snapshot s;
                char err[256] = "cannot be read";
                if (snap_load(w->path, SNAP_HEADER, &s, err, sizeof err) == 0)
                    snap_free(&s);
                fprintf(stderr, "%s: %s: %s\n", W->c->prog, w->path, err);
                w->done = true;
            }
            continue;
        }
        w->ppid = h.ppid;
        w->start_ns = h.start_ns;
        w->have_header = true;
        if (o->tree && !strcmp(w->path, o->root_path))
            W->root_start = h.start_ns;
    }
    size_t n_snaps = 0;
    struct snapshot *snaps = calloc(HASH_COUNT(W->files) + 1, sizeof *snaps);
    if (!snaps)
        return true;
    bool tree_alive = false;
    HASH_ITER(hh, W->files, w, tmp) {
        if (w->done || !w->have_header)
            continue;
        int m = member(W, w);
        if (m == 0) {
            w->done = true;
            continue;
        }
        if (m < 0)
            continue;
        /* alive first, then the head: what it wrote before it ended is
         * below the head we read after */
        bool alive = snap_pid_running(w->pid, w->proc_start);
        struct st_header h;
        if (snap_read_header(w->path, true, &h) != 0)
            continue;
        uint64_t head = __atomic_load_n(&h.events.head.v, __ATOMIC_RELAXED);
        if (!w->primed) {
            w->next = head;
            w->primed = true;
        }
        tree_alive |= alive;
        if (head <= w->next && !w->n_held) {
            w->done = !alive;
            continue;
        }
        unsigned what = SNAP_EVENTS | SNAP_HISTORY |
                        (o->show == FOLLOW_CONNECTS || (o->sel && select_has_filter(o->sel))
                         ? SNAP_TABLE : 0) | (o->sel ? select_what(o->sel) : 0);
        struct snapshot *s = &snaps[n_snaps];
        char err[256];
        if (snap_load_since(w->path, what, w->next, s, err, sizeof err) != 0) {
            fprintf(stderr, "%s: %s: %s\n", W->c->prog, w->path, err);
            w->done = true;
            continue;
        }
        n_snaps++;
        if (s->events_lost)
            fprintf(stderr, "%s: pid %d: %" PRIu64 " calls overwritten in its ring "
                    "before they were read\n", W->c->prog, w->pid, s->events_lost);
        if (o->sel)
            select_resolve(o->sel, s, 1);
        take(W, w, s, alive);
        tree_alive |= w->next < s->events_head || w->n_held;
    }
    bool go_on = print_batch(W);
    W->n_items = 0;
    for (size_t i = 0; i < n_snaps; i++)
        snap_free(&snaps[i]);
    free(snaps);
    /* events -f PID: over when the process and its children have ended */
    if (o->tree && W->root_start && !tree_alive)
        return false;
    return go_on;
}

int follow_run(struct ctx *c, const struct follow_opts *o)
{
    struct watcher W = {.c = c, .o = o, .first_scan = true};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;        /* no SA_RESTART: the sleep ends at once */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    setvbuf(stdout, NULL, _IOLBF, 0);
    color_init(stdout, o->json);
    uint64_t deadline = o->timeout > 0 ? now_ns(CLOCK_MONOTONIC) + (uint64_t)(o->timeout * 1e9) : 0;
    bool more = true;
    while (!stop) {
        if (!(more = poll_once(&W)))
            break;
        uint64_t t = now_ns(CLOCK_MONOTONIC);
        if (deadline && t >= deadline)
            break;
        uint64_t wait = POLL_NS;
        if (deadline && deadline - t < wait)
            wait = deadline - t;
        struct timespec ts = {(time_t)(wait / 1000000000ull), (long)(wait % 1000000000ull)};
        nanosleep(&ts, NULL);
    }
    /* Ctrl-C or SIGTERM: one more look, begun after the signal, so every
     * call made before it is printed */
    if (stop && more)
        poll_once(&W);
    struct watched *w, *tmp;
    HASH_ITER(hh, W.files, w, tmp) {
        HASH_DEL(W.files, w);
        free(w->held);
        free(w);
    }
    free(W.items);
    fflush(stdout);
    return 0;
}
