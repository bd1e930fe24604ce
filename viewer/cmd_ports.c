/* cmd_ports.c - `socktrace ports`: the audit view across every traced
 * process: each listening or bound port, who holds it, whether the program
 * asked for it or the kernel chose it, whether other hosts can reach it;
 * and the ephemeral ports each process got for its outgoing connections,
 * with where they went (by name where it looked one up) and the bytes. */
#define _GNU_SOURCE
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "resolve.h"
#include "commands.h"
#include "describe.h"
#include "nsmap.h"
#include "output.h"
#include "json_out.h"
#include "peerjoin.h"
#include "select.h"
#include "sockaddr_conv.h"
#include "tracedb.h"

static const char usage[] =
    "usage: socktrace ports [PID...|NAME] [FILTER] [--json] [--all] [--wide] [--sort KEY]\n"
    "  Every listening or bound port of the traced processes that run now,\n"
    "  once with every process holding it (nginx[1200,1201]): protocol,\n"
    "  address, port, whether the program asked for the port or the kernel\n"
    "  chose it, and whether it is reachable from other hosts (a wildcard or\n"
    "  a non-loopback address). Then the ephemeral ports each process got,\n"
    "  and the destinations of those connections with their byte counts.\n"
    "  -a, --all     include processes that have ended (marked ENDED)\n"
    "  -j, --json    one JSON object\n"
    SELECT_USAGE SELECT_SORT_USAGE
    "  -w, --wide    every cell whole, however wide the terminal\n"
    "  -h, --help    this text\n";

static const char *exposure(const struct st_sock *s)
{
    if (s->local.kind == ST_ADDR_UNIX || s->local.kind == ST_ADDR_UNNAMED)
        return "local (unix)";
    if (addr_is_wildcard(&s->local))
        return "REACHABLE: all interfaces";
    if (addr_is_loopback(&s->local))
        return "loopback only";
    return "REACHABLE: this address";
}

static bool is_port(const struct st_sock *s)
{
    if (s->state == ST_STATE_LISTENING)
        return true;
    /* a bound datagram socket receives from anyone: it is a port too */
    return s->state == ST_STATE_BOUND && s->type == SOCK_DGRAM &&
           s->local.kind != ST_ADDR_NONE;
}

/* one destination of a process's outgoing connections */
struct dest {
    struct st_addr peer;
    const char *host;
    int peer_pid;               /* a traced process at the other end, or 0 */
    const char *peer_comm;
    unsigned count;             /* connected (or never known otherwise) */
    unsigned connecting, failed;
    struct {                    /* why they failed; err -1: timed out */
        int err;
        unsigned n;
    } why[8];
    uint64_t sent, received;    /* closed TCP connections only */
};

static void add_failure(struct dest *d, int err)
{
    d->failed++;
    for (size_t i = 0; i < sizeof d->why / sizeof d->why[0]; i++) {
        if (d->why[i].n && d->why[i].err != err)
            continue;
        d->why[i].err = err;
        d->why[i].n++;
        return;
    }
}

static const char *why_name(int err, char *buf, size_t size)
{
    if (err < 0)
        return "timed_out";
    return err ? errno_name(err, buf, size) : "unknown";
}

struct eph {
    unsigned count, lo, hi;
    struct dest *d;
    size_t n, cap;
};

static void add_dest(struct eph *e, const struct snapshot *snap, const struct conn_index *ci,
                     const struct st_sock *s)
{
    struct dest *d = NULL;
    for (size_t i = 0; i < e->n && !d; i++)
        if (st_addr_same(&e->d[i].peer, &s->peer))
            d = &e->d[i];
    if (!d) {
        if (e->n == e->cap) {
            size_t cap = e->cap ? 2 * e->cap : 8;
            void *p = realloc(e->d, cap * sizeof *e->d);
            if (!p)
                return;     /* the counts above stay right; this row is lost */
            e->d = p;
            e->cap = cap;
        }
        d = &e->d[e->n++];
        *d = (struct dest){.peer = s->peer, .host = snap_host_of(snap, &s->peer)};
    }
    if (s->outcome == ST_CONN_FAILED)
        add_failure(d, s->connect_err);
    else if (s->outcome == ST_CONN_GAVE_UP)
        add_failure(d, -1);
    else if (s->outcome == ST_CONN_PENDING && s->state != ST_STATE_CLOSED)
        d->connecting++;
    else
        d->count++;
    if (!d->peer_pid) {
        struct sock_extra x;
        conn_index_extra(ci, snap, s, &x);
        d->peer_pid = x.peer_pid;
        d->peer_comm = x.peer_comm;
    }
    if (s->flags & ST_SF_TCPINFO) {
        d->sent += s->bytes_sent;
        d->received += s->bytes_received;
    }
}

