/* test_snapshot.c - the reader against hand-made files: a good one laid
 * out as trace_format.h documents, and the bad ones it must refuse. */
#include <stdlib.h>

#include "snapshot.h"
#include "tap.h"

#define LEAF   (ST_PAGE + ST_DIR_ENTRIES * 8u)
#define RECS   (LEAF + ST_LEAF_SLOTS * 8u)
#define HIST   (RECS + 16u * ST_REC_LARGE)
#define EVS    (HIST + 4u * sizeof(struct st_histrec))
#define SIZE   (EVS + 4u * sizeof(struct st_evrec) + ST_PAGE)

static void ring(struct st_ring *r, uint32_t rec_size, uint64_t off)
{
    r->rec_size = rec_size;
    r->cap0 = 4;
    r->nsegs = 1;
    r->cap = 4;
    r->seg_off[0] = off;
}

/* Publishes s at fd with the given marks, in the n-th record place. */
static void put(unsigned char *f, int fd, unsigned n, struct st_sock *s,
                uint64_t marks)
{
    uint64_t off = RECS + (uint64_t)n * ST_REC_LARGE;
    s->fd = fd;
    st_rec_encode(f + off, st_rec_size(s), s);
    uint64_t *slots = (void *)(f + LEAF);
    slots[ST_LEAF_POS((unsigned)fd)] = (1ull << ST_W_GEN_SHIFT) | (off / ST_GRANULE) | marks;
}

static size_t build(unsigned char **out)
{
    unsigned char *f = calloc(1, SIZE);
    struct st_header *h = (void *)f;
    memcpy(h->magic, ST_MAGIC, 8);
    h->version = ST_VERSION;
    h->header_size = sizeof *h;
    h->endian = ST_ENDIAN_MARK;
    h->pid = 42;
    h->rec_small = ST_REC_SMALL;
    h->rec_large = ST_REC_LARGE;
    h->dir_off = ST_PAGE;
    h->dir_entries = ST_DIR_ENTRIES;
    h->leaf_slots = ST_LEAF_SLOTS;
    h->clock_real_ns = 1000000000000;
    h->clock_mono_ns = 1000;
    ((uint64_t *)(f + ST_PAGE))[0] = LEAF;
    ring(&h->history, sizeof(struct st_histrec), HIST);
    ring(&h->events, sizeof(struct st_evrec), EVS);
    ring(&h->names, sizeof(struct st_namerec), 0);
    memcpy(h->cmdline, "prog\0arg\0", 9);
    h->cmdline_len = 9;

    struct st_sock s;
    memset(&s, 0, sizeof s);
    s.sock_id = 1;
    s.family = 2;
    s.state = ST_STATE_CONNECTED;
    s.opened_ns = 2000;
    put(f, 3, 0, &s, 0);
    s.sock_id = 2;
    s.state = ST_STATE_LISTENING;
    put(f, 7, 1, &s, 0);
    s.sock_id = 3;
    s.state = ST_STATE_CLOSED;
    put(f, 9, 2, &s, ST_W_TOMB);            /* closed: not shown */
    uint64_t *slots = (void *)(f + LEAF);
    slots[ST_LEAF_POS(11u)] = ST_W_UNKNOWN | (1ull << ST_W_GEN_SHIFT);
    s.sock_id = 4;                          /* two aliases of one socket */
    s.state = ST_STATE_CREATED;
    s.t_hi = 10;
    put(f, 12, 3, &s, 0);
    s.state = ST_STATE_CONNECTED;
    s.peer.kind = ST_ADDR_INET;
    s.peer.port = 80;
    s.peer.len = 4;
    s.t_hi = 20;
    put(f, 13, 4, &s, 0);
    /* a slot naming a record that is not one (a broken file) */
    slots[ST_LEAF_POS(5u)] = (1ull << ST_W_GEN_SHIFT) | ((RECS + 5u * ST_REC_LARGE) / ST_GRANULE);

    struct st_histrec *r = (void *)(f + HIST);
    for (uint64_t i = 0; i < 6; i++) {      /* 6 written into 4: 2 overwritten */
        memset(&s, 0, sizeof s);
        s.fd = (int)(100 + i);
        s.state = ST_STATE_CLOSED;
        st_hist_encode(&r[i % 4], &s);
        r[i % 4].word = (i + 1) << 2 | ST_RING_COMMITTED;
    }
    h->history.head.v = 6;
    struct st_evrec *e = (void *)(f + EVS);
    e[0].word = 1 << 2 | ST_RING_COMMITTED;
    e[0].call = ST_CALL_SOCKET;
    e[0].fd = 3;
    e[0].ns = 5000;
    e[1].word = 2 << 2 | ST_RING_CLAIMED;   /* its writer was killed */
    e[1].call = ST_CALL_CLOSE;
    h->events.head.v = 2;
    *out = f;
    return SIZE;
}

