/* test_snapshot.c - the reader against files made byte by byte: every field
 * put at the offset trace_format.h documents, written out here by hand (no
 * struct, no codec of ours), then the bad files it must refuse. */
#include <stdlib.h>

#include "snapshot.h"
#include "trace_read.h"
#include "tap.h"

/* the layout, by hand */
#define PAGE        4096u
#define DIR_OFF     PAGE                    /* 1024 leaf offsets */
#define LEAF        (DIR_OFF + 1024u * 8u)  /* 1024 slot words */
#define RECS        (LEAF + 1024u * 8u)     /* records, 304 bytes apart */
#define REC_SMALL   144u
#define REC_LARGE   304u
#define HIST        (RECS + 16u * REC_LARGE)
#define HISTREC     344u
#define EVS         (HIST + 4u * HISTREC)
#define EVREC       128u
#define SIZE        (EVS + 4u * EVREC + PAGE)

/* header offsets */
#define H_VERSION   8u
#define H_MIN_READER 2288u  /* after exec_path (2192, 96 bytes) */
#define H_ENDIAN    16u
#define H_DIR_OFF   96u
#define H_FILE_END  2368u
#define H_EVENTS    2688u
#define H_HISTORY   2944u
#define H_NAMES     3200u
/* in a ring descriptor */
#define R_CAP0      72u
#define R_SEG0      80u

/* word marks */
#define GEN1        (1ull << 32)
#define W_UNKNOWN   (1ull << 61)
#define W_TOMB      (1ull << 63)
#define COMMITTED   2u
#define CLAIMED     1u

#define REAL_MINUS_MONO 999999999000ull     /* clock_real - clock_mono */

static void p8(unsigned char *f, size_t off, uint8_t v) { f[off] = v; }
static void p16(unsigned char *f, size_t off, uint16_t v) { memcpy(f + off, &v, 2); }
static void p32(unsigned char *f, size_t off, uint32_t v) { memcpy(f + off, &v, 4); }
static void p64(unsigned char *f, size_t off, uint64_t v) { memcpy(f + off, &v, 8); }

/* slot position of fd i (< 1024) in its leaf: fd i % 8 picks the cache
 * line group, i / 8 the word in it */
static unsigned leaf_pos(unsigned i) { return ((i & 7u) << 7) | (i >> 3); }

static void ring(unsigned char *f, size_t r, uint32_t rec_size, uint64_t off)
{
    p32(f, r + 64, rec_size);
    p32(f, r + 68, 4);                      /* cap */
    p32(f, r + R_CAP0, 4);
    p32(f, r + 76, 1);                      /* nsegs */
    p64(f, r + R_SEG0, off);
}

/* A record head (64 bytes) at off. closed is not in it: a history
 * record has it after the head, a tombstone closed at t_hi. */
struct head {
    uint64_t sock_id, opened, closed, t_lo, t_hi;
    uint32_t flags;
    uint16_t peers;
    int32_t fd;
    uint8_t family, type;
    uint16_t protocol;
    uint8_t state, origin;
    uint16_t size;
    uint64_t connect_ns;
    uint16_t connect_err, end_err;
    uint8_t outcome, was;
};

static void put_head(unsigned char *f, size_t off, const struct head *h)
{
    p64(f, off + 0, h->sock_id);
    p64(f, off + 8, h->opened);
    p64(f, off + 16, h->t_lo);
    p64(f, off + 24, h->t_hi);
    p64(f, off + 32, h->connect_ns);
    p32(f, off + 40, h->flags);
    p32(f, off + 44, (uint32_t)h->fd);
    p16(f, off + 48, h->protocol);
    p16(f, off + 50, h->peers);
    p8(f, off + 52, h->family);
    p8(f, off + 53, h->type);
    p8(f, off + 54, h->state);
    p8(f, off + 55, h->origin);
    p16(f, off + 56, h->size);
    p16(f, off + 58, h->connect_err);
    p16(f, off + 60, h->end_err);
    p8(f, off + 62, h->outcome);
    p8(f, off + 63, h->was);
}

/* IPv4 addresses: compact (40 bytes: kind u8, len u8, family u16, port
 * u16, cut u16, scope u32, data[28]) and full (120 bytes: kind, family,
 * port, len u16 each, scope u32, data[108]) */
static void put_caddr4(unsigned char *f, size_t off, const uint8_t ip[4], uint16_t port)
{
    p8(f, off + 0, 1);
    p8(f, off + 1, 4);
    p16(f, off + 2, 2);
    p16(f, off + 4, port);
    memcpy(f + off + 12, ip, 4);
}

