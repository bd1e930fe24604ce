/* select_eval.c - the filter tree (select_tree.h) held against a socket
 * or an event, with what its socket tells of protocol and state. No I/O:
 * everything it looks at was loaded and resolved before. */
#include "select_tree.h"

#include <fnmatch.h>
#include <string.h>
#include <sys/socket.h>

#include "describe.h"

int sel_ip_of(const struct st_addr *a, const uint8_t **ip)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (a->kind == ST_ADDR_INET) {
        *ip = a->data;
        return AF_INET;
    }
    if (a->kind == ST_ADDR_INET6) {
        if (!memcmp(a->data, mapped, 12)) {
            *ip = a->data + 12;
            return AF_INET;
        }
        *ip = a->data;
        return AF_INET6;
    }
    return 0;
}

bool sel_has_port(const struct st_addr *a)
{
    return a->kind == ST_ADDR_INET || a->kind == ST_ADDR_INET6;
}

static bool cmp_port(enum cmp c, int have, int want)
{
    switch (c) {
    case C_EQ: return have == want;
    case C_NE: return have != want;
    case C_LT: return have < want;
    case C_GT: return have > want;
    case C_LE: return have <= want;
    case C_GE: return have >= want;
    }
    return false;
}

static bool port_is(const struct node *n, const struct st_addr *a)
{
    return sel_has_port(a) && cmp_port(n->cmp, a->port, n->port);
}

static bool addr_is(const struct addr_pat *p, const struct st_addr *a)
{
    if (p->family == AF_UNIX) {
        char text[ADDR_TEXT_MAX];
        return (a->kind == ST_ADDR_UNIX) && addr_text(a, text, sizeof text) &&
               fnmatch(p->path, text, 0) == 0;
    }
    if (!sel_has_port(a))
        return false;
    if (p->port >= 0 && a->port != p->port)
        return false;
    if (p->prefix < 0)
        return true;
    const uint8_t *ip;
    if (sel_ip_of(a, &ip) != p->family)
        return false;
    int bits = p->prefix;
    size_t full = (size_t)bits / 8;
    if (memcmp(ip, p->ip, full))
        return false;
    if (bits % 8) {
        uint8_t mask = (uint8_t)(0xff << (8 - bits % 8));
        if ((ip[full] & mask) != (p->ip[full] & mask))
            return false;
    }
    return true;
}

/* What a condition looks at: a socket's, or an event's with its socket's. */
struct subject {
    const struct st_addr *local, *peer;
    const struct st_sock *so;   /* NULL: an event whose socket is not known */
};

static bool proto_is(const struct node *n, const struct subject *x)
{
    const struct st_sock *so = x->so;
    if (!so) {
        /* an event alone tells only the address family */
        int k = x->local->kind ? x->local->kind : x->peer->kind;
        if (n->proto == P_UNIX)
            return k == ST_ADDR_UNIX || k == ST_ADDR_UNNAMED;
        if (n->proto == P_INET)
            return k == ST_ADDR_INET;
        if (n->proto == P_INET6)
            return k == ST_ADDR_INET6;
        return false;
    }
    bool inet = so->family == AF_INET || so->family == AF_INET6;
    switch (n->proto) {
    case P_TCP: return inet && so->type == SOCK_STREAM && (so->protocol == 6 || !so->protocol);
    case P_UDP: return inet && so->type == SOCK_DGRAM && (so->protocol == 17 || !so->protocol);
    case P_UNIX: return so->family == AF_UNIX;
    case P_INET: return so->family == AF_INET;
    case P_INET6: return so->family == AF_INET6;
    case P_NAME: return !strcmp(proto_name(so), n->name);
    }
    return false;
}

static bool state_is(const struct node *n, const struct st_sock *so)
{
    if (!so)
        return false;
    if (n->state == ST_STATE_COUNT_)       /* failed, then closed or not */
        return so->state == ST_STATE_FAILED || so->outcome == ST_CONN_FAILED ||
               so->outcome == ST_CONN_GAVE_UP;
    return so->state == n->state;
}

static bool eval(const struct node *n, const struct subject *x)
{
    switch (n->kind) {
    case N_AND: return eval(n->a, x) && eval(n->b, x);
    case N_OR: return eval(n->a, x) || eval(n->b, x);
    case N_NOT: return !eval(n->a, x);
    case N_PORT: return port_is(n, x->local) || port_is(n, x->peer);
    case N_SPORT: return port_is(n, x->local);
    case N_DPORT: return port_is(n, x->peer);
    case N_SRC: return addr_is(&n->addr, x->local) == (n->cmp == C_EQ);
    case N_DST: return addr_is(&n->addr, x->peer) == (n->cmp == C_EQ);
    case N_STATE: return state_is(n, x->so);
    case N_PROTO: return proto_is(n, x);
    case N_TRUE: return true;
    }
    return false;
}

static const struct st_addr no_addr;

/* An unconnected datagram socket's peer is the last one it talked to: not
 * an association, so not a destination (ss shows *:* there too). */
const struct st_addr *sel_peer_of(const struct st_sock *so)
{
    return so->flags & ST_SF_PEER_LAST ? &no_addr : &so->peer;
}

/* The socket an event acted on, by its id; NULL when not loaded. */
static const struct st_sock *sock_of(const struct snapshot *s, const struct st_event *e)
{
    for (size_t i = 0; e->sock_id && i < s->n_open; i++)
        if (s->open[i].sock_id == e->sock_id)
            return &s->open[i];
    for (size_t i = 0; e->sock_id && i < s->n_closed; i++)
        if (s->closed[i].sock_id == e->sock_id)
            return &s->closed[i];
    return NULL;
}

/* The process is selected and x passes the filter; for an event e, its
 * socket is looked up only when there is a filter to hold it to. */
static bool passes(const struct selection *sel, const struct snapshot *s, struct subject *x,
                   const struct st_event *e)
{
    if (!select_process(sel, s))
        return false;
    if (!sel->expr)
        return true;
    if (e)
        x->so = sock_of(s, e);
    return eval(sel->expr, x);
}

bool select_socket(const struct selection *sel, const struct snapshot *s,
                   const struct st_sock *so)
{
    struct subject x = {&so->local, sel_peer_of(so), so};
    return passes(sel, s, &x, NULL);
}

bool select_event(const struct selection *sel, const struct snapshot *s,
                  const struct st_event *e)
{
    struct subject x = {&e->local, &e->peer, NULL};
    return passes(sel, s, &x, e);
}
