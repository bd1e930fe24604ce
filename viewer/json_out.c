/* json_out.c - the JSON writers every verb shares: one per object kind,
 * so a socket or a process reads the same in show, ps, events, ports, run
 * and export. docs/socktrace.schema.json describes what they write. */
#define _GNU_SOURCE
#include "json_out.h"

#include <inttypes.h>
#include <string.h>
#include <sys/socket.h>

#include "output.h"

void json_schema_version(FILE *f, bool *first)
{
    json_key(f, first, "schema_version");
    fprintf(f, "%d", JSON_SCHEMA_VERSION);
}

static void json_bool(FILE *f, bool *first, const char *key, bool v)
{
    json_key(f, first, key);
    fputs(v ? "true" : "false", f);
}

static void json_int_or_null(FILE *f, bool *first, const char *key, bool known, long long v)
{
    json_key(f, first, key);
    if (known)
        fprintf(f, "%lld", v);
    else
        fputs("null", f);
}

void json_time(FILE *f, bool *first, const char *key, uint64_t ns)
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

void json_argv(FILE *f, const char *v, uint32_t len)
{
    fputc('[', f);
    for (uint32_t o = 0, i = 0; o < len; i++) {
        size_t l = strnlen(v + o, len - o);
        char arg[ST_CMDLINE_MAX];
        size_t c = l < sizeof arg ? l : sizeof arg - 1;
        memcpy(arg, v + o, c);
        arg[c] = 0;
        if (i)
            fputc(',', f);
        json_str(f, arg);
        o += (uint32_t)l + 1;
    }
    fputc(']', f);
}

/* The strings an argv block holds. */
static uint32_t argv_count(const char *v, uint32_t len)
{
    uint32_t n = 0;
    for (uint32_t o = 0; o < len; n++)
        o += (uint32_t)strnlen(v + o, len - o) + 1;
    return n;
}

/* "KEY" as text, then for an inet address "KEY_ip" and "KEY_port" (the
 * text split, so a v4-mapped address reads as IPv4 in both), null when
 * there is none. The unix name, if any, in *path. */
static void json_addr(FILE *f, bool *first, const char *key, const struct st_addr *a,
                      const char **path, char *pathbuf)
{
    char buf[ADDR_TEXT_MAX], k[32];
    bool has = addr_text(a, buf, sizeof buf);
    json_key(f, first, key);
    json_str(f, has ? buf : NULL);
    const char *ip = NULL;
    long long port = -1;
    if (has && (a->kind == ST_ADDR_INET || a->kind == ST_ADDR_INET6)) {
        char *colon = strrchr(buf, ':');
        if (colon) {
            *colon = 0;
            port = a->port;
            ip = buf;
            size_t l = strlen(buf);
            if (buf[0] == '[' && l >= 2 && buf[l - 1] == ']') {
                buf[l - 1] = 0;
                ip = buf + 1;
            }
        }
    }
    snprintf(k, sizeof k, "%s_ip", key);
    json_key(f, first, k);
    json_str(f, ip);
    snprintf(k, sizeof k, "%s_port", key);
    json_int_or_null(f, first, k, port >= 0, port);
    if (path && has && a->kind == ST_ADDR_UNIX && !*path) {
        addr_text(a, pathbuf, ADDR_TEXT_MAX);
        *path = pathbuf;
    }
}

/* "pid" (the viewer's; null when not known: a container's process that
 * is not running) and "ns_pid" (the pid inside its own namespace; equal
 * to "pid" in the viewer's). */
static void json_pids(FILE *f, bool *first, int pid, int ns_pid)
{
    json_key(f, first, "pid");
    if (pid > 0)
        fprintf(f, "%d", pid);
    else
        fputs("null", f);
    json_key(f, first, "ns_pid");
    fprintf(f, "%d", ns_pid > 0 ? ns_pid : pid);
}

