/* emit.c - the rings the hooks append to: events, closed sockets (history),
 * name lookups; and the per-fd peer cache that keeps a datagram socket
 * talking to one peer from recording it again and again. */
#define _GNU_SOURCE
#include "tracer.h"

#include <string.h>

#include "tracefile.h"
#include "portable.h"
#include "ring.h"
#include "write_path.h"

/* The last peer noted per fd (direct-mapped; (fd + 1) << 32 | hash): a
 * datagram socket talking to one peer records it once. Forgotten when a
 * new socket takes the fd number. */
#define PEER_CACHE 4096
uint64_t st_peer_cache_tab[PEER_CACHE] ST_BSS_LAST;

void st_peer_forget(int fd)
{
    if (fd >= 0)
        __atomic_store_n(&st_peer_cache_tab[fd % PEER_CACHE], 0, __ATOMIC_RELAXED);
}

void st_history(const struct st_sock *s)
{
    struct st_header *h = st_hdr();
    if (!h)
        return;
    struct st_histrec buf;
    st_hist_encode(&buf, s);
    st_ring_put(&h->history, &buf, sizeof buf);
}

void st_emit(int call, int fd, int fd2, long ret, int err,
             const struct st_sock *s)
{
    static const struct st_addr none;
    st_emit_addrs(call, fd, fd2, ret, err, s ? &s->local : &none,
                  s ? &s->peer : &none, s ? s->sock_id : 0);
}

/* The event's fields but its addresses. */
static void event_head(struct st_evrec *ev, int call, int fd, int fd2, long ret,
                       int err, uint64_t sock_id)
{
    ev->word = 0;
    ev->ns = st_call_ns();
    ev->sock_id = sock_id;
    ev->call = (uint16_t)call;
    ev->reserved = 0;
    ev->tid = st_tid();
    ev->fd = fd;
    ev->fd2 = fd2;
    ev->ret = (int32_t)ret;
    ev->err = ret < 0 ? err : 0;
}

void st_emit_addrs(int call, int fd, int fd2, long ret, int err,
                   const struct st_addr *local, const struct st_addr *peer,
                   uint64_t sock_id)
{
    struct st_header *h = st_file();
    if (!h)
        return;
    struct st_evrec ev;
    event_head(&ev, call, fd, fd2, ret, err, sock_id);
    st_caddr_from(&ev.local, local);
    st_caddr_from(&ev.peer, peer);
    st_ring_put(&h->events, &ev, sizeof ev);
}

void st_emit_rec(int call, int fd, int fd2, long ret, int err,
                 const union st_rec_any *r)
{
    if (!r) {
        st_emit(call, fd, fd2, ret, err, NULL);
        return;
    }
    if (r->head.size == ST_REC_LARGE) {
        st_emit_addrs(call, fd, fd2, ret, err, &r->large.local, &r->large.peer,
                      r->head.sock_id);
        return;
    }
    struct st_header *h = st_file();
    if (!h)
        return;
    /* a small record's addresses are in the event's own form already */
    struct st_evrec ev;
    event_head(&ev, call, fd, fd2, ret, err, r->head.sock_id);
    ev.local = r->small.local;
    ev.peer = r->small.peer;
    st_ring_put(&h->events, &ev, sizeof ev);
}

void st_emit_changed(int call, int fd, int fd2, long ret, int err,
                     const struct st_changed *c)
{
    if (c->as_filed)
        st_emit_rec(call, fd, fd2, ret, err, &c->rec);
    else
        st_emit(call, fd, fd2, ret, err, &c->s);
}

bool st_peer_cached(int fd, uint32_t hash)
{
    uint64_t key = (uint64_t)(fd + 1) << 32 | hash;
    return __atomic_load_n(&st_peer_cache_tab[fd % PEER_CACHE], __ATOMIC_RELAXED) == key;
}

void st_peer_cache(int fd, uint32_t hash)
{
    __atomic_store_n(&st_peer_cache_tab[fd % PEER_CACHE],
                     (uint64_t)(fd + 1) << 32 | hash, __ATOMIC_RELAXED);
}

void st_name_push(int family, const uint8_t addr[16], const char *host,
                  uint64_t ns)
{
    struct st_header *h = st_file();
    if (!h)
        return;
    struct st_ring *r = &h->names;
    /* a program that resolves the same name for every request must not
     * push older names out: a pair already held is not written again (two
     * threads resolving at once may both write it: harmless) */
    uint64_t head = __atomic_load_n(&r->head.v, __ATOMIC_ACQUIRE);
    uint64_t first = head > r->cap ? head - r->cap : 0;
    size_t n = strnlen(host, ST_HOST_MAX - 1);
    struct st_view v = st_view_of(h);
    for (uint64_t i = head; i-- > first;) {
        struct st_namerec rec;
        if (st_ring_copy(&v, r, i, &rec, sizeof rec) == ST_RING_REC_OK && rec.family == family &&
            memcmp(rec.addr, addr, 16) == 0 && strncmp(rec.host, host, n) == 0 &&
            rec.host[n] == 0)
            return;
    }
    struct st_namerec rec;
    memset(&rec, 0, sizeof rec);
    rec.family = (uint16_t)family;
    rec.ns = ns;
    memcpy(rec.addr, addr, 16);
    memcpy(rec.host, host, n);
    st_ring_put(r, &rec, sizeof rec);
}
