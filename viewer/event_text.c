/* event_text.c - one recorded call in words (event_text.h): its result,
 * its fds, its peer with the name it was looked up by and the traced
 * process at the other end, and for a close the socket's life. */
#define _GNU_SOURCE
#include "event_text.h"

#include <inttypes.h>
#include <string.h>
#include <sys/socket.h>

#include "json_out.h"
#include "peerjoin.h"
#include "sockaddr_conv.h"

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
    char a[ADDR_TEXT_MAX];
    struct sock_extra x;
    bool has = peer_text(s, e, a, sizeof a, &host);
    event_peer(ci, s, e, &x);
    json_event_fields(f, first, s->h.pid, e, has ? a : NULL, host, &x, event_closed(s, e));
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