/* "127.0.0.1:8080 (vm) x3, [::1]:443 x1, +2 more" */
static void dest_text(const struct eph *e, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = 0;
    for (size_t i = 0; i < e->n && len + 1 < size; i++) {
        if (i == 3) {
            snprintf(buf + len, size - len, ", +%zu more", e->n - 3);
            return;
        }
        char a[ADDR_TEXT_MAX];
        if (!addr_text(&e->d[i].peer, a, sizeof a))
            strcpy(a, "-");
        const struct dest *d = &e->d[i];
        int w = snprintf(buf + len, size - len, "%s%s%s%s%s", i ? ", " : "", a,
                         d->host ? " (" : "", d->host ? d->host : "", d->host ? ")" : "");
        if (w < 0 || (size_t)w >= size - len)
            return;
        len += (size_t)w;
        if (d->count || (!d->failed && !d->connecting))
            len += (size_t)snprintf(buf + len, size - len, " x%u", d->count);
        if (d->connecting && len < size)
            len += (size_t)snprintf(buf + len, size - len, " connecting x%u", d->connecting);
        for (size_t k = 0; k < sizeof d->why / sizeof d->why[0] && d->why[k].n && len < size; k++) {
            char eb[16];
            len += (size_t)snprintf(buf + len, size - len, " %s%s x%u",
                                    d->why[k].err < 0 ? "timed out" : "failed ",
                                    d->why[k].err < 0 ? "" :
                                    why_name(d->why[k].err, eb, sizeof eb), d->why[k].n);
        }
        if (len >= size)
            return;
        if (e->d[i].peer_pid) {
            w = snprintf(buf + len, size - len, " [pid %d %.32s]", e->d[i].peer_pid,
                         e->d[i].peer_comm ? e->d[i].peer_comm : "?");
            if (w < 0 || (size_t)w >= size - len)
                return;
            len += (size_t)w;
        }
    }
}

static void dest_json(FILE *f, const struct eph *e)
{
    fputs(",\"destinations\":[", f);
    for (size_t i = 0; i < e->n; i++) {
        const struct dest *d = &e->d[i];
        int err[sizeof d->why / sizeof d->why[0]];
        unsigned n[sizeof d->why / sizeof d->why[0]];
        size_t k = 0;
        for (; k < sizeof d->why / sizeof d->why[0] && d->why[k].n; k++) {
            err[k] = d->why[k].err;
            n[k] = d->why[k].n;
        }
        struct json_dest jd = {
            .peer = &d->peer, .host = d->host, .peer_pid = d->peer_pid,
            .peer_comm = d->peer_comm, .connections = d->count,
            .connecting = d->connecting, .failed = d->failed,
            .err = err, .err_n = n, .nerr = k,
            .bytes_sent = d->sent, .bytes_received = d->received,
        };
        if (i)
            fputc(',', f);
        json_destination(f, &jd);
    }
    fputc(']', f);
}

static void ephemeral(struct eph *e, const struct snapshot *snap, const struct conn_index *ci,
                      const struct st_sock *s)
{
    if (s->origin != ST_ORIGIN_SOCKET || !(s->flags & ST_SF_PORT_CHOSEN) ||
        s->peer.kind == ST_ADDR_NONE || is_port(s) ||
        (s->local.kind != ST_ADDR_INET && s->local.kind != ST_ADDR_INET6))
        return;
    unsigned p = s->local.port;
    if (!e->count || p < e->lo)
        e->lo = p;
    if (!e->count || p > e->hi)
        e->hi = p;
    e->count++;
    add_dest(e, snap, ci, s);
}

