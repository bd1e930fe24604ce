/* cmd_ports.c - `socktrace ports`: the audit view across every traced
 * process: each listening or bound port, who holds it, whether the program
 * asked for it or the kernel chose it, whether other hosts can reach it;
 * and the ephemeral ports each process got for its outgoing connections. */
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
#include "output.h"
#include "tracedb.h"

static const char usage[] =
    "usage: socktrace ports [--json] [--all]\n"
    "  Every listening or bound port of the traced processes that run now:\n"
    "  protocol, address, pid, command, whether the kernel chose the port,\n"
    "  and whether it is reachable from other hosts (a wildcard or a\n"
    "  non-loopback address). Then the ephemeral ports each process got.\n"
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

struct eph {
    unsigned count, lo, hi;
};

static void ephemeral(struct eph *e, const struct st_sock *s)
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
    size_t n, bad = 0, good = 0;
    struct trace_ref *refs = tracedb_list(c->dir, &n);
    static const char *const h1[] = {"PROTO", "ADDRESS", "PORT", "EXPOSURE", "PID", "COMMAND"};
    static const char *const h2[] = {"PID", "EPHEMERAL", "RANGE", "COMMAND"};
    struct table *ports = json ? NULL : table_new(6, h1);
    struct table *ephs = json ? NULL : table_new(4, h2);
    bool first_p = true, any_eph = false;
    size_t ports_rows = 0;
    FILE *f = stdout;
    if (json)
        fputs("{\"ports\":[", f);
    char *eph_json = NULL;
    size_t eph_len = 0;
    FILE *ej = json ? open_memstream(&eph_json, &eph_len) : NULL;
    bool first_e = true;
    for (size_t i = 0; i < n; i++) {
        struct snapshot s;
        char err[256];
        if (snap_load(refs[i].path, SNAP_TABLE | SNAP_HISTORY, &s, err, sizeof err) != 0) {
            fprintf(stderr, "%s: %s: %s\n", c->prog, refs[i].path, err);
            bad++;
            continue;
        }
        good++;
        if (!s.alive && !all) {
            snap_free(&s);
            continue;
        }
        char cmd[ST_CMDLINE_MAX], addr[ADDR_TEXT_MAX], pid[16];
        cmdline_text(&s.h, cmd, sizeof cmd);
        snprintf(pid, sizeof pid, "%d", s.h.pid);
        struct eph e = {0};
        for (size_t k = 0; k < s.n_open; k++) {
            const struct st_sock *so = &s.open[k];
            ephemeral(&e, so);
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
                json_key(f, &first, "pid");
                fprintf(f, "%d", s.h.pid);
                json_key(f, &first, "fd");
                fprintf(f, "%d", so->fd);
                json_key(f, &first, "process_state");
                json_str(f, s.alive ? "running" : "exited");
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
        for (size_t k = 0; k < s.n_closed; k++)
            ephemeral(&e, &s.closed[k]);
        if (e.count) {
            any_eph = true;
            char cnt[16], range[32];
            snprintf(cnt, sizeof cnt, "%u", e.count);
            snprintf(range, sizeof range, e.lo == e.hi ? "%u" : "%u-%u", e.lo, e.hi);
            if (json) {
                fprintf(ej, "%s{\"pid\":%d,\"count\":%u,\"lowest\":%u,\"highest\":%u,\"command\":",
                        first_e ? "" : ",", s.h.pid, e.count, e.lo, e.hi);
                json_str(ej, cmd);
                fputc('}', ej);
                first_e = false;
            } else {
                const char *cells[] = {pid, cnt, range, cmd};
                table_add(ephs, cells, NULL);
            }
        }
        snap_free(&s);
    }
    free(refs);
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
    return (bad && !good) ? 1 : 0;
}