static void put_addr4(unsigned char *f, size_t off, const uint8_t ip[4], uint16_t port)
{
    p16(f, off + 0, 1);
    p16(f, off + 2, 2);
    p16(f, off + 4, port);
    p16(f, off + 6, 4);
    memcpy(f + off + 12, ip, 4);
}

static const uint8_t LO[4] = {127, 0, 0, 1}, PEER_IP[4] = {10, 1, 2, 3};

/* A small record for fd at record place n, published in its slot. */
static uint64_t put_small(unsigned char *f, unsigned n, struct head *h, uint16_t lport,
                          uint16_t pport, uint64_t marks)
{
    size_t off = RECS + (size_t)n * REC_LARGE;
    h->size = REC_SMALL;
    put_head(f, off, h);
    put_caddr4(f, off + 64, LO, lport);
    if (pport)
        put_caddr4(f, off + 104, PEER_IP, pport);
    p64(f, LEAF + 8u * leaf_pos((unsigned)h->fd), GEN1 | (off / 16) | marks);
    return off;
}

static size_t build(unsigned char **out)
{
    unsigned char *f = calloc(1, SIZE);
    memcpy(f, "SOCKTRCF", 8);
    p32(f, H_VERSION, ST_VERSION);
    p32(f, H_MIN_READER, ST_VERSION_READ);
    p32(f, 12, PAGE);                       /* header_size */
    p32(f, H_ENDIAN, 0x01020304u);
    p32(f, 24, 42);                         /* pid */
    p64(f, 72, 1000000000000ull);           /* clock_real_ns */
    p64(f, 80, 1000);                       /* clock_mono_ns */
    p64(f, H_DIR_OFF, DIR_OFF);
    p32(f, 104, 1024);                      /* dir_entries */
    p32(f, 108, 1024);                      /* leaf_slots */
    p32(f, 112, REC_SMALL);
    p32(f, 116, REC_LARGE);
    p32(f, 120, 9);                         /* cmdline_len */
    memcpy(f + 128, "prog\0arg\0", 9);
    p64(f, DIR_OFF, LEAF);
    ring(f, H_EVENTS, EVREC, EVS);
    ring(f, H_HISTORY, HISTREC, HIST);
    ring(f, H_NAMES, 256, 0);

    /* fd 3: a connected TCP socket, every field its own value */
    struct head h = {.sock_id = 1, .opened = 2000, .t_lo = 2100, .t_hi = 2200,
                     .flags = 0x0001, .peers = 0, .fd = 3, .family = 2, .type = 1,
                     .protocol = 6, .state = ST_STATE_CONNECTED, .origin = ST_ORIGIN_ACCEPT,
                     .connect_ns = 2050, .connect_err = 0, .end_err = 104,
                     .outcome = ST_CONN_OK};
    put_small(f, 0, &h, 8080, 51000, 0);
    /* fd 7: a listener, as a large record (full addresses) */
    /* (16-bit fields above 255: IPPROTO_MPTCP, a peer count; no reader
     * asks whether a listener has peers) */
    struct head l = {.sock_id = 2, .opened = 3000, .fd = 7, .family = 2, .type = 1,
                     .protocol = 262, .peers = 0x0102, .state = ST_STATE_LISTENING,
                     .origin = ST_ORIGIN_SOCKET, .size = REC_LARGE};
    size_t off = RECS + 1u * REC_LARGE;
    put_head(f, off, &l);
    put_addr4(f, off + 64, LO, 7070);
    p64(f, LEAF + 8u * leaf_pos(7), GEN1 | (off / 16));
    /* fd 9: a tombstone, not shown */
    struct head t = {.sock_id = 3, .fd = 9, .family = 2, .state = ST_STATE_CLOSED};
    put_small(f, 2, &t, 1, 0, W_TOMB);
    /* fd 11: unknown */
    p64(f, LEAF + 8u * leaf_pos(11), W_UNKNOWN | GEN1);
    /* fds 12 and 13: two aliases of one socket; 13 has the latest t_hi */
    struct head a = {.sock_id = 4, .fd = 12, .family = 2, .type = 2, .protocol = 17,
                     .state = ST_STATE_CREATED, .t_hi = 10};
    put_small(f, 3, &a, 0, 0, 0);
    a.fd = 13;
    a.state = ST_STATE_CONNECTED;
    a.t_hi = 20;
    put_small(f, 4, &a, 5353, 80, 0);
    /* fd 5: a slot naming a place that holds no record (a broken file) */
    p64(f, LEAF + 8u * leaf_pos(5), GEN1 | ((RECS + 5u * REC_LARGE) / 16));

    /* history: 6 closed sockets written into 4 places, 2 overwritten */
    for (uint64_t i = 0; i < 6; i++) {
        size_t r = HIST + (size_t)(i % 4) * HISTREC;
        struct head c = {.sock_id = 100 + i, .opened = 4000 + i, .closed = 5000 + i,
                         .fd = (int32_t)(100 + i), .family = 2, .type = 1, .protocol = 6,
                         .state = ST_STATE_CLOSED, .was = ST_STATE_CONNECTED};
        put_head(f, r + 8, &c);
        p64(f, r + 72, c.closed);           /* closed_ns */
        p64(f, r + 80, 1000 + i);           /* bytes_sent */
        p64(f, r + 88, 2000 + i);           /* bytes_received */
        p32(f, r + 96, 300 + (uint32_t)i);  /* rtt_us */
        p32(f, r + 100, 7);                 /* retrans */
        put_addr4(f, r + 104, LO, (uint16_t)(40000 + i));
        put_addr4(f, r + 224, PEER_IP, 443);
        p64(f, r, (i + 1) << 2 | COMMITTED);
    }
    p64(f, H_HISTORY, 6);                   /* head */

    /* events: one committed, one whose writer was killed mid-record */
    p64(f, EVS + 8, 5000);                  /* ns */
    p64(f, EVS + 16, 1);                    /* sock_id */
    p16(f, EVS + 24, ST_CALL_CONNECT);
    p32(f, EVS + 28, 4242);                 /* tid */
    p32(f, EVS + 32, 3);                    /* fd */
    p32(f, EVS + 36, (uint32_t)-1);         /* fd2 */
    p32(f, EVS + 40, (uint32_t)-1);         /* ret */
    p32(f, EVS + 44, 115);                  /* err: EINPROGRESS */
    put_caddr4(f, EVS + 48, LO, 8080);
    put_caddr4(f, EVS + 88, PEER_IP, 51000);
    p64(f, EVS, 1 << 2 | COMMITTED);
    p16(f, EVS + EVREC + 24, ST_CALL_CLOSE);
    p64(f, EVS + EVREC, 2 << 2 | CLAIMED);
    p64(f, H_EVENTS, 2);
    p64(f, H_FILE_END, SIZE);
    *out = f;
    return SIZE;
}

