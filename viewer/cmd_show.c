/* cmd_show.c - `socktrace show PID`: one process's sockets, open now (or
 * when it ended), with --all the closed ones from history; text or JSON. */
#define _GNU_SOURCE
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
#include "nsmap.h"
#include "output.h"
#include "kernel.h"
#include "peerjoin.h"
#include "show_kernel.h"
#include "tracedb.h"

static const char usage[] =
    "usage: socktrace show PID [--all] [--json] [--verify]\n"
    "  Prints the sockets of a traced process: open now, or open when it ended.\n"
    "  A process with no trace file is shown from the kernel's view (/proc).\n"
    "  -a, --all     add the sockets it closed (from history), with open and\n"
    "                close times and lifetime\n"
    "  -j, --json    one JSON object (schema in README.md)\n"
    "  -v, --verify  hold the trace against the kernel's view of the running\n"
    "                process; exit 0 when they agree, 1 when they differ\n"
    "  -h, --help    this text\n";

void cmdline_text(const struct st_header *h, char *buf, size_t size)
{
    size_t o = 0;
    buf[0] = 0;
    for (uint32_t i = 0; i < h->cmdline_len && o + 1 < size; i++) {
        char c = h->cmdline[i];
        buf[o++] = c ? ((unsigned char)c < 0x20 ? '?' : c) : ' ';
    }
    while (o > 0 && buf[o - 1] == ' ')
        o--;
    buf[o] = 0;
}

static void json_addr(FILE *f, bool *first, const char *key, const struct st_addr *a)
{
    char buf[ADDR_TEXT_MAX];
    json_key(f, first, key);
    json_str(f, addr_text(a, buf, sizeof buf) ? buf : NULL);
}

static void json_time(FILE *f, bool *first, const char *key, uint64_t ns)
{
    char buf[64];
    json_key(f, first, key);
    if (!ns) {
        fputs("null", f);
        return;
    }
    time_text(ns, buf, sizeof buf);
    json_str(f, buf);
}

void json_socket(FILE *f, const struct st_sock *s, const struct sock_extra *x)
{
    bool first = true;
    fputc('{', f);
    json_key(f, &first, "fd");
    fprintf(f, "%d", s->fd);
    json_key(f, &first, "family");
    json_str(f, family_name(s->family));
    json_key(f, &first, "type");
    json_str(f, type_name(s->type));
    json_key(f, &first, "proto");
    json_str(f, proto_name(s));
    json_key(f, &first, "state");
    json_str(f, state_name(s->state));
    json_addr(f, &first, "local", &s->local);
    if (s->flags & ST_SF_PEER_LAST) {
        /* not an association: the last address it exchanged a datagram with */
        static const struct st_addr none;
        json_addr(f, &first, "peer", &none);
        json_addr(f, &first, "last_peer", &s->peer);
    } else {
        json_addr(f, &first, "peer", &s->peer);
    }
    if (s->type == SOCK_DGRAM && (s->family == AF_INET || s->family == AF_INET6) &&
        s->state != ST_STATE_CONNECTED) {
        json_key(f, &first, "peers_seen");
        fprintf(f, "%u", s->peers_seen);
        json_key(f, &first, "peers_seen_capped");
        fputs(s->flags & ST_SF_PEERS_MORE ? "true" : "false", f);
    }
    json_key(f, &first, "host");
    json_str(f, x ? x->host : NULL);
    json_key(f, &first, "peer_pid");
    if (x && x->peer_pid)
        fprintf(f, "%d", x->peer_pid);
    else
        fputs("null", f);
    json_key(f, &first, "peer_fd");
    if (x && x->peer_pid)
        fprintf(f, "%d", x->peer_fd);
    else
        fputs("null", f);
    json_key(f, &first, "shared");
    fputs(s->flags & ST_SF_SHARED ? "true" : "false", f);
    json_key(f, &first, "origin");
    json_str(f, origin_name(s->origin));
    json_key(f, &first, "port_chosen_by_kernel");
    fputs(s->flags & ST_SF_PORT_CHOSEN ? "true" : "false", f);
    json_key(f, &first, "cloexec");
    fputs(s->flags & ST_SF_CLOEXEC ? "true" : "false", f);
    json_key(f, &first, "nonblocking");
    fputs(s->flags & ST_SF_NONBLOCK ? "true" : "false", f);
    if (s->flags & (ST_SF_SHUT_RD | ST_SF_SHUT_WR)) {
        json_key(f, &first, "shutdown");
        json_str(f, (s->flags & ST_SF_SHUT_RD) && (s->flags & ST_SF_SHUT_WR) ? "rdwr" :
                    (s->flags & ST_SF_SHUT_RD) ? "rd" : "wr");
    }
    json_outcome(f, &first, s);
    json_time(f, &first, "opened", s->opened_ns);
    json_time(f, &first, "closed", s->closed_ns);
    if (s->closed_ns) {
        json_key(f, &first, "close_seen");
        json_str(f, s->flags & ST_SF_CLOSED_UNSEEN ? "unseen" :
                    s->flags & ST_SF_CLOSED_EXEC ? "exec" : "close");
    }
    json_life(f, &first, s);
    fputc('}', f);
}

