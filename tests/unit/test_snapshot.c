/* test_snapshot.c - the reader against hand-made files: a good one laid
 * out as trace_format.h documents, and the bad ones it must refuse. */
#include <stdlib.h>

#include "snapshot.h"
#include "tap.h"

#define CAP0 4u
#define HIST 4u
#define EVS 4u

static size_t build(unsigned char **out)
{
    size_t seg0 = ST_PAGE, hist = seg0 + ST_PAGE, ev = hist + ST_PAGE;
    size_t size = ev + 2 * ST_PAGE;
    unsigned char *f = calloc(1, size);
    struct st_header *h = (void *)f;
    memcpy(h->magic, ST_MAGIC, 8);
    h->version = ST_VERSION;
    h->header_size = sizeof *h;
    h->sock_size = sizeof(struct st_sock);
    h->event_size = sizeof(struct st_event);
    h->endian = ST_ENDIAN_MARK;
    h->pid = 42;
    h->table_segs = 1;
    h->table_cap0 = CAP0;
    h->table_seg_off[0] = seg0;
    h->history_off = hist;
    h->history_cap = HIST;
    h->events_off = ev;
    h->events_cap = EVS;
    h->names_off = ev + ST_PAGE;
    h->names_cap = 4;
    h->name_size = sizeof(struct st_name);
    memcpy(h->cmdline, "prog\0arg\0", 9);
    h->cmdline_len = 9;
    struct st_sock *t = (void *)(f + seg0);
    t[2].fd = 7;
    t[2].state = ST_STATE_LISTENING;
    t[0].fd = 3;
    t[0].state = ST_STATE_CONNECTED;
    t[1].fd = 5;
    t[1].state = ST_STATE_CONNECTED;
    t[1].seq = 1;   /* written when the writer was killed: skipped */
    h->open_count = 3;
    struct st_sock *r = (void *)(f + hist);
    for (uint64_t i = 0; i < 6; i++) {   /* 6 written into 4: 2 overwritten */
        r[i % HIST].serial = i;
        r[i % HIST].fd = (int)(100 + i);
        r[i % HIST].state = ST_STATE_CLOSED;
    }
    h->history_head = 6;
    *out = f;
    return size;
}

int main(void)
{
    unsigned char *f;
    size_t size = build(&f);
    struct snapshot s;
    char err[256];
    int r = snap_load_mem(f, size, SNAP_TABLE | SNAP_HISTORY | SNAP_EVENTS, &s, err, sizeof err);
    OK(r == 0, "a well-formed file loads");
    OK(s.n_open == 2 && s.open[0].fd == 3 && s.open[1].fd == 7, "open sockets by fd, half-written one skipped");
    OK(s.torn == 1, "the half-written record is counted");
    OK(s.n_closed == 4 && s.closed[0].fd == 102 && s.closed[3].fd == 105, "history oldest first");
    OK(s.closed_lost == 2, "overwritten history counted");
    OK(s.n_events == 0, "no events");
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
    h->events_cap = 1u << 30;
    r = snap_load_mem(f, size, SNAP_EVENTS, &s, err, sizeof err);
    OK(r != 0 && strstr(err, "corrupt"), "ring larger than the file refused: %s", err);
    h->events_cap = EVS;
    h->table_seg_off[0] = size;
    r = snap_load_mem(f, size, SNAP_TABLE, &s, err, sizeof err);
    OK(r != 0, "table outside the file refused: %s", err);
    h->table_seg_off[0] = ST_PAGE;
    h->endian = 0x04030201;
    r = snap_load_mem(f, size, SNAP_TABLE, &s, err, sizeof err);
    OK(r != 0 && strstr(err, "byte order"), "other byte order refused: %s", err);
    h->endian = ST_ENDIAN_MARK;
    h->history_head = ~0ull;
    r = snap_load_mem(f, size, SNAP_HISTORY, &s, err, sizeof err);
    OK(r == 0 && s.n_closed == 0, "a wild head reads nothing, no crash");
    snap_free(&s);
    free(f);
    return DONE();
}