static bool is_ip(const struct st_addr *a, const uint8_t ip[4], uint16_t port)
{
    return a->kind == ST_ADDR_INET && a->family == 2 && a->len == 4 && a->port == port &&
           memcmp(a->data, ip, 4) == 0;
}

static void check_good(const unsigned char *f, size_t size)
{
    struct snapshot s;
    char err[256];
    int r = snap_load_mem(f, size, SNAP_TABLE | SNAP_HISTORY | SNAP_EVENTS, &s, err, sizeof err);
    OK(r == 0, "a well-formed file loads: %s", r ? err : "");
    if (r != 0)
        return;
    OK(s.h.pid == 42 && s.h.cmdline_len == 9 && memcmp(s.h.cmdline, "prog\0arg", 9) == 0,
       "header: pid and command line at their offsets");
    OK(s.n_open == 5 && s.open[0].fd == 3 && s.open[1].fd == 7 && s.open[2].fd == 11 &&
           s.open[3].fd == 12 && s.open[4].fd == 13,
       "open sockets by fd; the tombstone and the broken record left out");
    if (s.n_open != 5) {
        snap_free(&s);
        return;
    }
    const struct st_sock *c = &s.open[0];
    OK(c->sock_id == 1 && c->family == 2 && c->type == 1 && c->protocol == 6,
       "fd 3: sock_id, family, type, protocol (%llu %u %u %u)",
       (unsigned long long)c->sock_id, c->family, c->type, c->protocol);
    OK(c->state == ST_STATE_CONNECTED && c->origin == ST_ORIGIN_ACCEPT &&
           c->outcome == ST_CONN_OK && c->end_err == 104 && c->connect_err == 0,
       "fd 3: state, origin, outcome, errors (%u %u %u %u)", c->state, c->origin,
       c->outcome, c->end_err);
    OK(c->opened_ns == 2000 + REAL_MINUS_MONO && c->connect_ns == 2050 + REAL_MINUS_MONO,
       "fd 3: opened and connect times, as CLOCK_REALTIME");
    OK(c->t_lo == 2100 && c->t_hi == 2200 && (c->flags & ST_SF_PORT_CHOSEN),
       "fd 3: its window and flags");
    OK(is_ip(&c->local, LO, 8080) && is_ip(&c->peer, PEER_IP, 51000),
       "fd 3: compact local 127.0.0.1:8080 and peer 10.1.2.3:51000");
    OK(s.open[1].state == ST_STATE_LISTENING && is_ip(&s.open[1].local, LO, 7070) &&
           s.open[1].peer.kind == ST_ADDR_NONE,
       "fd 7: a large record, listening at 127.0.0.1:7070, no peer");
    OK(s.open[1].protocol == 262 && s.open[1].peers_seen == 0x0102,
       "fd 7: 16-bit protocol and peer count read whole (%u %u)", s.open[1].protocol,
       s.open[1].peers_seen);
    OK(s.open[2].state == ST_STATE_UNKNOWN && s.unknown == 1,
       "a slot marked unknown is shown as unknown");
    OK(s.open[3].state == ST_STATE_CONNECTED && is_ip(&s.open[3].peer, PEER_IP, 80) &&
           is_ip(&s.open[3].local, LO, 5353) && s.open[3].protocol == 17,
       "dup aliases share the newest endpoints");
    OK(s.torn == 2, "the broken record and the half-written event are counted (%llu)",
       (unsigned long long)s.torn);
    OK(s.n_closed == 4 && s.closed[0].fd == 102 && s.closed[3].fd == 105, "history oldest first");
    if (s.n_closed == 4) {
        const struct st_sock *h = &s.closed[0];
        OK(h->sock_id == 102 && h->opened_ns == 4002 + REAL_MINUS_MONO &&
               h->closed_ns == 5002 + REAL_MINUS_MONO && h->was == ST_STATE_CONNECTED,
           "history: sock_id, open and close times, the state before the close");
        OK(h->bytes_sent == 1002 && h->bytes_received == 2002 && h->rtt_us == 302 &&
               h->retrans == 7,
           "history: the TCP counters (%llu %llu %u %u)", (unsigned long long)h->bytes_sent,
           (unsigned long long)h->bytes_received, h->rtt_us, h->retrans);
        OK(is_ip(&h->local, LO, 40002) && is_ip(&h->peer, PEER_IP, 443),
           "history: local 127.0.0.1:40002, peer 10.1.2.3:443");
    }
    OK(s.closed_lost == 2, "overwritten history counted");
    OK(s.n_events == 1, "the committed event only");
    if (s.n_events == 1) {
        const struct st_event *e = &s.events[0];
        OK(e->call == ST_CALL_CONNECT && e->fd == 3 && e->fd2 == -1 && e->ret == -1 &&
               e->err == 115 && e->tid == 4242 && e->sock_id == 1,
           "event: call, fd, fd2, ret, errno, tid, sock_id (%u %d %d %lld %d %d)", e->call,
           e->fd, e->fd2, (long long)e->ret, e->err, e->tid);
        OK(e->ns == 5000 + REAL_MINUS_MONO && is_ip(&e->local, LO, 8080) &&
               is_ip(&e->peer, PEER_IP, 51000),
           "event: its time and both addresses");
    }
    snap_free(&s);
}