void json_outcome(FILE *f, bool *first, const struct st_sock *s)
{
    char e[16];
    json_key(f, first, "connected");
    fputs(s->outcome == ST_CONN_OK ? "true" :
          s->outcome == ST_CONN_FAILED || s->outcome == ST_CONN_GAVE_UP ? "false" : "null", f);
    json_key(f, first, "connect_outcome");
    json_str(f, outcome_name(s->outcome));
    json_key(f, first, "connect_error");
    json_str(f, s->outcome == ST_CONN_FAILED && s->connect_err
                ? errno_name(s->connect_err, e, sizeof e) : NULL);
    json_key(f, first, "connect_ms");
    if (s->outcome == ST_CONN_GAVE_UP && s->connect_ns && s->closed_ns >= s->connect_ns)
        fprintf(f, "%.3f", (double)(s->closed_ns - s->connect_ns) / 1e6);
    else
        fputs("null", f);
    json_key(f, first, "end_error");
    json_str(f, s->end_err ? errno_name(s->end_err, e, sizeof e) : NULL);
    json_key(f, first, "was");
    json_str(f, s->state == ST_STATE_CLOSED && s->was ? state_name(s->was) : NULL);
}

void json_life(FILE *f, bool *first, const struct st_sock *s)
{
    if (s->closed_ns) {
        json_key(f, first, "duration_ms");
        fprintf(f, "%.3f", s->closed_ns > s->opened_ns ?
                (double)(s->closed_ns - s->opened_ns) / 1e6 : 0.0);
    }
    if (s->flags & ST_SF_TCPINFO) {
        json_key(f, first, "bytes_sent");
        fprintf(f, "%" PRIu64, s->bytes_sent);
        json_key(f, first, "bytes_received");
        fprintf(f, "%" PRIu64, s->bytes_received);
        json_key(f, first, "rtt_us");
        fprintf(f, "%u", s->rtt_us);
        json_key(f, first, "retrans");
        fprintf(f, "%u", s->retrans);
    }
}

