/* cmd_events.c - `socktrace events PID`: every recorded call of a process
 * in order, failures included; --json prints JSON Lines, one object per
 * call. -f hands over to the live stream of cmd_watch.c, which prints each
 * call with the writers here (watch.h). */
#define _GNU_SOURCE
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "describe.h"
#include "output.h"
#include "peerjoin.h"
#include "sockaddr_conv.h"
#include "tracedb.h"
#include "watch.h"

static const char usage[] =
    "usage: socktrace events PID [--json]\n"
    "       socktrace events -f [PID] [--json] [--since TIME|DURATION]\n"
    "  Prints every intercepted call of a traced process, in order: time,\n"
    "  thread, call, fd, result (value or errno name), local and peer after it.\n"
    "  -f, --follow  print new calls as they happen, from now on, until Ctrl-C:\n"
    "                of PID and the children it forks (until they all end),\n"
    "                or without PID of every traced process (as watch)\n"
    "  --since T     with -f, start earlier: 30s, 5m, 2h, 14:05, @EPOCH,\n"
    "                2026-11-24T18:09:11 (from what the ring still holds)\n"
    "  -j, --json    JSON Lines: one object per call\n"
    "  -h, --help    this text\n";

static void result_text(const struct st_event *e, char *buf, size_t size)
{
    char tmp[16];
    if (e->ret < 0 && e->err)
        snprintf(buf, size, "-1 %s", errno_name(e->err, tmp, sizeof tmp));
    else if (e->call == ST_CALL_GETSOCKOPT && e->ret == 0)    /* fd2: the value */
        snprintf(buf, size, "0 SO_ERROR=%s", e->fd2 ? errno_name(e->fd2, tmp, sizeof tmp) : "0");
    else
        snprintf(buf, size, "%" PRId64, e->ret);
}

static void fd_text(const struct st_event *e, char *buf, size_t size)
{
    bool two = e->fd2 >= 0 && (e->call == ST_CALL_ACCEPT || e->call == ST_CALL_ACCEPT4 ||
                               e->call == ST_CALL_DUP || e->call == ST_CALL_DUP2 ||
                               e->call == ST_CALL_DUP3 || e->call == ST_CALL_SOCKETPAIR ||
                               (e->call == ST_CALL_FCNTL && e->ret >= 0 && e->fd2 == e->ret) ||
                               e->call == ST_CALL_RECVMSG);
    if (e->fd < 0)
        snprintf(buf, size, "-");
    else if (two)
        snprintf(buf, size, "%d→%d", e->fd, e->fd2);
    else
        snprintf(buf, size, "%d", e->fd);
}

static bool is_lookup(const struct st_event *e)
{
    return e->call == ST_CALL_GETADDRINFO || e->call == ST_CALL_GETHOSTBYNAME;
}

/* The peer cell: the address (just the IP for a lookup, which has no
 * port), then the name it was looked up by. */
static bool peer_text(const struct snapshot *s, const struct st_event *e,
                      char *buf, size_t size, const char **host)
{
    *host = snap_host_of(s, &e->peer);
    if (!addr_text(&e->peer, buf, size))
        return false;
    if (is_lookup(e)) {
        size_t l = strlen(buf);
        if (l > 2 && strcmp(buf + l - 2, ":0") == 0)
            buf[l -= 2] = 0;
        if (buf[0] == '[' && l > 2 && buf[l - 1] == ']') {
            memmove(buf, buf + 1, l - 2);
            buf[l - 2] = 0;
        }
    }
    return true;
}

/* The history entry a close event closed: same fd and endpoints, moved to
 * history right after the event was written. It carries the byte counts
 * and lifetime the event has no room for. */
const struct st_sock *event_closed(const struct snapshot *s, const struct st_event *e)
{
    if (e->call != ST_CALL_CLOSE && e->call != ST_CALL_CLOSE_RANGE)
        return NULL;
    const struct st_sock *best = NULL;
    for (size_t i = 0; i < s->n_closed; i++) {
        const struct st_sock *c = &s->closed[i];
        if (c->fd != e->fd || c->closed_ns < e->ns || c->closed_ns - e->ns > 1000000000u ||
            !st_addr_same(&c->local, &e->local) || !st_addr_same(&c->peer, &e->peer))
            continue;
        if (!best || c->closed_ns < best->closed_ns)
            best = c;
    }
    return best;
}

