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

#include "commands.h"
#include "describe.h"
#include "nsmap.h"
#include "output.h"
#include "peerjoin.h"
#include "sockaddr_conv.h"
#include "tracedb.h"

static const char usage[] =
    "usage: socktrace ports [--json] [--all]\n"
    "  Every listening or bound port of the traced processes that run now:\n"
    "  protocol, address, pid, command, whether the kernel chose the port,\n"
    "  and whether it is reachable from other hosts (a wildcard or a\n"
    "  non-loopback address). Then the ephemeral ports each process got,\n"
    "  and the destinations of those connections with their byte counts.\n"
    "  -a, --all     include processes that have ended (ports held at the end)\n"
    "  -j, --json    one JSON object\n"
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
        char a[ADDR_TEXT_MAX];
        if (!addr_text(&d->peer, a, sizeof a))
            strcpy(a, "-");
        fputs(i ? ",{\"peer\":" : "{\"peer\":", f);
        json_str(f, a);
        fputs(",\"host\":", f);
        if (d->host)
            json_str(f, d->host);
        else
            fputs("null", f);
        fputs(",\"peer_pid\":", f);
        if (d->peer_pid)
            fprintf(f, "%d", d->peer_pid);
        else
            fputs("null", f);
        fputs(",\"peer_command\":", f);
        json_str(f, d->peer_pid ? d->peer_comm : NULL);
        fprintf(f, ",\"connections\":%u,\"connecting\":%u,\"failed\":%u,\"errors\":{",
                d->count, d->connecting, d->failed);
        for (size_t k = 0; k < sizeof d->why / sizeof d->why[0] && d->why[k].n; k++) {
            char eb[16];
            if (k)
                fputc(',', f);
            json_str(f, why_name(d->why[k].err, eb, sizeof eb));
            fprintf(f, ":%u", d->why[k].n);
        }
        fprintf(f, "},\"bytes_sent\":%" PRIu64 ",\"bytes_received\":%" PRIu64 "}",
                d->sent, d->received);
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

int cmd_ports(struct ctx *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"all", no_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    bool json = false, all = false;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "jah", opts, NULL)) != -1) {
        switch (o) {
        case 'j': json = true; break;
        case 'a': all = true; break;
        case 'h': fputs(usage, stdout); return 0;
        default: return usage_error(usage, NULL, NULL);
        }
    }
    if (optind != argc)
        return usage_error(usage, "unexpected argument: %s", argv[optind]);
    color_init(stdout, json);
    size_t good, bad;
    struct snapshot *snaps = tracedb_load_all(c->dir, SNAP_TABLE | SNAP_HISTORY, c->prog,
                                              &good, &bad);
    /* the other ends of outgoing connections, among all traced processes */
    struct conn_index *ci = conn_index_new();
    for (size_t i = 0; i < good; i++)
        conn_index_add(ci, &snaps[i]);
    static const char *const h1[] = {"PROTO", "ADDRESS", "PORT", "EXPOSURE", "PID", "COMMAND"};
    static const char *const h2[] = {"PID", "EPHEMERAL", "RANGE", "TO", "COMMAND"};
    struct table *ports = json ? NULL : table_new(6, h1);
    struct table *ephs = json ? NULL : table_new(5, h2);
    bool first_p = true, any_eph = false;
    size_t ports_rows = 0;
    FILE *f = stdout;
    if (json)
        fputs("{\"ports\":[", f);
    char *eph_json = NULL;
    size_t eph_len = 0;
    FILE *ej = json ? open_memstream(&eph_json, &eph_len) : NULL;
    bool first_e = true;
    for (size_t i = 0; i < good; i++) {
        const struct snapshot *s = &snaps[i];
        if (!s->alive && !all)
            continue;
        char cmd[ST_CMDLINE_MAX], addr[ADDR_TEXT_MAX], pid[64];
        cmdline_text(&s->h, cmd, sizeof cmd);
        nsmap_pid_text(s->h.pid, s->ns_pid, pid, sizeof pid);
        struct eph e = {0};
        for (size_t k = 0; k < s->n_open; k++) {
            const struct st_sock *so = &s->open[k];
            ephemeral(&e, s, ci, so);
            if (!is_port(so))
                continue;
            if (!addr_text(&so->local, addr, sizeof addr))
                strcpy(addr, "-");
            const char *x = exposure(so);
            const char *chosen = so->flags & ST_SF_PORT_CHOSEN ? "kernel" : "asked";
            if (json) {
                bool first = true;
                if (!first_p)
                    fputc(',', f);
                first_p = false;
                fputc('{', f);
                json_key(f, &first, "proto");
                json_str(f, proto_name(so));
                json_key(f, &first, "address");
                json_str(f, addr);
                json_key(f, &first, "state");
                json_str(f, state_name(so->state));
                json_key(f, &first, "port_chosen_by");
                json_str(f, chosen);
                json_key(f, &first, "reachable_from_other_hosts");
                fputs(strncmp(x, "REACHABLE", 9) == 0 ? "true" : "false", f);
                nsmap_json_pids(f, &first, s->h.pid, s->ns_pid);
                json_key(f, &first, "fd");
                fprintf(f, "%d", so->fd);
                json_key(f, &first, "process_state");
                json_str(f, s->alive ? "running" : "exited");
                json_key(f, &first, "command");
                json_str(f, cmd);
                fputc('}', f);
            } else {
                const char *cells[] = {proto_name(so), addr, chosen, x, pid, cmd};
                const char *colors[] = {NULL, NULL, NULL,
                                        strncmp(x, "REACHABLE", 9) == 0 ? C_YELLOW : NULL,
                                        NULL, NULL};
                table_add(ports, cells, colors);
                ports_rows++;
            }
        }
        for (size_t k = 0; k < s->n_closed; k++)
            ephemeral(&e, s, ci, &s->closed[k]);
        if (e.count) {
            any_eph = true;
            char cnt[16], range[32];
            snprintf(cnt, sizeof cnt, "%u", e.count);
            snprintf(range, sizeof range, e.lo == e.hi ? "%u" : "%u-%u", e.lo, e.hi);
            if (json) {
                bool first = true;
                fputs(first_e ? "{" : ",{", ej);
                nsmap_json_pids(ej, &first, s->h.pid, s->ns_pid);
                fprintf(ej, ",\"count\":%u,\"lowest\":%u,\"highest\":%u,\"command\":",
                        e.count, e.lo, e.hi);
                json_str(ej, cmd);
                dest_json(ej, &e);
                fputc('}', ej);
                first_e = false;
            } else {
                char to[4 * ADDR_TEXT_MAX];
                dest_text(&e, to, sizeof to);
                const char *cells[] = {pid, cnt, range, to, cmd};
                table_add(ephs, cells, NULL);
            }
        }
        free(e.d);
    }
    if (json) {
        fclose(ej);
        fprintf(f, "],\"ephemeral\":[%s]}\n", eph_json ? eph_json : "");
        free(eph_json);
    } else {
        if (ports_rows)
            table_print(ports, f);
        else
            fprintf(f, "no listening or bound ports in the traced processes of %s\n", c->dir);
        if (any_eph) {
            fputc('\n', f);
            table_print(ephs, f);
        }
    }
    table_free(ports);
    table_free(ephs);
    conn_index_free(ci);
    for (size_t i = 0; i < good; i++)
        snap_free(&snaps[i]);
    free(snaps);
    return (bad && !good) ? 1 : 0;
}