void json_process_fields(FILE *f, bool *first, const struct snapshot *s)
{
    /* the viewer's pid (null for a container's process that has ended)
     * and the pid its own namespace gave it */
    json_pids(f, first, s->h.pid, s->ns_pid);
    json_key(f, first, "ppid");
    fprintf(f, s->h.ppid < 0 ? "null" : "%d", s->h.ppid);   /* nsmap.h */
    uint32_t len = s->h.cmdline_len < ST_CMDLINE_MAX ? s->h.cmdline_len : ST_CMDLINE_MAX;
    json_key(f, first, "command");
    json_argv(f, s->h.cmdline, len);
    /* the preload stores the program's argc and as many whole arguments
     * as fit: fewer strings than argc means the rest did not */
    json_bool(f, first, "command_truncated", s->h.argc > argv_count(s->h.cmdline, len));
    json_key(f, first, "state");
    json_str(f, s->alive ? "running" : "exited");
    json_bool(f, first, "exec_untraced", s->exec_untraced);
    json_key(f, first, "command_now");
    if (s->exec_untraced && s->command_now_len)
        json_argv(f, s->command_now, s->command_now_len);
    else
        fputs("null", f);
    json_key(f, first, "exec_path");
    json_str(f, s->exec_untraced && s->exec_path[0] ? s->exec_path : NULL);
    json_time(f, first, "exec_at", s->exec_untraced ? s->exec_call_ns : 0);
    json_key(f, first, "source");
    json_str(f, "trace");
    json_time(f, first, "started", s->h.start_ns);
    json_time(f, first, "ended", s->alive ? 0 : s->h.end_ns);
    json_key(f, first, "dropped");
    fprintf(f, "%" PRIu64, s->h.dropped.v + s->torn);
    if (s->no_access)
        json_bool(f, first, "no_access", true);
    /* the same, by reason: the writer's reasons, and what we could not read */
    json_key(f, first, "dropped_why");
    bool in = true;
    fputc('{', f);
    for (unsigned i = 0; i < ST_DROP_WHY_COUNT_; i++) {
        json_key(f, &in, drop_key(i));
        fprintf(f, "%" PRIu64, s->h.dropped.why[i]);
    }
    json_key(f, &in, drop_key(DROP_UNREADABLE));
    fprintf(f, "%" PRIu64 "}", s->torn);
}

void json_process(FILE *f, const struct snapshot *s)
{
    bool first = true;
    fputc('{', f);
    json_process_fields(f, &first, s);
    fputc('}', f);
}

/* connected, connect_outcome, connect_error, connect_ms, end_error */
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
}

/* Of a closed socket: duration_ms; from TCP_INFO bytes_sent,
 * bytes_received, rtt_us, retrans (each only when known). */
static void json_life(FILE *f, bool *first, const struct st_sock *s)
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

static void socket_obj(FILE *f, const struct st_sock *s, const struct sock_extra *x,
                       bool at_exit, uint64_t end_ns)
{
    static const struct st_addr none;
    bool first = true;
    const char *path = NULL;
    char pathbuf[ADDR_TEXT_MAX];
    int state = at_exit ? ST_STATE_CLOSED : s->state;
    fputc('{', f);
    json_key(f, &first, "fd");
    fprintf(f, "%d", s->fd);
    json_key(f, &first, "family");
    json_str(f, family_name(s->family));
    json_key(f, &first, "type");
    json_str(f, type_name(s->type));
    json_key(f, &first, "proto");
    json_str(f, proto_name(s));
    bool no_access = !at_exit && (s->flags & SNAP_SF_NO_ACCESS);
    json_key(f, &first, "state");
    json_str(f, no_access ? "unknown" : state_name(state));
    if (no_access) {
        json_key(f, &first, "unknown_why");
        json_str(f, "no_access");
    }
    json_addr(f, &first, "local", &s->local, &path, pathbuf);
    /* PEER_LAST: not an association, the last address it exchanged a
     * datagram with */
    bool last = s->flags & ST_SF_PEER_LAST;
    json_addr(f, &first, "peer", last ? &none : &s->peer, &path, pathbuf);
    json_key(f, &first, "path");
    json_str(f, path);
    if (last) {
        char buf[ADDR_TEXT_MAX];
        json_key(f, &first, "last_peer");
        json_str(f, addr_text(&s->peer, buf, sizeof buf) ? buf : NULL);
    }
    if (s->type == SOCK_DGRAM && (s->family == AF_INET || s->family == AF_INET6) &&
        s->state != ST_STATE_CONNECTED) {
        json_key(f, &first, "peers_seen");
        fprintf(f, "%u", s->peers_seen);
        json_bool(f, &first, "peers_seen_capped", s->flags & ST_SF_PEERS_MORE);
    }
    json_key(f, &first, "host");
    json_str(f, x ? x->host : NULL);
    bool peer = x && x->peer_pid;
    json_int_or_null(f, &first, "peer_pid", peer, peer ? x->peer_pid : 0);
    json_int_or_null(f, &first, "peer_fd", peer, peer ? x->peer_fd : 0);
    json_key(f, &first, "peer_comm");
    json_str(f, peer ? x->peer_comm : NULL);
    json_bool(f, &first, "shared", s->flags & ST_SF_SHARED);
    json_key(f, &first, "origin");
    json_str(f, origin_name(s->origin));
    json_bool(f, &first, "port_chosen_by_kernel", s->flags & ST_SF_PORT_CHOSEN);
    json_bool(f, &first, "cloexec", s->flags & ST_SF_CLOEXEC);
    json_bool(f, &first, "nonblocking", s->flags & ST_SF_NONBLOCK);
    if (s->flags & (ST_SF_SHUT_RD | ST_SF_SHUT_WR)) {
        json_key(f, &first, "shutdown");
        json_str(f, (s->flags & ST_SF_SHUT_RD) && (s->flags & ST_SF_SHUT_WR) ? "rdwr" :
                    (s->flags & ST_SF_SHUT_RD) ? "rd" : "wr");
    }
    json_outcome(f, &first, s);
    json_key(f, &first, "was");
    if (at_exit)
        json_str(f, state_name(s->state));
    else
        json_str(f, s->state == ST_STATE_CLOSED && s->was ? state_name(s->was) : NULL);
    json_time(f, &first, "opened", s->opened_ns);
    if (at_exit) {
        json_time(f, &first, "closed", end_ns);
        json_key(f, &first, "close_seen");
        json_str(f, "exit");
    } else {
        json_time(f, &first, "closed", s->closed_ns);
        if (s->closed_ns) {
            json_key(f, &first, "close_seen");
            json_str(f, s->flags & ST_SF_GONE_AT_EXIT ? "unknown_at_exit" :
                        s->flags & ST_SF_CLOSED_UNSEEN ? "unseen" :
                        s->flags & ST_SF_CLOSED_EXEC ? "exec" : "close");
        }
    }
    json_life(f, &first, s);
    fputc('}', f);
}