/* The entry an event acted on: same fd and endpoints, open at the time of
 * the call (for accept, the new fd). */
static const struct st_sock *sock_at(const struct snapshot *s, const struct st_event *e)
{
    int fd = e->fd2 >= 0 && (e->call == ST_CALL_ACCEPT || e->call == ST_CALL_ACCEPT4) ? e->fd2 : e->fd;
    const struct st_sock *lists[] = {s->open, s->closed};
    size_t counts[] = {s->n_open, s->n_closed};
    for (size_t l = 0; l < 2; l++)
        for (size_t i = 0; i < counts[l]; i++) {
            const struct st_sock *so = &lists[l][i];
            if (so->fd == fd && so->opened_ns <= e->ns &&
                (!so->closed_ns || so->closed_ns >= e->ns) &&
                st_addr_same(&so->local, &e->local) && st_addr_same(&so->peer, &e->peer))
                return so;
        }
    return NULL;
}

/* The traced socket at the other end of the connection an event acted on,
 * joined through the entry the event acted on: its whole lifetime, not
 * the moment of the call, must overlap the other end's (a connect returns
 * before the server's accept). */
static void event_peer(const struct conn_index *ci, const struct snapshot *s,
                       const struct st_event *e, struct sock_extra *x)
{
    memset(x, 0, sizeof *x);
    if (!ci || is_lookup(e) ||
        (e->peer.kind != ST_ADDR_INET && e->peer.kind != ST_ADDR_INET6))
        return;
    /* first, cheaply: is any traced socket at the other end of this pair? */
    struct st_sock any;
    memset(&any, 0, sizeof any);
    any.local = e->local;
    any.peer = e->peer;
    any.sock_id = UINT64_MAX;
    static const int types[] = {SOCK_STREAM, SOCK_DGRAM};
    for (size_t i = 0; i < 2 && !x->peer_pid; i++) {
        any.type = (uint16_t)types[i];
        conn_index_extra(ci, s, &any, x);
    }
    if (!x->peer_pid)
        return;
    const struct st_sock *so = event_closed(s, e);
    if (!so)
        so = sock_at(s, e);
    if (so)
        conn_index_extra(ci, s, so, x);
}

void event_json_fields(FILE *f, bool *first, const struct snapshot *s,
                       const struct conn_index *ci, const struct st_event *e)
{
    const char *host;
    char t[64], a[ADDR_TEXT_MAX], tmp[16];
    json_key(f, first, "pid");
    fprintf(f, "%d", s->h.pid);
    json_key(f, first, "seq");
    fprintf(f, "%" PRIu64, e->serial);
    json_key(f, first, "time");
    time_text(e->ns, t, sizeof t);
    json_str(f, t);
    json_key(f, first, "tid");
    fprintf(f, "%d", e->tid);
    json_key(f, first, "call");
    json_str(f, call_name(e->call));
    json_key(f, first, "fd");
    fprintf(f, "%d", e->fd);
    bool so_error = e->call == ST_CALL_GETSOCKOPT;   /* fd2 holds the value */
    json_key(f, first, "fd2");
    if (e->fd2 >= 0 && !so_error)
        fprintf(f, "%d", e->fd2);
    else
        fputs("null", f);
    if (so_error) {
        json_key(f, first, "so_error");
        if (e->fd2 > 0)
            json_str(f, errno_name(e->fd2, tmp, sizeof tmp));
        else
            fputs(e->fd2 == 0 ? "0" : "null", f);
    }
    json_key(f, first, "ret");
    fprintf(f, "%" PRId64, e->ret);
    json_key(f, first, "errno");
    json_str(f, e->ret < 0 && e->err ? errno_name(e->err, tmp, sizeof tmp) : NULL);
    json_key(f, first, "local");
    json_str(f, addr_text(&e->local, a, sizeof a) ? a : NULL);
    json_key(f, first, "peer");
    json_str(f, peer_text(s, e, a, sizeof a, &host) ? a : NULL);
    json_key(f, first, "host");
    json_str(f, host);
    struct sock_extra x;
    event_peer(ci, s, e, &x);
    json_key(f, first, "peer_pid");
    if (x.peer_pid)
        fprintf(f, "%d", x.peer_pid);
    else
        fputs("null", f);
    json_key(f, first, "peer_fd");
    if (x.peer_pid)
        fprintf(f, "%d", x.peer_fd);
    else
        fputs("null", f);
    const struct st_sock *c = event_closed(s, e);
    if (c)
        json_life(f, first, c);
}