/* One row of the text table: a listening or bound socket, once however
 * many processes hold it (nginx's master and workers share their
 * listeners), as ss prints it. */
struct holder {
    int pid;
    bool ended;
    char comm[32];
};

struct port_row {
    uint64_t inode;             /* from /proc while a holder runs, else 0 */
    uint64_t sock_id;           /* the trace's id, kept across fork */
    const struct st_sock *so;   /* the first holder's entry */
    const char *exposure;
    char cmd[ST_CMDLINE_MAX];
    struct holder *h;
    size_t nh;
};

static bool same_socket(const struct port_row *r, const struct st_sock *so, uint64_t ino)
{
    if (r->inode && ino)
        return r->inode == ino;
    /* an ended holder: the id a forked child keeps, at the same address */
    return r->sock_id && r->sock_id == so->sock_id && r->so->type == so->type &&
           st_addr_same(&r->so->local, &so->local);
}

static void add_port_row(struct port_row **rows, size_t *n, const struct snapshot *s,
                         const struct st_sock *so, const char *x, const char *cmd)
{
    uint64_t ino = s->alive ? proc_fd_inode(s->h.pid, so->fd) : 0;
    struct port_row *r = NULL;
    for (size_t i = 0; i < *n && !r; i++)
        if (same_socket(&(*rows)[i], so, ino))
            r = &(*rows)[i];
    if (!r) {
        void *p = realloc(*rows, (*n + 1) * sizeof **rows);
        if (!p)
            return;
        *rows = p;
        r = &(*rows)[(*n)++];
        *r = (struct port_row){.inode = ino, .sock_id = so->sock_id, .so = so, .exposure = x};
        snprintf(r->cmd, sizeof r->cmd, "%s", cmd);
    } else if (!r->inode) {
        r->inode = ino;
    }
    size_t at = 0;      /* pids in order, as people scan them */
    for (; at < r->nh && r->h[at].pid <= s->h.pid; at++)
        if (r->h[at].pid == s->h.pid)
            return;     /* two fds of one process: one holder, as in ss */
    void *p = realloc(r->h, (r->nh + 1) * sizeof *r->h);
    if (!p)
        return;
    r->h = p;
    memmove(&r->h[at + 1], &r->h[at], (r->nh - at) * sizeof *r->h);
    r->nh++;
    struct holder *h = &r->h[at];
    h->pid = s->h.pid;
    h->ended = !s->alive;
    const char *c = s->h.cmdline_len ? s->h.cmdline : "?";
    const char *slash = strrchr(c, '/');
    snprintf(h->comm, sizeof h->comm, "%.*s", (int)sizeof h->comm - 1, slash ? slash + 1 : c);
}

/* "nginx[1200,1201,1202]", "a[1],b[2 ENDED]": holders by command name */
static void holders_text(const struct port_row *r, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = 0;
    bool *done = calloc(r->nh ? r->nh : 1, sizeof *done);
    if (!done)
        return;
    for (size_t i = 0; i < r->nh; i++) {
        if (done[i])
            continue;
        len += (size_t)snprintf(buf + len, len < size ? size - len : 0, "%s%s[",
                                i ? "," : "", r->h[i].comm);
        bool first = true;
        for (size_t k = i; k < r->nh; k++) {
            if (done[k] || strcmp(r->h[k].comm, r->h[i].comm))
                continue;
            done[k] = true;
            len += (size_t)snprintf(buf + len, len < size ? size - len : 0, "%s%d%s",
                                    first ? "" : ",", r->h[k].pid,
                                    r->h[k].ended ? " ENDED" : "");
            first = false;
        }
        len += (size_t)snprintf(buf + len, len < size ? size - len : 0, "]");
    }
    free(done);
}

/* ADDRESS and PORT cells: "127.0.0.1" and "8080", "::1", "*"; a unix
 * socket's path and "-" */
