/* closing.c - close, dup2 over a socket, close_range and FD_CLOEXEC
 * ranges: mark the entry, prove it is still the socket there, read the TCP
 * counters, and publish the closed version after the real call. */
#define _GNU_SOURCE
#include "tracer.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "real.h"
#include "tracefile.h"
#include "file_space.h"
#include "write_path.h"

static void (*closing)(struct st_sock *s, int fd);
static void (*closed)(struct st_sock *s);

void st_on_close(void (*before)(struct st_sock *s, int fd),
                 void (*after)(struct st_sock *s))
{
    closing = before;
    closed = after;
}

/* The proofs a call that marks fd's entry closing has made so far: of
 * the version proved, what a reading of the slot again needs to tell it
 * and to keep its counters (not the whole record: a close copies it for
 * a retry that almost never comes). */
struct proofs {
    uint64_t sock_id;       /* 0: none proved */
    uint64_t bytes_sent, bytes_received;
    uint32_t rtt_us, retrans, tcpinfo;
    int n;
};
static bool proven(struct st_sock *s, int fd, bool counts, struct proofs *p);

void st_mark(int fd, struct st_mark *m)
{
    uint64_t *slot = st_slot(fd, false);
    m->word = 0;
    m->ours = false;
    if (!slot)
        return;
    struct proofs pr;
    memset(&pr, 0, sizeof pr);
    for (;;) {
        uint64_t w;
        if (st_read_slot(slot, &w, &m->s) != ST_K_LIVE || (w & ST_W_CLOSING)) {
            m->word = w;
            return;
        }
        /* the socket dup2 displaces must still be there, and is closed
         * with the byte counts a close records (Java NIO closes channels
         * this way) */
        if (!proven(&m->s, fd, true, &pr))
            continue;
        if (closing)
            closing(&m->s, fd);
        if (__atomic_compare_exchange_n(slot, &w, w | ST_W_CLOSING, false,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            m->word = w | ST_W_CLOSING;
            m->ours = true;
            return;
        }
    }
}

void st_unmark(int fd, const struct st_mark *m)
{
    uint64_t *slot = st_slot(fd, false), w = m->word;
    if (slot && m->ours)
        __atomic_compare_exchange_n(slot, &w, w & ~ST_W_CLOSING, false,
                                    __ATOMIC_RELEASE, __ATOMIC_RELAXED);
}

/* TCP states (the kernel's, not exported to user space) after the peer's
 * FIN has arrived. */
enum {
    ST_TCP_TIME_WAIT = 6,
    ST_TCP_CLOSE = 7,
    ST_TCP_CLOSE_WAIT = 8,
    ST_TCP_LAST_ACK = 9,
    ST_TCP_CLOSING = 11,
};

#include <linux/tcp.h>

static bool wants_counters(const struct st_sock *s)
{
    return st_tcpinfo && s->protocol == IPPROTO_TCP && s->type == SOCK_STREAM &&
           (s->state == ST_STATE_CONNECTED || s->state == ST_STATE_CONNECTING);
}

/* One getsockopt before the close, for tcplife-style byte counts. False
 * when the kernel refused: fd is no TCP socket (ENOTSOCK for a pipe or a
 * file, EOPNOTSUPP or ENOPROTOOPT for another kind of socket), or not
 * open. */
static bool tcp_counters(struct st_sock *s, int fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    memset(&ti, 0, sizeof ti);
    if (st_sys_getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
        return false;
    if (len < offsetof(struct tcp_info, tcpi_bytes_received) + 8)
        return true;
    /* The kernel's counters are in sequence numbers: bytes_acked counts
     * an active opener's SYN and our acked FIN, bytes_received the peer's
     * FIN. Data octets sent once (sent minus retransmitted, Linux 4.19)
     * have neither; the peer's FIN is known from the state it leaves. */
    if (len >= offsetof(struct tcp_info, tcpi_bytes_retrans) + 8)
        s->bytes_sent = ti.tcpi_bytes_sent - ti.tcpi_bytes_retrans;
    else
        s->bytes_sent = ti.tcpi_bytes_acked;
    s->bytes_received = ti.tcpi_bytes_received;
    /* A socket shut for writing that then got the peer's FIN is CLOSE
     * (its time-wait lives on without it) with that FIN counted; without
     * our shutdown, CLOSE comes of a reset, and no FIN (Java NIO shuts a
     * registered channel down and closes it at the next select). */
    bool fin_in = ti.tcpi_state == ST_TCP_CLOSE_WAIT || ti.tcpi_state == ST_TCP_LAST_ACK ||
                  ti.tcpi_state == ST_TCP_CLOSING || ti.tcpi_state == ST_TCP_TIME_WAIT ||
                  (ti.tcpi_state == ST_TCP_CLOSE && (s->flags & ST_SF_SHUT_WR));
    if (s->bytes_received && fin_in)
        s->bytes_received--;
    s->rtt_us = ti.tcpi_rtt;
    s->retrans = ti.tcpi_total_retrans;
    s->flags |= ST_SF_TCPINFO;
    return true;
}

/* Whether fd still holds the socket s records. A socket closed behind
 * the tracer's back (a raw system call, an inline one no hook sees)
 * leaves its entry, and the number may since have gone to a pipe, a file,
 * an eventfd or another socket; closing that, dup2ing over it or changing
 * its flags must not be recorded as the old socket's. One question
 * settles most of it: TCP_INFO, which a close of a connected TCP socket
 * reads anyway for the counts (counts), fails on anything but a TCP
 * socket; for the others getsockopt(SO_TYPE) fails on anything but a
 * socket and tells a socket of another type. A socket of the same type
 * made by a raw call stays unseen (a full st_ask on every close would
 * cost eight questions). A wrong "no" only costs the st_ask that follows,
 * which keeps the entry when the kernel's view agrees with it. */
static bool still_there(struct st_sock *s, int fd, bool counts)
{
    if (counts && wants_counters(s))
        return tcp_counters(s, fd);
    int type = 0;
    socklen_t len = sizeof type;
    return st_sys_getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
           type == s->type;
}

/* Whether s, just read again after a slot changed, is the version already
 * proved (its counters are carried over), so that a busy slot is not
 * asked about again and again; after two proofs the entry is taken as it
 * stands (st_ask published it from the kernel's own answers). */
static bool proof_kept(struct st_sock *s, const struct proofs *p)
{
    if (p->n >= 2)
        return true;
    if (!p->sock_id || p->sock_id != s->sock_id)
        return false;
    s->bytes_sent = p->bytes_sent;
    s->bytes_received = p->bytes_received;
    s->rtt_us = p->rtt_us;
    s->retrans = p->retrans;
    s->flags |= p->tcpinfo;
    return true;
}

/* Before a call marks fd's entry s (just read) closing: s must still be
 * the socket there. False when it was stale: the kernel's answer is
 * published, and the caller reads the slot again. */
static bool proven(struct st_sock *s, int fd, bool counts, struct proofs *p)
{
    if (proof_kept(s, p))
        return true;
    p->n++;
    if (!still_there(s, fd, counts)) {
        struct st_sock k;
        st_ask(fd, ST_ORIGIN_FOUND, NULL, &k);
        return false;
    }
    p->sock_id = s->sock_id;
    p->bytes_sent = s->bytes_sent;
    p->bytes_received = s->bytes_received;
    p->rtt_us = s->rtt_us;
    p->retrans = s->retrans;
    p->tcpinfo = s->flags & ST_SF_TCPINFO;
    return true;
}

bool st_confirm(int fd, const struct st_sock *s)
{
    struct st_sock copy = *s;
    struct proofs pr;
    memset(&pr, 0, sizeof pr);
    return proven(&copy, fd, false, &pr);
}

void st_close_begin(int fd, struct st_closing *c, bool tcp_counts)
{
    c->fd = fd;
    c->marked = false;
    uint64_t *slot = st_slot(fd, false);
    if (!slot)
        return;
    struct proofs pr;
    memset(&pr, 0, sizeof pr);
    c->took_over = false;
    for (;;) {      /* a failed mark means another thread changed the slot */
        uint64_t w;
        if (st_read_slot(slot, &w, &c->s) != ST_K_LIVE)
            return;     /* nothing we know */
        if (w & ST_W_CLOSING) {
            /* another close marked it: one running now on another thread
             * (it records, unless ours is the close that succeeds), or
             * one a siglongjmp left before its real close (ours records) */
            c->word = w;
            c->t_lo = st_before_loose();
            c->marked = c->took_over = true;
            return;
        }
        /* stale: the kernel's answer retires it as closed unseen (a
         * socket found there instead is closed below) */
        if (!proven(&c->s, fd, tcp_counts, &pr))
            continue;
        if (closing)
            closing(&c->s, fd);
        uint64_t marked = w | ST_W_CLOSING;
        if (__atomic_compare_exchange_n(slot, &w, marked, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED)) {
            c->word = marked;
            c->t_lo = st_before_loose();
            c->marked = true;
            return;
        }
    }
}

const struct st_sock *st_close_end(struct st_closing *c, int ret, int err)
{
    if (!c->marked)
        return NULL;
    struct st_sock *s = &c->s;
    /* the close this one took over from did the closing and records it */
    if (c->took_over && ret < 0 && err == EBADF)
        return s;
    uint64_t t_hi = st_now();
    if (closed)
        closed(s);
    st_set_closed(s);
    s->closed_ns = t_hi;
    s->t_lo = c->t_lo;
    s->t_hi = t_hi;
    s->flags &= ~ST_SF_ASKED;
    if (ret < 0 && err == EBADF)
        s->flags |= ST_SF_CLOSED_UNSEEN;    /* it was gone already */
    uint64_t *slot = st_slot(c->fd, false);
    bool record = true;
    for (int tries = 0; slot && tries < 8; tries++) {
        if (st_publish(slot, c->word, s, ST_W_TOMB))
            break;
        /* the slot changed while we closed */
        uint64_t w;
        struct st_sock cur, out;
        int kind = st_read_slot(slot, &w, &cur);
        if ((cur.sock_id == s->sock_id && kind == ST_K_TOMB && !(cur.flags & ST_SF_ASKED)) ||
            c->took_over) {
            /* a close that took over from us recorded it; or we took over
             * a mark whose owner is alive after all and records. (A
             * tombstone a thread asking the kernel put there, ASKED, left
             * the record to us.) */
            record = false;
            if (c->took_over && kind == ST_K_LIVE && (w & ST_W_CLOSING) &&
                cur.sock_id == s->sock_id) {
                c->word = w;
                record = true;
                continue;
            }
            break;
        }
        if (cur.sock_id == s->sock_id && kind == ST_K_LIVE && (w & ST_W_CLOSING)) {
            c->word = w;        /* changed, still marked: still ours to close */
            continue;
        }
        /* the number changed hands: what is there now came after our
         * close, unless our close hit it (a program closing a number it
         * no longer owned); then the number is not open now */
        if (kind == ST_K_LIVE && st_order_of(kind, &cur, c->t_lo, t_hi) != ST_NEWER &&
            !st_fd_open(c->fd))
            st_ask(c->fd, ST_ORIGIN_FOUND, NULL, &out);
        break;
    }
    if (record)
        st_history(s);
    return s;
}

struct range_arg {
    int call;
    uint64_t t_lo;      /* before the real call */
};

static void mark_one(int fd, uint64_t *slot, void *arg)
{
    (void)arg;
    struct st_sock s;
    struct proofs pr;
    memset(&pr, 0, sizeof pr);
    for (;;) {
        uint64_t w;
        if (st_read_slot(slot, &w, &s) != ST_K_LIVE || (w & ST_W_CLOSING))
            return;
        /* a stale entry is retired unseen, not closed by this call */
        if (!proven(&s, fd, false, &pr))
            continue;
        if (__atomic_compare_exchange_n(slot, &w, w | ST_W_CLOSING, false,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            return;
    }
}

void st_range_begin(int lo, int hi)
{
    st_slot_each(lo, hi, mark_one, NULL);
}

static void close_one(int fd, uint64_t *slot, void *arg)
{
    struct range_arg *a = arg;
    struct st_closing c = {.fd = fd, .marked = true, .took_over = false,
                           .t_lo = a->t_lo};
    if (st_read_slot(slot, &c.word, &c.s) != ST_K_LIVE || !(c.word & ST_W_CLOSING))
        return;
    const struct st_sock *s = st_close_end(&c, 0, 0);
    if (s)
        st_emit(a->call, fd, -1, 0, 0, s);
}

void st_range_end(int lo, int hi, int call, uint64_t t_lo)
{
    struct range_arg a = {call, t_lo};
    st_slot_each(lo, hi, close_one, &a);
}

static void unmark_one(int fd, uint64_t *slot, void *arg)
{
    (void)fd;
    (void)arg;
    uint64_t w = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    while ((w & ST_W_CLOSING) &&
           !__atomic_compare_exchange_n(slot, &w, w & ~ST_W_CLOSING, false,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        ;
}

void st_range_abort(int lo, int hi)
{
    st_slot_each(lo, hi, unmark_one, NULL);
}

static bool set_cloexec(struct st_sock *s, int fd, void *arg)
{
    (void)fd;
    (void)arg;
    if (s->flags & ST_SF_CLOEXEC)
        return false;
    s->flags |= ST_SF_CLOEXEC;
    return true;
}

static void cloexec_one(int fd, uint64_t *slot, void *arg)
{
    uint64_t t_lo = *(const uint64_t *)arg, w;
    struct st_sock cur, out;
    if (st_read_slot(slot, &w, &cur) != ST_K_LIVE)
        return;
    /* an entry published since the call began may be a socket the call
     * never saw: the kernel says whether it is close-on-exec */
    if (cur.t_hi < t_lo)
        st_change(fd, w, t_lo, set_cloexec, NULL, &out);
    else
        st_ask(fd, ST_ORIGIN_FOUND, NULL, &out);
}

void st_range_cloexec(int lo, int hi, uint64_t t_lo)
{
    st_slot_each(lo, hi, cloexec_one, &t_lo);
}
