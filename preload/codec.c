/* codec.c - decoded records to and from the trace file's compact records.
 * Used by the preload (both ways) and by the viewer (decoding only). */
#include "codec.h"

#include <string.h>
#include <sys/socket.h>

/* st_rec_head.family is one byte */
_Static_assert(AF_MAX <= UINT8_MAX, "AF_* fit in a byte");

void st_load_words(void *dst, const void *src, uint32_t n)
{
    uint64_t *d = dst;
    const uint64_t *s = src;
    for (uint32_t i = 0; i < n / 8; i++)
        d[i] = __atomic_load_n(&s[i], __ATOMIC_ACQUIRE);
}

void st_store_words(void *dst, const void *src, uint32_t n)
{
    uint64_t *d = dst;
    const uint64_t *s = src;
    for (uint32_t i = 0; i < n / 8; i++)
        __atomic_store_n(&d[i], s[i], __ATOMIC_RELAXED);
}

static bool fits(const struct st_addr *a)
{
    return a->len <= ST_CADDR_DATA;
}

void st_caddr_from(struct st_caddr *c, const struct st_addr *a)
{
    memset(c, 0, sizeof *c);
    c->kind = (uint8_t)a->kind;
    c->family = a->family;
    c->port = a->port;
    c->scope = a->scope;
    uint16_t n = a->len;
    if (n > ST_CADDR_DATA) {
        n = ST_CADDR_DATA;
        c->cut = 1;
    }
    c->len = (uint8_t)n;
    memcpy(c->data, a->data, n);
}

void st_caddr_to(struct st_addr *a, const struct st_caddr *c)
{
    memset(a, 0, sizeof *a);
    a->kind = c->kind;
    a->family = c->family;
    a->port = c->port;
    a->scope = c->scope;
    a->len = c->len <= ST_CADDR_DATA ? c->len : ST_CADDR_DATA;
    memcpy(a->data, c->data, a->len);
}

uint16_t st_rec_size(const struct st_sock *s)
{
    return fits(&s->local) && fits(&s->peer) ? ST_REC_SMALL : ST_REC_LARGE;
}

void st_rec_head_encode(struct st_rec_head *h, const struct st_sock *s,
                        uint16_t size)
{
    memset(h, 0, sizeof *h);
    h->sock_id = s->sock_id;
    h->opened_ns = s->opened_ns;
    h->t_lo = s->t_lo;
    h->t_hi = s->t_hi;
    h->flags = s->flags;
    h->peers_seen = (uint16_t)s->peers_seen;
    h->fd = s->fd;
    h->family = (uint8_t)s->family;
    h->type = (uint8_t)s->type;
    h->protocol = s->protocol;
    h->state = s->state;
    h->origin = s->origin;
    h->size = size;
    h->connect_ns = s->connect_ns;
    h->connect_err = s->connect_err;
    h->end_err = s->end_err;
    h->outcome = s->outcome;
    h->was = s->was;
}

void st_rec_head_decode(const struct st_rec_head *h, struct st_sock *s)
{
    memset(s, 0, offsetof(struct st_sock, local));
    s->sock_id = h->sock_id;
    s->opened_ns = h->opened_ns;
    s->closed_ns = h->state == ST_STATE_CLOSED ? h->t_hi : 0;
    s->t_lo = h->t_lo;
    s->t_hi = h->t_hi;
    s->flags = h->flags;
    s->peers_seen = h->peers_seen;
    s->fd = h->fd;
    s->family = h->family;
    s->type = h->type;
    s->protocol = h->protocol;
    s->state = h->state;
    s->origin = h->origin;
    s->connect_ns = h->connect_ns;
    s->connect_err = h->connect_err;
    s->end_err = h->end_err;
    s->outcome = h->outcome;
    s->was = h->was;
}

void st_rec_encode(void *rec, uint16_t size, const struct st_sock *s)
{
    if (size == ST_REC_SMALL) {
        struct st_rec_small *r = rec;
        st_rec_head_encode(&r->h, s, size);
        st_caddr_from(&r->local, &s->local);
        st_caddr_from(&r->peer, &s->peer);
    } else {
        struct st_rec_large *r = rec;
        st_rec_head_encode(&r->h, s, ST_REC_LARGE);
        r->local = s->local;
        r->peer = s->peer;
    }
}

/* Full addresses from a record, their lengths kept within data[]. */
static void full_addrs(struct st_sock *s, const struct st_addr *local,
                       const struct st_addr *peer)
{
    s->local = *local;
    s->peer = *peer;
    if (s->local.len > ST_ADDR_DATA)
        s->local.len = ST_ADDR_DATA;
    if (s->peer.len > ST_ADDR_DATA)
        s->peer.len = ST_ADDR_DATA;
}

void st_rec_decode(const void *rec, struct st_sock *s)
{
    const struct st_rec_head *h = rec;
    st_rec_head_decode(h, s);
    if (h->size == ST_REC_LARGE) {
        const struct st_rec_large *r = rec;
        full_addrs(s, &r->local, &r->peer);
    } else {
        const struct st_rec_small *r = rec;
        st_caddr_to(&s->local, &r->local);
        st_caddr_to(&s->peer, &r->peer);
    }
}

void st_hist_encode(struct st_histrec *r, const struct st_sock *s)
{
    st_rec_head_encode(&r->h, s, ST_REC_LARGE);
    r->closed_ns = s->closed_ns;
    r->bytes_sent = s->bytes_sent;
    r->bytes_received = s->bytes_received;
    r->rtt_us = s->rtt_us;
    r->retrans = s->retrans;
    r->local = s->local;
    r->peer = s->peer;
}

void st_hist_decode(const struct st_histrec *r, struct st_sock *s)
{
    st_rec_head_decode(&r->h, s);
    s->closed_ns = r->closed_ns;
    s->bytes_sent = r->bytes_sent;
    s->bytes_received = r->bytes_received;
    s->rtt_us = r->rtt_us;
    s->retrans = r->retrans;
    full_addrs(s, &r->local, &r->peer);
}