static void addr_port_cells(const struct st_sock *so, char *addr, size_t size, char *port)
{
    strcpy(port, "-");
    if (!addr_text(&so->local, addr, size)) {
        snprintf(addr, size, "-");
        return;
    }
    if (so->local.kind != ST_ADDR_INET && so->local.kind != ST_ADDR_INET6)
        return;
    char *colon = strrchr(addr, ':');
    if (!colon)
        return;
    snprintf(port, 8, "%u", so->local.port);
    *colon = 0;
    if (addr[0] == '[' && colon > addr && colon[-1] == ']') {
        colon[-1] = 0;
        memmove(addr, addr + 1, strlen(addr + 1) + 1);
    }
}

static void print_ports(const struct port_row *rows, size_t n, FILE *f)
{
    static const char *const h1[] = {"PROTO", "ADDRESS", "PORT", "ORIGIN", "EXPOSURE",
                                     "PROCESSES", "COMMAND"};
    struct table *t = table_new(7, h1);
    for (size_t i = 0; i < n; i++) {
        const struct port_row *r = &rows[i];
        char addr[ADDR_TEXT_MAX], port[8], who[1024];
        addr_port_cells(r->so, addr, sizeof addr, port);
        holders_text(r, who, sizeof who);
        const char *cells[] = {proto_name(r->so), addr, port,
                               r->so->flags & ST_SF_PORT_CHOSEN ? "kernel" : "asked",
                               r->exposure, who, r->cmd};
        const char *colors[] = {NULL, NULL, NULL, NULL,
                                strncmp(r->exposure, "REACHABLE", 9) == 0 ? C_YELLOW : NULL,
                                NULL, NULL};
        table_add(t, cells, colors);
    }
    table_print(t, f);
    table_free(t);
}

/* What cmd_ports prints, gathered over the selected processes. */
struct ports {
    const struct selection *sel;
    const struct conn_index *ci;
    bool json, all;
    bool first_p;               /* json: no port object printed yet */
    struct port_row *prows;     /* text: one per socket, with its holders */
    size_t n_prows;
    struct table *ephs;         /* text: the ephemeral ports */
    bool any_eph;
    FILE *ej;                   /* json: the "ephemeral" array, kept until the end */
    char *eph_json;
    size_t eph_len;
    bool first_e;
};

/* The port rows of every selected process, in --sort order. */
static void port_rows(struct ports *P, const struct snapshot *snaps, size_t good)
{
    size_t total = 0, nrows = 0;
    for (size_t i = 0; i < good; i++)
        total += snaps[i].n_open;
    struct sel_row *rows = calloc(total + 1, sizeof *rows);
    for (size_t i = 0; rows && i < good; i++) {
        const struct snapshot *s = &snaps[i];
        for (size_t k = 0; (s->alive || P->all) && k < s->n_open; k++)
            if (is_port(&s->open[k]) && select_socket(P->sel, s, &s->open[k]))
                rows[nrows++] = (struct sel_row){s, &s->open[k]};
    }
    select_sort_rows(P->sel, rows, nrows);
    for (size_t r = 0; r < nrows; r++) {
        const struct snapshot *s = rows[r].snap;
        const struct st_sock *so = rows[r].sock;
        char cmd[ST_CMDLINE_MAX];
        cmdline_text(&s->h, cmd, sizeof cmd);
        const char *x = exposure(so);
        if (P->json) {
            struct sock_extra sx;
            conn_index_extra(P->ci, s, so, &sx);
            if (!P->first_p)
                fputc(',', stdout);
            P->first_p = false;
            json_port(stdout, s, so, &sx, strncmp(x, "REACHABLE", 9) == 0, x);
        } else {
            add_port_row(&P->prows, &P->n_prows, s, so, x, cmd);
        }
    }
    free(rows);
}