static const char *state_color(const struct st_sock *s)
{
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

/* An argv block (each NUL-terminated) as one line. */
static void argv_text(const char *v, uint32_t len, char *buf, size_t size)
{
    struct st_header h;
    h.cmdline_len = len < ST_CMDLINE_MAX ? len : ST_CMDLINE_MAX;
    memcpy(h.cmdline, v, h.cmdline_len);
    cmdline_text(&h, buf, size);
}

void exec_untraced_text(const struct snapshot *s, char *buf, size_t size)
{
    char when[64] = "", now[ST_CMDLINE_MAX] = "";
    if (s->exec_call_ns)
        time_text(s->exec_call_ns, when, sizeof when);
    if (s->command_now_len)
        argv_text(s->command_now, s->command_now_len, now, sizeof now);
    snprintf(buf, size, "exec'd into an untraced program%s%s%s%s%s%s",
             s->exec_path[0] ? " (" : "", s->exec_path, s->exec_path[0] ? ")" : "",
             when[0] ? " at " : "", when,
             s->alive ? "" : ", then ended");
}

void json_argv(FILE *f, const char *v, uint32_t len)
{
    fputc('[', f);
    for (uint32_t o = 0, i = 0; o < len; i++) {
        size_t l = strnlen(v + o, len - o);
        char arg[ST_CMDLINE_MAX];
        if (l >= sizeof arg)
            l = sizeof arg - 1;
        memcpy(arg, v + o, l);
        arg[l] = 0;
        if (i)
            fputc(',', f);
        json_str(f, arg);
        o += (uint32_t)strnlen(v + o, len - o) + 1;
    }
    fputc(']', f);
}

void json_exec(FILE *f, bool *first, const struct snapshot *s)
{
    json_key(f, first, "exec_untraced");
    fputs(s->exec_untraced ? "true" : "false", f);
    json_key(f, first, "command_now");
    if (s->exec_untraced && s->command_now_len)
        json_argv(f, s->command_now, s->command_now_len);
    else
        fputs("null", f);
    json_key(f, first, "exec_path");
    json_str(f, s->exec_untraced && s->exec_path[0] ? s->exec_path : NULL);
    json_time(f, first, "exec_at", s->exec_untraced ? s->exec_call_ns : 0);
}

static void print_text(const struct snapshot *s, const struct conn_index *ci, bool all)
{
    struct sock_extra x;
    char cmd[ST_CMDLINE_MAX], start[64], end[64];
    char pid[64];
    cmdline_text(&s->h, cmd, sizeof cmd);
    time_text(s->h.start_ns, start, sizeof start);
    nsmap_pid_text(s->h.pid, s->ns_pid, pid, sizeof pid);
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
    nsmap_pid_text(s->h.ppid, -s->h.ppid, ppid, sizeof ppid);
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
    printf(", %zu open%s\n", snap_open_now(s), s->alive ? "" : " at the end");
    if (s->h.dropped.v || s->torn)
        printf("  %s%" PRIu64 " records dropped by the tracer, %" PRIu64
               " unreadable%s\n", color(C_YELLOW), s->h.dropped.v, s->torn, color("0"));
    if (all && s->closed_lost)
        printf("  %s%" PRIu64 " older closed sockets overwritten in the history ring%s\n",
               color(C_YELLOW), s->closed_lost, color("0"));
    static const char *const hdr[] = {"FD", "PROTO", "STATE", "LOCAL", "PEER",
                                      "ORIGIN", "OPENED", "CLOSED", "LIFETIME", "TCP"};
    struct table *t = table_new(all ? 10 : 6, hdr);
    for (size_t i = 0; i < s->n_open; i++) {
        conn_index_extra(ci, s, &s->open[i], &x);
        add_row(t, &s->open[i], &x, all);
    }
    for (size_t i = 0; all && i < s->n_closed; i++) {
        conn_index_extra(ci, s, &s->closed[i], &x);
        add_row(t, &s->closed[i], &x, all);
    }
    table_print(t, stdout);
    table_free(t);
    bool chosen = false;
    for (size_t i = 0; i < s->n_open && !chosen; i++)
        chosen = s->open[i].flags & ST_SF_PORT_CHOSEN;
    if (chosen)
        printf("  * port chosen by the kernel\n");
}

static void print_json(const struct snapshot *s, const struct conn_index *ci, bool all)
{
    struct sock_extra x;
    bool first = true;
    FILE *f = stdout;
    fputc('{', f);
    nsmap_json_pids(f, &first, s->h.pid, s->ns_pid);
    json_key(f, &first, "ppid");
    fprintf(f, s->h.ppid < 0 ? "null" : "%d", s->h.ppid);   /* nsmap.h */
    json_key(f, &first, "command");
    json_argv(f, s->h.cmdline, s->h.cmdline_len);
    json_key(f, &first, "state");
    json_str(f, s->alive ? "running" : "exited");
    json_exec(f, &first, s);
    json_key(f, &first, "source");
    json_str(f, "trace");
    json_time(f, &first, "started", s->h.start_ns);
    json_time(f, &first, "ended", s->alive ? 0 : s->h.end_ns);
    json_key(f, &first, "dropped");
    fprintf(f, "%" PRIu64, s->h.dropped.v + s->torn);
    json_key(f, &first, "sockets");
    fputc('[', f);
    for (size_t i = 0; i < s->n_open; i++) {
        if (i)
            fputc(',', f);
        conn_index_extra(ci, s, &s->open[i], &x);
        json_socket(f, &s->open[i], &x);
    }
    for (size_t i = 0; all && i < s->n_closed; i++) {
        if (i || s->n_open)
            fputc(',', f);
        conn_index_extra(ci, s, &s->closed[i], &x);
        json_socket(f, &s->closed[i], &x);
    }
    fputc(']', f);
    if (all) {
        json_key(f, &first, "history_overwritten");
        fprintf(f, "%" PRIu64, s->closed_lost);
    }
    fputs("}\n", f);
}

int cmd_show(struct ctx *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"all", no_argument, NULL, 'a'},
        {"json", no_argument, NULL, 'j'},
        {"verify", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    bool all = false, json = false, verify = false;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "ajvh", opts, NULL)) != -1) {
        switch (o) {
        case 'a': all = true; break;
        case 'j': json = true; break;
        case 'v': verify = true; break;
        case 'h': fputs(usage, stdout); return 0;
        default: return usage_error(usage, NULL, NULL);
        }
    }
    struct trace_ref ref;
    int pid = optind == argc - 1 ? parse_pid(argv[optind]) : -1;
    color_init(stdout, json);
    if (pid > 0 && !verify && tracedb_find(c->dir, pid, &ref) != 0) {
        /* never traced: what the kernel tells anyone allowed to look */
        char proc[32];
        snprintf(proc, sizeof proc, "/proc/%d", pid);
        if (access(proc, F_OK) == 0)
            return show_kernel(pid, json, c->prog);
    }
    int status = pid_trace(c, argc, argv, usage, &ref);
    if (status)
        return status;
    struct snapshot s;
    char err[256];
    if (snap_load(ref.path, SNAP_TABLE | (all ? SNAP_HISTORY : 0), &s, err, sizeof err)) {
        fprintf(stderr, "%s: %s: %s\n", c->prog, ref.path, err);
        return 1;
    }
    if (verify) {
        /* entries show prints as closed are not open for --verify either */
        snap_check_live(&s);
        status = show_verify(&s, json, c->prog);
        snap_free(&s);
        return status;
    }
    snap_check_live(&s);
    if (s.alive) {
        /* a non-blocking connect the program never checked: ask the kernel */
        bool connecting = false;
        for (size_t i = 0; i < s.n_open && !connecting; i++)
            connecting = s.open[i].state == ST_STATE_CONNECTING;
        struct kview k;
        char kerr[256];
        if (connecting && kview_load(s.h.pid, &k, kerr, sizeof kerr) == 0) {
            kview_settle_connects(&k, s.open, s.n_open);
            kview_free(&k);
        }
    }
    struct conn_index *ci = conn_index_new();
    conn_index_add_dir(ci, c->dir);
    if (json)
        print_json(&s, ci, all);
    else
        print_text(&s, ci, all);
    conn_index_free(ci);
    snap_free(&s);
    return 0;
}
