/* codec.h - the decoded forms of trace-file records, which both sides work
 * with, and the conversions between them and the file's compact records.
 * The file layout itself is trace_format.h; nothing here is in the file. */
#ifndef SOCKTRACE_CODEC_H
#define SOCKTRACE_CODEC_H

#include <stdbool.h>
#include <stdint.h>

#include "trace_format.h"

/* One socket: an entry of the table, or of the history ring. */
struct st_sock {
    int32_t  fd;
    uint64_t serial;        /* history: position in the ring; table: 0 */
    uint64_t sock_id;       /* same for all dup aliases of one socket */
    uint64_t opened_ns;     /* CLOCK_REALTIME once decoded by a reader;
                               monotonic inside the preload */
    uint64_t closed_ns;     /* 0 while open */
    uint64_t t_lo, t_hi;    /* monotonic window of the last change */
    uint64_t bytes_sent;    /* TCP_INFO at close, when ST_SF_TCPINFO */
    uint64_t bytes_received;
    uint32_t rtt_us;
    uint32_t retrans;
    uint32_t flags;         /* ST_SF_* */
    uint32_t peers_seen;
    uint16_t family, type, protocol;
    uint8_t  state;         /* enum st_state */
    uint8_t  origin;        /* enum st_origin */
    uint8_t  outcome;       /* enum st_conn */
    uint8_t  was;           /* closed: the state before the close */
    uint16_t connect_err;   /* errno values, 0: none */
    uint16_t end_err;
    uint64_t connect_ns;    /* as opened_ns; 0: no connect */
    struct st_addr local;
    struct st_addr peer;
};

/* One intercepted call. */
struct st_event {
    uint16_t call;          /* enum st_call */
    uint64_t serial;        /* position in the ring */
    uint64_t ns;            /* CLOCK_REALTIME once decoded by a reader */
    uint64_t sock_id;
    int64_t  ret;
    int32_t  err;
    int32_t  tid;
    int32_t  fd;
    int32_t  fd2;
    bool     addr_cut;      /* an address was longer than the record holds */
    struct st_addr local;
    struct st_addr peer;
};

/* One name lookup result. */
struct st_name {
    uint16_t family;
    uint64_t serial;
    uint64_t ns;
    uint8_t  addr[16];
    char     host[ST_HOST_MAX];
};

/* The socket is closed: its state before is kept in `was`. */
static inline void st_set_closed(struct st_sock *s)
{
    if (s->state != ST_STATE_CLOSED)
        s->was = s->state;
    s->state = ST_STATE_CLOSED;
}

/* Copies between file memory and private memory in 8-byte atomic words:
 * records are read while other threads may recycle them, and the copy is
 * then thrown away by the slot-word check. Loads are acquire, so that
 * check cannot move before them (no fence needed, which ThreadSanitizer
 * does not model); stores are relaxed: a compare-and-swap with release
 * publishes them. n is a multiple of 8. */
void st_load_words(void *dst, const void *src, uint32_t n);
void st_store_words(void *dst, const void *src, uint32_t n);

/* Table records. The size st_rec_encode needs: ST_REC_SMALL when both
 * addresses fit the compact form. */
uint16_t st_rec_size(const struct st_sock *s);
void st_rec_encode(void *rec, uint16_t size, const struct st_sock *s);
/* rec is a private copy of a whole record (size from its head). */
void st_rec_decode(const void *rec, struct st_sock *s);

/* A record's head alone, for a change of head fields only: decoding sets
 * every field of s before local (those after it are left as they are),
 * encoding writes the whole head, with size. */
void st_rec_head_decode(const struct st_rec_head *h, struct st_sock *s);
void st_rec_head_encode(struct st_rec_head *h, const struct st_sock *s, uint16_t size);

void st_hist_encode(struct st_histrec *r, const struct st_sock *s);
void st_hist_decode(const struct st_histrec *r, struct st_sock *s);

void st_caddr_from(struct st_caddr *c, const struct st_addr *a);
void st_caddr_to(struct st_addr *a, const struct st_caddr *c);

#endif
