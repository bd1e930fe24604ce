/* change.c - a call that changed one socket (bind, connect, a flag) or
 * made one (socket, accept, dup): the next version of its entry, ordered
 * against other threads by the calls' time windows. */
#define _GNU_SOURCE
#include "tracer.h"

#include <string.h>

#include "write_path.h"

/* What a call publishes carries its own window, and is no longer what
 * the kernel answered a question (ST_SF_ASKED). */
static void stamp(struct st_sock *s, uint64_t t_lo, uint64_t t_hi)
{
    s->t_lo = t_lo;
    s->t_hi = t_hi;
    s->flags &= ~ST_SF_ASKED;
}

/* st_change, for a call that ended at t_hi (the reading st_change_head
 * took already, when it hands over) */
static bool change(int fd, uint64_t base, uint64_t t_lo, uint64_t t_hi, st_apply_fn fn,
                   void *arg, struct st_sock *out)
{
    /* out holds the version read until fn has changed it: the record is
     * decoded once and copied once per try (a decoded record is 352
     * bytes; each copy or zeroing of one costs 12-16 ns here) */
    uint64_t *slot = st_slot_for(fd);
    if (!slot) {
        memset(out, 0, sizeof *out);
        return false;
    }
    bool asked = false;
    for (int tries = 0; tries < 8; tries++) {
        uint64_t w;
        struct st_sock cur;
        int kind = st_read_slot(slot, &w, &cur);
        if (w != base) {
            int ord = st_order_of(kind, &cur, t_lo, t_hi);
            if (ord == ST_OLDER) {
                base = w;       /* the call acted on what cur describes */
            } else if (ord == ST_NEWER && (kind != ST_K_LIVE || (cur.flags & ST_SF_ASKED))) {
                if (kind == ST_K_LIVE)
                    *out = cur;
                else
                    memset(out, 0, sizeof *out);
                return false;
            } else {
                return st_ask(fd, ST_ORIGIN_FOUND, NULL, out);
            }
        }
        /* a close or dup2 of this fd number in flight: which socket the
         * call acted on is the kernel's to say */
        if (w & ST_W_CLOSING)
            return st_ask(fd, ST_ORIGIN_FOUND, NULL, out);
        /* a socket made by a call no hook sees (io_uring's
         * IORING_OP_SOCKET, an inline syscall): the kernel says what it
         * is, and then this call adds what only it showed (a bind to
         * port 0: the kernel chose the port). The window widens to cover
         * the questions. */
        if (kind != ST_K_LIVE) {
            if (asked)      /* closed again meanwhile */
                return st_ask(fd, ST_ORIGIN_FOUND, NULL, out);
            if (!st_ask(fd, ST_ORIGIN_FOUND, NULL, out))
                return false;
            asked = true;
            base = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
            t_hi = st_now();
            continue;
        }
        *out = cur;
        if (!fn(out, fd, arg)) {
            *out = cur;     /* fn may have changed part of it */
            return false;
        }
        stamp(out, t_lo, t_hi);
        if (st_publish(slot, w, out, 0))
            return true;
        base = w;
    }
    return st_ask(fd, ST_ORIGIN_FOUND, NULL, out);
}

bool st_change(int fd, uint64_t base, uint64_t t_lo, st_apply_fn fn,
               void *arg, struct st_sock *out)
{
    return change(fd, base, t_lo, st_now(), fn, arg, out);
}

bool st_change_head(int fd, uint64_t base, uint64_t t_lo, st_apply_fn fn,
                    void *arg, struct st_changed *c)
{
    /* the common case, nothing else changing the fd: the record copied in
     * as the file holds it (144 bytes, 304 for long addresses), its
     * 64-byte head decoded and encoded, and copied out; the rest (another
     * writer, a mark, a stale entry) is st_change's */
    uint64_t t_hi = st_now();
    uint64_t *slot, w;
    if (st_get_rec_at(fd, &slot, &w, &c->rec) && w == base && !(w & ST_W_CLOSING)) {
        struct st_sock h;
        st_rec_head_decode(&c->rec.head, &h);
        c->as_filed = true;
        if (!fn(&h, fd, arg))
            return false;
        stamp(&h, t_lo, t_hi);
        st_rec_head_encode(&c->rec.head, &h, c->rec.head.size);
        if (st_publish_rec(slot, w, &c->rec, &h))
            return true;
    }
    c->as_filed = false;
    return change(fd, base, t_lo, t_hi, fn, arg, &c->s);
}

uint64_t st_changed_id(const struct st_changed *c)
{
    return c->as_filed ? c->rec.head.sock_id : c->s.sock_id;
}

bool st_open(int fd, uint64_t t_lo, struct st_sock *s, const struct st_mark *m)
{
    uint64_t t_hi = st_now();
    uint64_t *slot = st_slot_for(fd);
    if (!slot)
        return false;
    s->fd = fd;
    s->t_lo = t_lo;
    s->t_hi = t_hi;
    if (!s->sock_id)
        s->sock_id = st_new_sock_id();
    if (!s->opened_ns)
        s->opened_ns = t_hi;
    for (int tries = 0; tries < 8; tries++) {
        uint64_t w;
        struct st_sock cur;
        int kind = st_read_slot(slot, &w, &cur);
        bool displaced = m && w == m->word;
        if (!displaced) {
            int ord = st_order_of(kind, &cur, t_lo, t_hi);
            /* a thread that asked the kernel about our socket before we
             * published has it already; our record adds what it knew */
            if (ord == ST_NEWER && kind == ST_K_LIVE && (cur.flags & ST_SF_ASKED) &&
                st_same_socket(s, &cur))
                return st_ask(fd, s->origin, s, s);
            if (ord == ST_NEWER)
                return false;   /* fd changed again after the call */
            /* The kernel gave us the number, so it was free: a socket
             * closed there (or being closed: marked) is the one that freed
             * it, however the windows lie. Unless a racing close hit our
             * new socket since; then the number is not open now (or the
             * kernel gave it out again, and its new owner publishes). One
             * question tells, where asking everything would take eight. */
            if (ord == ST_OVERLAP && (kind != ST_K_LIVE || (w & ST_W_CLOSING))) {
                if (!st_fd_open(fd))
                    return false;
            } else if (ord == ST_OVERLAP) {
                return st_ask(fd, s->origin, s, s);
            }
        }
        if (!st_publish(slot, w, s, 0))
            continue;
        st_peer_forget(fd);
        if (kind == ST_K_LIVE && !displaced)
            st_retire_unseen(fd, w, &cur, t_hi);
        return true;
    }
    return st_ask(fd, s->origin, s, s);
}

bool st_flag_apply(struct st_sock *s, int fd, void *arg)
{
    (void)fd;
    const struct st_flag_arg *a = arg;
    if (!!(s->flags & a->bit) == a->set)
        return false;
    s->flags = a->set ? (s->flags | a->bit) : (s->flags & ~a->bit);
    return true;
}