int main(void)
{
    unsigned char *f;
    size_t size = build(&f);
    struct snapshot s;
    char err[256];
    int r = snap_load_mem(f, size, SNAP_TABLE | SNAP_HISTORY | SNAP_EVENTS, &s, err, sizeof err);
    OK(r == 0, "a well-formed file loads: %s", r ? err : "");
    OK(s.n_open == 5 && s.open[0].fd == 3 && s.open[1].fd == 7 && s.open[2].fd == 11 &&
           s.open[3].fd == 12 && s.open[4].fd == 13,
       "open sockets by fd; the tombstone and the broken record left out");
    OK(s.n_open == 5 && s.open[2].state == ST_STATE_UNKNOWN && s.unknown == 1,
       "a slot marked unknown is shown as unknown");
    OK(s.n_open == 5 && s.open[3].state == ST_STATE_CONNECTED && s.open[3].peer.port == 80,
       "dup aliases share the newest endpoints");
    OK(s.torn == 2, "the broken record and the half-written event are counted (%llu)",
       (unsigned long long)s.torn);
    OK(s.n_open && s.open[0].opened_ns == 1000000001000, "times read as CLOCK_REALTIME");
    OK(s.n_closed == 4 && s.closed[0].fd == 102 && s.closed[3].fd == 105, "history oldest first");
    OK(s.closed_lost == 2, "overwritten history counted");
    OK(s.n_events == 1 && s.events[0].call == ST_CALL_SOCKET, "the committed event only");
    snap_free(&s);

    struct st_header *h = (void *)f;
    r = snap_load_mem(f, 100, SNAP_TABLE, &s, err, sizeof err);
    OK(r != 0 && strstr(err, "truncated"), "truncated file refused: %s", err);
    h->version = 99;
    r = snap_load_mem(f, size, SNAP_TABLE, &s, err, sizeof err);
    OK(r != 0 && strstr(err, "version 99"), "future version refused by number: %s", err);
    h->version = ST_VERSION;
    h->magic[0] = 'X';
    r = snap_load_mem(f, size, SNAP_TABLE, &s, err, sizeof err);
    OK(r != 0 && strstr(err, "not a socktrace"), "wrong magic refused: %s", err);
    h->magic[0] = 'S';
    h->events.cap0 = 3;
    r = snap_load_mem(f, size, SNAP_EVENTS, &s, err, sizeof err);
    OK(r != 0 && strstr(err, "corrupt"), "a ring of an impossible shape refused: %s", err);
    h->events.cap0 = 4;
    h->events.seg_off[0] = size;
    r = snap_load_mem(f, size, SNAP_EVENTS, &s, err, sizeof err);
    OK(r == 0 && s.n_events == 0, "a ring segment outside the file is not read");
    snap_free(&s);
    h->events.seg_off[0] = EVS;
    h->dir_off = size;
    r = snap_load_mem(f, size, SNAP_TABLE, &s, err, sizeof err);
    OK(r != 0, "table outside the file refused: %s", err);
    h->dir_off = ST_PAGE;
    ((uint64_t *)(f + ST_PAGE))[1] = size - 8;
    r = snap_load_mem(f, size, SNAP_TABLE, &s, err, sizeof err);
    OK(r == 0 && s.n_open == 5, "a leaf outside the file is skipped");
    snap_free(&s);
    ((uint64_t *)(f + ST_PAGE))[1] = 0;
    h->endian = 0x04030201;
    r = snap_load_mem(f, size, SNAP_TABLE, &s, err, sizeof err);
    OK(r != 0 && strstr(err, "byte order"), "other byte order refused: %s", err);
    h->endian = ST_ENDIAN_MARK;
    h->file_end.v = size + 1;
    r = snap_load_mem(f, size, SNAP_TABLE, &s, err, sizeof err);
    OK(r != 0 && strstr(err, "truncated"), "a file shorter than its header says refused: %s", err);
    h->file_end.v = size;
    h->history.head.v = ~0ull;
    r = snap_load_mem(f, size, SNAP_HISTORY, &s, err, sizeof err);
    OK(r == 0 && s.n_closed == 0, "a wild head reads nothing, no crash");
    snap_free(&s);
    free(f);
    return DONE();
}
