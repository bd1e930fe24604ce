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
#include "resolve.h"

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
    for (size_t i = 0; i < ci->n_loaded; i++) {
        /* which ends are open now decides between holders (rank) */
        snap_check_live(&ci->loaded[i]);
        conn_index_add(ci, &ci->loaded[i]);
    }
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

/* Of two ends that tie in time, the one that holds the connection: a
 * socket accepted by one process and handed to another (fork, then the
 * first closes its copy; SCM_RIGHTS) has an end in each, with the same
 * addresses and lifetimes that overlap. First the end open now (its
 * process runs and the kernel did not find it closed), then the one that
 * held it last (closed latest, or still open when its process ended),
 * then the one that came to hold it last (opened latest; a forked child
 * keeps its parent's record, so then the process started last). */
struct rank {
    bool open_now;
    uint64_t held_until, held_from, owner_start;
};

static struct rank rank_of(const struct conn_end *e)
{
    const struct st_sock *so = e->so;
    const struct st_header *h = &e->owner->h;
    bool open = so->state != ST_STATE_CLOSED && !so->closed_ns && !snap_gone(so);
    struct rank r = {
        .open_now = open && e->owner->alive,
        .held_until = so->closed_ns ? so->closed_ns :
                      e->owner->alive || !h->end_ns ? UINT64_MAX : h->end_ns,
        .held_from = so->opened_ns,
        .owner_start = h->start_ns,
    };
    return r;
}

/* <0: a holds the connection rather than b, >0: b, 0: no telling */
static int rank_cmp(const struct rank *a, const struct rank *b)
{
    if (a->open_now != b->open_now)
        return a->open_now ? -1 : 1;
    if (a->held_until != b->held_until)
        return a->held_until > b->held_until ? -1 : 1;
    if (a->held_from != b->held_from)
        return a->held_from > b->held_from ? -1 : 1;
    if (a->owner_start != b->owner_start)
        return a->owner_start > b->owner_start ? -1 : 1;
    return 0;
}

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
    const struct conn_end *best = NULL;
    uint64_t best_gap = UINT64_MAX;
    struct rank best_rank = {0};
    for (struct conn_end *e = c ? c->ends : NULL; e; e = e->next) {
        if (e->owner->h.pid == s->h.pid && e->so->sock_id == so->sock_id)
            continue;       /* ourselves (a connection to itself) */
        if (e->owner->h.netns_ino && s->h.netns_ino &&
            e->owner->h.netns_ino != s->h.netns_ino)
            continue;       /* the same addresses in another network
                               namespace (a container's 127.0.0.1) */
        uint64_t g = gap(e->so, so);
        if (g > SAME_CONN_GAP_NS || (best && g > best_gap))
            continue;
        /* the nearest in time, then the holder, then the lowest alias
         * (dup'd fds of one socket share its sock_id) */
        struct rank r = rank_of(e);
        bool take = !best || g < best_gap;
        if (!take && e->owner == best->owner && e->so->sock_id == best->so->sock_id)
            take = e->so->fd < best->so->fd;
        else if (!take) {
            int cmp = rank_cmp(&r, &best_rank);
            take = cmp < 0 || (cmp == 0 && e->so->fd < best->so->fd);
        }
        if (take) {
            best = e;
            best_gap = g;
            best_rank = r;
        }
    }
    if (best) {
        x->peer_pid = best->owner->h.pid;
        x->peer_fd = best->so->fd;
        x->peer_comm = comm_of(&best->owner->h);
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