/* The ephemeral ports of one process, as a row or a JSON object. */
static void eph_row(struct ports *P, const struct snapshot *s, const struct eph *e)
{
    char cmd[ST_CMDLINE_MAX], pid[16], cnt[16], range[32];
    cmdline_text(&s->h, cmd, sizeof cmd);
    snprintf(pid, sizeof pid, "%d", s->h.pid);
    snprintf(cnt, sizeof cnt, "%u", e->count);
    snprintf(range, sizeof range, e->lo == e->hi ? "%u" : "%u-%u", e->lo, e->hi);
    P->any_eph = true;
    if (P->json) {
        fprintf(P->ej, "%s{\"process\":", P->first_e ? "" : ",");
        json_process(P->ej, s);
        fprintf(P->ej, ",\"count\":%u,\"lowest\":%u,\"highest\":%u", e->count, e->lo, e->hi);
        dest_json(P->ej, e);
        fputc('}', P->ej);
        P->first_e = false;
    } else {
        char to[4 * ADDR_TEXT_MAX];
        dest_text(e, to, sizeof to);
        const char *cells[] = {pid, cnt, range, to, cmd};
        table_add(P->ephs, cells, NULL);
    }
}

static void eph_rows(struct ports *P, const struct snapshot *snaps, size_t good)
{
    for (size_t i = 0; i < good; i++) {
        const struct snapshot *s = &snaps[i];
        if ((!s->alive && !P->all) || !select_process(P->sel, s))
            continue;
        struct eph e = {0};
        for (size_t k = 0; k < s->n_open; k++)
            if (select_socket(P->sel, s, &s->open[k]))
                ephemeral(&e, s, P->ci, &s->open[k]);
        for (size_t k = 0; k < s->n_closed; k++)
            if (select_socket(P->sel, s, &s->closed[k]))
                ephemeral(&e, s, P->ci, &s->closed[k]);
        if (e.count)
            eph_row(P, s, &e);
        free(e.d);
    }
}

static void print_all(struct ports *P, const char *dir)
{
    if (P->json) {
        fclose(P->ej);
        printf("],\"ephemeral\":[%s]}\n", P->eph_json ? P->eph_json : "");
        free(P->eph_json);
        return;
    }
    if (P->n_prows)
        print_ports(P->prows, P->n_prows, stdout);
    else
        printf("no listening or bound ports in the traced processes of %s\n", dir);
    if (P->any_eph) {
        fputc('\n', stdout);
        table_print(P->ephs, stdout);
    }
}

int cmd_ports(struct ctx *c, int argc, char **argv)
{
    static const struct option opts[] = {{"all", no_argument, NULL, 'a'}, {0, 0, 0, 0}};
    static const char *const h2[] = {"PID", "EPHEMERAL", "RANGE", "TO", "COMMAND"};
    struct ports P = {.first_p = true, .first_e = true};
    const struct verb_opts own = {opts, "a", verb_take_flag, &(struct verb_flag){'a', &P.all}};
    struct verb_args a;
    int status = verb_args(c, argc, argv, usage, VERB_JSON | VERB_WIDE | VERB_SELECT, &own, &a);
    if (status >= 0)
        return status;
    P.json = a.json;
    P.sel = a.sel;
    color_init(stdout, P.json);
    size_t good, bad;
    struct snapshot *snaps = tracedb_load_all(c->dir, SNAP_TABLE | SNAP_HISTORY | select_what(a.sel),
                                              c->prog, &good, &bad);
    select_resolve(a.sel, snaps, good);
    char why[256];
    const char *none = select_nothing(a.sel, why, sizeof why);
    if (none)
        fprintf(stderr, "%s: %s\n", c->prog, none);
    /* the other ends of outgoing connections, among all traced processes */
    struct conn_index *ci = conn_index_new();
    for (size_t i = 0; i < good; i++)
        conn_index_add(ci, &snaps[i]);
    P.ci = ci;
    P.ephs = P.json ? NULL : table_new(5, h2);
    if (P.json) {
        printf("{\"schema_version\":%d,\"ports\":[", JSON_SCHEMA_VERSION);
        P.ej = open_memstream(&P.eph_json, &P.eph_len);
    }
    port_rows(&P, snaps, good);
    eph_rows(&P, snaps, good);
    print_all(&P, c->dir);
    for (size_t i = 0; i < P.n_prows; i++)
        free(P.prows[i].h);
    free(P.prows);
    table_free(P.ephs);
    conn_index_free(ci);
    for (size_t i = 0; i < good; i++)
        snap_free(&snaps[i]);
    free(snaps);
    select_free(a.sel);
    return (bad && !good) || none ? 1 : 0;
}