void json_socket(FILE *f, const struct st_sock *s, const struct sock_extra *x)
{
    socket_obj(f, s, x, false, 0);
}

void json_socket_at_exit(FILE *f, const struct st_sock *s, const struct sock_extra *x,
                         uint64_t end_ns)
{
    /* one closed behind the tracer's back already has its own close */
    socket_obj(f, s, x, s->state != ST_STATE_CLOSED && !s->closed_ns, end_ns);
}

void json_kernel_socket(FILE *f, int fd, unsigned long long inode, bool listed,
                        const struct st_sock *s)
{
    bool first = true;
    const char *path = NULL;
    char pathbuf[ADDR_TEXT_MAX];
    fputc('{', f);
    json_key(f, &first, "fd");
    fprintf(f, "%d", fd);
    json_key(f, &first, "inode");
    fprintf(f, "%llu", inode);
    json_key(f, &first, "family");
    json_str(f, listed ? family_name(s->family) : NULL);
    json_key(f, &first, "type");
    json_str(f, listed ? type_name(s->type) : NULL);
    json_key(f, &first, "proto");
    json_str(f, listed ? proto_name(s) : NULL);
    json_key(f, &first, "state");
    json_str(f, listed ? state_name(s->state) : NULL);
    json_addr(f, &first, "local", &s->local, &path, pathbuf);
    json_addr(f, &first, "peer", &s->peer, &path, pathbuf);
    json_key(f, &first, "path");
    json_str(f, path);
    fputc('}', f);
}

static bool is_lookup(int call)
{
    return call == ST_CALL_GETADDRINFO || call == ST_CALL_GETHOSTBYNAME;
}

void json_event(FILE *f, int pid, const struct st_event *e, const char *peer_text,
                const char *host, const struct sock_extra *x, const struct st_sock *closed)
{
    bool first = true;
    fputc('{', f);
    json_event_fields(f, &first, pid, e, peer_text, host, x, closed);
    fputs("}\n", f);
}