/* Ring descriptors a reader must refuse: a cap that is not cap0 doubled
 * nsegs - 1 times, computed in 64 bits (in 32, 2^20 << 12 wraps to 0). */
static void check_ring_bounds(void)
{
    struct st_ring r;
    memset(&r, 0, sizeof r);
    r.rec_size = sizeof(struct st_evrec);
    r.cap0 = 1u << 20;
    r.nsegs = 1;
    r.cap = r.cap0;
    OK(st_ring_valid(&r, sizeof(struct st_evrec)), "a ring of 2^20 records in one segment is valid");
    r.nsegs = 13;
    r.cap = 0;
    OK(!st_ring_valid(&r, sizeof(struct st_evrec)), "cap0 2^20, 13 segments, cap 0 is refused");
    r.cap0 = 3;
    r.nsegs = 1;
    r.cap = 3;
    OK(!st_ring_valid(&r, sizeof(struct st_evrec)), "a cap0 that is not a power of two is refused");
}

/* st_ring_place's mask and shift against the rule as trace_protocol.h
 * states it, with divisions: segment 0 holds [0, cap0), segment k
 * [cap0 << (k-1), cap0 << k), position p lives at p % cap. */
static void check_ring_place(void)
{
    unsigned long bad = 0, tried = 0;
    for (uint32_t cap0 = 1; cap0 <= (1u << 20); cap0 <<= 1) {
        for (uint32_t nsegs = 1; nsegs <= ST_RING_SEGS && ((uint64_t)cap0 << (nsegs - 1)) <= (1u << 24);
             nsegs++) {
            struct st_ring r;
            memset(&r, 0, sizeof r);
            r.cap0 = cap0;
            r.nsegs = nsegs;
            r.cap = cap0 << (nsegs - 1);
            for (uint64_t i = 0; i < 4096; i++) {
                /* positions across the first two laps, and far on */
                uint64_t pos = i < 2048 ? i * (2ull * r.cap / 2048 + 1) : (i << 40) + i * 7919;
                uint64_t q = pos % r.cap, want_idx = q, want_len = cap0;
                uint32_t want_seg = 0;
                while (want_idx >= want_len && want_seg + 1 < 64) {
                    /* segment k > 0 starts at cap0 << (k-1), is as long */
                    want_seg++;
                    uint64_t start = (uint64_t)cap0 << (want_seg - 1);
                    want_len = start;
                    want_idx = q - start;
                    if (q < start << 1)
                        break;
                }
                uint32_t seg;
                uint64_t idx, len;
                st_ring_place(&r, pos, &seg, &idx, &len);
                tried++;
                bad += seg != want_seg || idx != want_idx || len != want_len || seg >= nsegs ||
                       idx >= len;
            }
        }
    }
    OK(bad == 0, "st_ring_place agrees with the segment rule (%lu of %lu positions differ)", bad, tried);
}

