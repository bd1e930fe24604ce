/* peerjoin.c - the connection index of peerjoin.h. A 4-tuple is reused
 * over time (ephemeral ports come round again), so a match must also have
 * been open at the same time. */
#define _GNU_SOURCE
#include "peerjoin.h"
#include "sockaddr_conv.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <uthash.h>

#include "tracedb.h"

struct conn_key {
    uint8_t lip[16], pip[16];   /* IPv4 as v4-mapped IPv6 */
    uint16_t lport, pport;
    uint16_t type;
};

struct conn_end {
    const struct st_sock *so;
    const struct snapshot *owner;
    struct conn_end *next;
};

struct conn {
    struct conn_key key;
    struct conn_end *ends;
    UT_hash_handle hh;
};

struct conn_index {
    struct conn *head;
    struct snapshot *loaded;    /* from conn_index_add_dir */
    size_t n_loaded;
};

static bool make_key(const struct st_addr *l, const struct st_addr *p, int type,
                     struct conn_key *k)
{
    memset(k, 0, sizeof *k);
    if (!st_addr_ip16(l, k->lip) || !st_addr_ip16(p, k->pip) || !l->port || !p->port)
        return false;
    k->lport = l->port;
    k->pport = p->port;
    k->type = (uint16_t)type;
    return true;
}

struct conn_index *conn_index_new(void)
{
    return calloc(1, sizeof(struct conn_index));
}

static void add_sock(struct conn_index *ci, const struct snapshot *s,
                     const struct st_sock *so)
{
    struct conn_key k;
    if ((so->flags & ST_SF_PEER_LAST) || !make_key(&so->local, &so->peer, so->type, &k))
        return;
    struct conn *c;
    HASH_FIND(hh, ci->head, &k, sizeof k, c);
    if (!c) {
        if (!(c = calloc(1, sizeof *c)))
            return;
        c->key = k;
        HASH_ADD(hh, ci->head, key, sizeof k, c);
    }
    struct conn_end *e = malloc(sizeof *e);
    if (!e)
        return;
    e->so = so;
    e->owner = s;
    e->next = c->ends;
    c->ends = e;
}

void conn_index_add(struct conn_index *ci, const struct snapshot *s)
{
    if (!ci)
        return;
    for (size_t i = 0; i < s->n_open; i++)
        add_sock(ci, s, &s->open[i]);
    for (size_t i = 0; i < s->n_closed; i++)
        add_sock(ci, s, &s->closed[i]);
}

void conn_index_add_dir(struct conn_index *ci, const char *dir)
{
    size_t bad;
    if (!ci)
        return;
    ci->loaded = tracedb_load_all(dir, SNAP_TABLE | SNAP_HISTORY, NULL, &ci->n_loaded, &bad);
    for (size_t i = 0; i < ci->n_loaded; i++)
        conn_index_add(ci, &ci->loaded[i]);
}

/* How far apart two sockets' lifetimes are (0 when they overlap). The two
 * ends of one connection need not overlap: a client may connect, send and
 * close before the server accepts. */
static uint64_t gap(const struct st_sock *a, const struct st_sock *b)
{
    uint64_t a_end = a->closed_ns ? a->closed_ns : UINT64_MAX;
    uint64_t b_end = b->closed_ns ? b->closed_ns : UINT64_MAX;
    if (a_end < b->opened_ns)
        return b->opened_ns - a_end;
    if (b_end < a->opened_ns)
        return a->opened_ns - b_end;
    return 0;
}

/* A 4-tuple is not used again within TIME_WAIT (60 s on Linux): ends
 * further apart are other connections. */
#define SAME_CONN_GAP_NS (60ull * 1000000000ull)

static const char *comm_of(const struct st_header *h)
{
    const char *c = h->cmdline_len ? h->cmdline : "?";
    const char *slash = strrchr(c, '/');
    return slash ? slash + 1 : c;
}

void conn_index_extra(const struct conn_index *ci, const struct snapshot *s,
                      const struct st_sock *so, struct sock_extra *x)
{
    memset(x, 0, sizeof *x);
    x->host = snap_host_of(s, &so->peer);
    struct conn_key k;
    if (!ci || (so->flags & ST_SF_PEER_LAST) ||
        !make_key(&so->peer, &so->local, so->type, &k))
        return;
    struct conn *c;
    HASH_FIND(hh, ci->head, &k, sizeof k, c);
    uint64_t best = UINT64_MAX;
    for (struct conn_end *e = c ? c->ends : NULL; e; e = e->next) {
        if (e->owner->h.pid == s->h.pid && e->so->sock_id == so->sock_id)
            continue;       /* ourselves (a connection to itself) */
        if (e->owner->h.netns_ino && s->h.netns_ino &&
            e->owner->h.netns_ino != s->h.netns_ino)
            continue;       /* the same addresses in another network
                               namespace (a container's 127.0.0.1) */
        uint64_t g = gap(e->so, so);
        if (g > SAME_CONN_GAP_NS)
            continue;
        /* the nearest in time, then the lowest alias */
        if (!x->peer_pid || g < best || (g == best && e->so->fd < x->peer_fd)) {
            best = g;
            x->peer_pid = e->owner->h.pid;
            x->peer_fd = e->so->fd;
            x->peer_comm = comm_of(&e->owner->h);
        }
    }
}

void conn_index_free(struct conn_index *ci)
{
    if (!ci)
        return;
    struct conn *c, *tmp;
    HASH_ITER(hh, ci->head, c, tmp) {
        HASH_DEL(ci->head, c);
        for (struct conn_end *e = c->ends, *n; e; e = n) {
            n = e->next;
            free(e);
        }
        free(c);
    }
    for (size_t i = 0; i < ci->n_loaded; i++)
        snap_free(&ci->loaded[i]);
    free(ci->loaded);
    free(ci);
}