void json_event_fields(FILE *f, bool *firstp, int pid, const struct st_event *e,
                       const char *peer_text, const char *host,
                       const struct sock_extra *x, const struct st_sock *closed)
{
    char t[64], tmp[16];
    bool first = *firstp;
    json_schema_version(f, &first);
    json_key(f, &first, "pid");
    fprintf(f, "%d", pid);
    json_key(f, &first, "seq");
    fprintf(f, "%" PRIu64, e->serial);
    json_key(f, &first, "time");
    time_text(e->ns, t, sizeof t);
    json_str(f, t);
    json_key(f, &first, "tid");
    fprintf(f, "%d", e->tid);
    json_key(f, &first, "call");
    json_str(f, call_name(e->call));
    json_int_or_null(f, &first, "fd", e->fd >= 0, e->fd);
    bool so_error = e->call == ST_CALL_GETSOCKOPT;   /* fd2 holds the value */
    json_int_or_null(f, &first, "fd2", e->fd2 >= 0 && !so_error, e->fd2);
    if (so_error) {
        /* the error the kernel handed over, null when it was 0 */
        json_key(f, &first, "so_error");
        json_str(f, e->fd2 > 0 ? errno_name(e->fd2, tmp, sizeof tmp) : NULL);
    }
    json_key(f, &first, "ret");
    if (is_lookup(e->call)) {
        /* recorded only when the lookup succeeded; the record's value is
         * how many addresses it returned. getaddrinfo returned 0;
         * gethostbyname a pointer, which has no number here */
        fputs(e->call == ST_CALL_GETADDRINFO ? "0" : "null", f);
        json_key(f, &first, "addresses");
        fprintf(f, "%" PRId64, e->ret);
    } else {
        fprintf(f, "%" PRId64, e->ret);
    }
    json_key(f, &first, "errno");
    json_str(f, e->ret < 0 && e->err ? errno_name(e->err, tmp, sizeof tmp) : NULL);
    const char *path = NULL;
    char pathbuf[ADDR_TEXT_MAX];
    json_addr(f, &first, "local", &e->local, &path, pathbuf);
    if (is_lookup(e->call)) {
        /* an address, no port */
        json_key(f, &first, "peer");
        json_str(f, peer_text);
        json_key(f, &first, "peer_ip");
        json_str(f, peer_text);
        json_key(f, &first, "peer_port");
        fputs("null", f);
    } else {
        json_addr(f, &first, "peer", &e->peer, &path, pathbuf);
    }
    json_key(f, &first, "path");
    json_str(f, path);
    json_key(f, &first, "host");
    json_str(f, host);
    bool peer = x && x->peer_pid;
    json_int_or_null(f, &first, "peer_pid", peer, peer ? x->peer_pid : 0);
    json_int_or_null(f, &first, "peer_fd", peer, peer ? x->peer_fd : 0);
    if (closed)
        json_life(f, &first, closed);
    *firstp = first;
}

void json_port(FILE *f, const struct snapshot *s, const struct st_sock *so,
               const struct sock_extra *x, bool reachable, const char *exposure)
{
    bool first = true;
    fputc('{', f);
    json_key(f, &first, "socket");
    json_socket(f, so, x);
    json_key(f, &first, "process");
    json_process(f, s);
    json_bool(f, &first, "reachable_from_other_hosts", reachable);
    json_key(f, &first, "exposure");
    json_str(f, exposure);
    fputc('}', f);
}

void json_destination(FILE *f, const struct json_dest *d)
{
    bool first = true;
    fputc('{', f);
    json_addr(f, &first, "peer", d->peer, NULL, NULL);
    json_key(f, &first, "host");
    json_str(f, d->host);
    json_int_or_null(f, &first, "peer_pid", d->peer_pid, d->peer_pid);
    json_key(f, &first, "peer_comm");
    json_str(f, d->peer_pid ? d->peer_comm : NULL);
    json_key(f, &first, "connections");
    fprintf(f, "%u", d->connections);
    json_key(f, &first, "connecting");
    fprintf(f, "%u", d->connecting);
    json_key(f, &first, "failed");
    fprintf(f, "%u", d->failed);
    json_key(f, &first, "errors");
    fputc('{', f);
    bool fe = true;
    for (size_t k = 0; k < d->nerr; k++) {
        char eb[16];
        json_key(f, &fe, d->err[k] < 0 ? "timed_out" :
                         d->err[k] ? errno_name(d->err[k], eb, sizeof eb) : "unknown");
        fprintf(f, "%u", d->err_n[k]);
    }
    fputc('}', f);
    json_key(f, &first, "bytes_sent");
    fprintf(f, "%" PRIu64, d->bytes_sent);
    json_key(f, &first, "bytes_received");
    fprintf(f, "%" PRIu64, d->bytes_received);
    fputc('}', f);
}