/* Step 1 of the slot reader, against the word's bits as trace_format.h
 * gives them: UNKNOWN wins over TOMB (a writer never sets both, but a
 * corrupt file may). */
static void check_slot_kind(void)
{
    uint64_t rec = 7u | 3ull << ST_W_GEN_SHIFT;
    OK(st_slot_kind(0) == ST_SLOT_EMPTY, "slot word 0: never a socket");
    OK(st_slot_kind(rec) == ST_SLOT_LIVE, "a granule and a generation: a live record");
    OK(st_slot_kind(rec | ST_W_CLOSING | ST_W_HINT_SEND) == ST_SLOT_LIVE,
       "marks and hints leave it live");
    OK(st_slot_kind(rec | ST_W_TOMB) == ST_SLOT_TOMB, "ST_W_TOMB: the socket closed there");
    OK(st_slot_kind(ST_W_UNKNOWN) == ST_SLOT_UNKNOWN, "ST_W_UNKNOWN: a change not recorded");
    OK(st_slot_kind(ST_W_UNKNOWN | ST_W_TOMB | rec) == ST_SLOT_UNKNOWN,
       "ST_W_UNKNOWN with ST_W_TOMB: unknown");
}

int main(void)
{
    unsigned char *f;
    size_t size = build(&f);
    check_good(f, size);
    check_ring_bounds();
    check_ring_place();
    check_slot_kind();

    struct snapshot s;
    char err[256];
    int r = snap_load_mem(f, 100, SNAP_TABLE, &s, err, sizeof err);
    OK(r != 0 && strstr(err, "truncated"), "truncated file refused: %s", err);
    p32(f, H_VERSION, 99);
    r = snap_load_mem(f, size, SNAP_TABLE, &s, err, sizeof err);
    OK(r == 0 && s.n_open > 0, "a later format that keeps this one readable (min_reader %u) is read", ST_VERSION_READ);
    if (r == 0)
        snap_free(&s);
    p32(f, H_MIN_READER, 99);
    r = snap_load_mem(f, size, SNAP_TABLE, &s, err, sizeof err);
    OK(r != 0 && strstr(err, "version 99"), "a format only newer readers read is refused by number: %s", err);
    p32(f, H_VERSION, 6);
    p32(f, H_MIN_READER, 6);
    r = snap_load_mem(f, size, SNAP_TABLE, &s, err, sizeof err);
    OK(r != 0 && strstr(err, "version 6"), "a format-6 file (80-byte record heads) is refused by number: %s", err);
    p32(f, H_MIN_READER, ST_VERSION_READ);
    memcpy(f, "SOCKTRC1", 8);
    p32(f, H_VERSION, 5);
    r = snap_load_mem(f, size, SNAP_TABLE, &s, err, sizeof err);
    OK(r != 0 && strstr(err, "version 5"), "a format-5 file (old magic) is refused by number: %s", err);
    memcpy(f, "SOCKTRCF", 8);
    p32(f, H_VERSION, ST_VERSION);
    f[0] = 'X';
    r = snap_load_mem(f, size, SNAP_TABLE, &s, err, sizeof err);
    OK(r != 0 && strstr(err, "not a socktrace"), "wrong magic refused: %s", err);
    f[0] = 'S';
    p32(f, H_EVENTS + R_CAP0, 3);
    r = snap_load_mem(f, size, SNAP_EVENTS, &s, err, sizeof err);
    OK(r != 0 && strstr(err, "corrupt"), "a ring of an impossible shape refused: %s", err);
    p32(f, H_EVENTS + R_CAP0, 4);
    p64(f, H_EVENTS + R_SEG0, size);
    r = snap_load_mem(f, size, SNAP_EVENTS, &s, err, sizeof err);
    OK(r == 0 && s.n_events == 0, "a ring segment outside the file is not read");
    if (r == 0)
        snap_free(&s);
    p64(f, H_EVENTS + R_SEG0, EVS);
    p64(f, H_DIR_OFF, size);
    r = snap_load_mem(f, size, SNAP_TABLE, &s, err, sizeof err);
    OK(r != 0, "table outside the file refused: %s", err);
    p64(f, H_DIR_OFF, DIR_OFF);
    p64(f, DIR_OFF + 8, size - 8);
    r = snap_load_mem(f, size, SNAP_TABLE, &s, err, sizeof err);
    OK(r == 0 && s.n_open == 5, "a leaf outside the file is skipped");
    if (r == 0)
        snap_free(&s);
    p64(f, DIR_OFF + 8, 0);
    p32(f, H_ENDIAN, 0x04030201);
    r = snap_load_mem(f, size, SNAP_TABLE, &s, err, sizeof err);
    OK(r != 0 && strstr(err, "byte order"), "other byte order refused: %s", err);
    p32(f, H_ENDIAN, 0x01020304u);
    p64(f, H_FILE_END, size + 1);
    r = snap_load_mem(f, size, SNAP_TABLE, &s, err, sizeof err);
    OK(r != 0 && strstr(err, "truncated"), "a file shorter than its header says refused: %s", err);
    p64(f, H_FILE_END, size);
    p64(f, H_HISTORY, ~0ull);
    r = snap_load_mem(f, size, SNAP_HISTORY, &s, err, sizeof err);
    OK(r == 0 && s.n_closed == 0, "a wild head reads nothing, no crash");
    if (r == 0)
        snap_free(&s);
    p64(f, H_HISTORY, 6);

    /* the one reader's bounds (preload/trace_read.c) */
    uint64_t slot5 = LEAF + 8u * leaf_pos(5), was5;
    memcpy(&was5, f + slot5, 8);
    p64(f, slot5, GEN1 | (size / 16));      /* a record beyond the file */
    r = snap_load_mem(f, size, SNAP_TABLE, &s, err, sizeof err);
    OK(r == 0 && s.n_open == 5 && s.torn == 1, "a slot naming a record beyond the file: torn (%llu)",
       r == 0 ? (unsigned long long)s.torn : 0ull);
    if (r == 0)
        snap_free(&s);
    p64(f, slot5, GEN1 | ((size - 16) / 16));   /* its head would cross the end */
    r = snap_load_mem(f, size, SNAP_TABLE, &s, err, sizeof err);
    OK(r == 0 && s.n_open == 5 && s.torn == 1, "a record whose head crosses the file's end: torn");
    if (r == 0)
        snap_free(&s);
    p64(f, slot5, was5);
    /* a later format's longer event records: the known start of each is read */
    unsigned char claimed[EVREC];
    memcpy(claimed, f + EVS + EVREC, EVREC);
    memset(f + EVS + EVREC, 0, EVREC);
    memcpy(f + EVS + 2 * EVREC, claimed, EVREC);
    p32(f, H_EVENTS + 64, 2 * EVREC);       /* rec_size */
    p32(f, H_VERSION, ST_VERSION + 1);
    r = snap_load_mem(f, size, SNAP_EVENTS, &s, err, sizeof err);
    OK(r == 0 && s.n_events == 1 && s.events[0].call == ST_CALL_CONNECT && s.events[0].fd == 3 &&
           s.events[0].err == 115 && s.torn == 1,
       "longer ring records (a later format, min_reader %u): each one's start read: %s",
       ST_VERSION_READ, r ? err : "");
    if (r == 0)
        snap_free(&s);
    free(f);
    return DONE();
}