static void print_json(const struct snapshot *s, const struct conn_index *ci,
                       const struct st_event *e)
{
    bool first = true;
    fputc('{', stdout);
    event_json_fields(stdout, &first, s, ci, e);
    fputs("}\n", stdout);
}

void event_cells(const struct snapshot *s, const struct conn_index *ci,
                 const struct st_event *e, struct event_cells *c)
{
    const char *host;
    c->tcp[0] = 0;
    const struct st_sock *cl = event_closed(s, e);
    if (cl)
        tcp_text(cl, c->tcp, sizeof c->tcp);
    time_text(e->ns, c->time, sizeof c->time);
    snprintf(c->tid, sizeof c->tid, "%d", e->tid);
    c->call = call_name(e->call);
    fd_text(e, c->fd, sizeof c->fd);
    result_text(e, c->result, sizeof c->result);
    c->failed = e->ret < 0;
    if (!addr_text(&e->local, c->local, sizeof c->local))
        strcpy(c->local, "-");
    char *peer = c->peer;
    size_t size = sizeof c->peer;
    if (!peer_text(s, e, peer, size, &host))
        strcpy(peer, "-");
    else if (host)
        snprintf(peer + strlen(peer), size - strlen(peer), " (%.200s)", host);
    struct sock_extra x;
    event_peer(ci, s, e, &x);
    if (x.peer_pid)
        snprintf(peer + strlen(peer), size - strlen(peer), " [pid %d %.32s fd %d]",
                 x.peer_pid, x.peer_comm ? x.peer_comm : "?", x.peer_fd);
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

int cmd_events(struct ctx *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"follow", no_argument, NULL, 'f'},
        {"since", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    struct follow_opts fo = {0};
    bool follow = false;
    const char *since = NULL;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "jfh", opts, NULL)) != -1) {
        switch (o) {
        case 'j': fo.json = true; break;
        case 'f': follow = true; break;
        case 's': since = optarg; break;
        case 'h': fputs(usage, stdout); return 0;
        default: return usage_error(usage, NULL, NULL);
        }
    }
    if (since && !follow)
        return usage_error(usage, "--since goes with -f", NULL);
    if (follow && since && follow_since(since, &fo.since_ns) != 0)
        return usage_error(usage, "--since: not a time or a duration: %s", since);
    if (follow && optind == argc)
        return follow_run(c, &fo);      /* every traced process, as watch */
    struct trace_ref ref;
    int status = pid_trace(c, argc, argv, usage, &ref);
    if (status)
        return status;
    if (follow) {
        /* the process and every child it forks from now on */
        fo.pid = ref.pid;
        fo.tree = true;
        snprintf(fo.root_path, sizeof fo.root_path, "%s", ref.path);
        return follow_run(c, &fo);
    }
    color_init(stdout, fo.json);
    struct snapshot s;
    char err[256];
    if (snap_load(ref.path, SNAP_EVENTS | SNAP_HISTORY, &s, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s: %s\n", c->prog, ref.path, err);
        return 1;
    }
    if (s.events_lost && !fo.json)
        fprintf(stderr, "%s: %" PRIu64 " earlier calls overwritten in the ring\n",
                c->prog, s.events_lost);
    struct table *t = fo.json ? NULL : table_new(8, headers);
    struct conn_index *ci = NULL;
    if (s.n_events) {
        ci = conn_index_new();
        conn_index_add_dir(ci, c->dir);
    }
    for (size_t i = 0; i < s.n_events; i++) {
        if (fo.json)
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
