/* file_space.c - hands out the trace file's space: fresh blocks, the
 * fd table's leaves and slots, socket records (free lists and per-thread
 * caches) and socket id blocks. Lock-free; growth itself is tracefile.c's. */
#define _GNU_SOURCE
#include "file_space.h"

#include <stdbool.h>
#include <stdint.h>

#include "filemap.h"
#include "tracefile.h"

/* Why this thread's last request for space failed (enum st_drop_why). */
static __thread unsigned space_why __attribute__((tls_model("initial-exec")));

unsigned st_space_why(void)
{
    return space_why;
}

void st_drop(unsigned why)
{
    struct st_header *h = st_hdr();
    if (!h)
        return;
    if (why >= ST_DROP_WHY_COUNT_)
        why = ST_DROP_FILE;
    __atomic_add_fetch(&h->dropped.why[why], 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&h->dropped.v, 1, __ATOMIC_RELAXED);
}

/* Each thread keeps two free records of each size: see cache_take. */
static __thread uint64_t rcache[2] __attribute__((tls_model("initial-exec")));

void st_space_forget(void)
{
    rcache[0] = rcache[1] = 0;
}

/* n bytes (a multiple of 16) of fresh, zeroed file space, or 0 (the
 * reason in space_why). The block lies within one mapped part: one that
 * would cross into the next part starts there, and the bytes skipped stay
 * unused (at most n; the parts double, so it is rare). */
static uint64_t space(uint64_t n)
{
    struct st_header *h = st_hdr();
    if (!h)
        return 0;
    uint64_t at = __atomic_load_n(&h->alloc_end.v, __ATOMIC_RELAXED);
    for (;;) {
        uint64_t from = at;
        unsigned k = st_part_of(from);
        while (k < ST_MAP_PARTS && from + n > st_part_start(k) + st_part_len(k))
            from = st_part_start(++k);
        if (k >= ST_MAP_PARTS) {
            space_why = ST_DROP_FILE;
            return 0;
        }
        if (!st_trace_grow(h, from + n, &space_why))
            return 0;
        if (__atomic_compare_exchange_n(&h->alloc_end.v, &at, from + n, false,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED))
            return from;
    }
}

/* Installs a zeroed block of n bytes at *where (an offset word, 0 while
 * absent), unless another thread did first. Returns the offset, or 0. */
uint64_t st_install(uint64_t *where, uint64_t n)
{
    uint64_t off = __atomic_load_n(where, __ATOMIC_ACQUIRE);
    if (off)
        return off;
    uint64_t mine = space(n);
    if (!mine)
        return 0;
    /* the loser's block stays unused: a race on a first use, rare */
    if (__atomic_compare_exchange_n(where, &off, mine, false, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE))
        return mine;
    return off;
}

uint64_t *st_slot(int fd, bool create)
{
    struct st_header *h = st_hdr();
    if (!h || fd < 0)
        return NULL;
    if ((uint32_t)fd >= ST_DIR_ENTRIES * ST_LEAF_SLOTS) {
        space_why = ST_DROP_FD;
        return NULL;
    }
    uint64_t *dirp = st_at_in(h, h->dir_off);     /* in part 0 */
    uint64_t *entry = &dirp[(uint32_t)fd / ST_LEAF_SLOTS];
    uint64_t leaf = __atomic_load_n(entry, __ATOMIC_ACQUIRE);
    if (!leaf) {
        if (!create)
            return NULL;
        leaf = st_install(entry, ST_LEAF_SLOTS * 8u);
        if (!leaf)
            return NULL;
    }
    uint64_t *slots = st_at_in(h, leaf);
    if (!slots) {
        space_why = ST_DROP_ADDR;
        return NULL;
    }
    return slots + ST_LEAF_POS((uint32_t)fd % ST_LEAF_SLOTS);
}

void st_slot_each(int lo, int hi, void (*fn)(int fd, uint64_t *slot, void *arg),
                  void *arg)
{
    struct st_header *h = st_hdr();
    if (!h || hi < 0)
        return;
    if (lo < 0)
        lo = 0;
    uint64_t *dirp = st_at_in(h, h->dir_off);
    for (uint32_t d = (uint32_t)lo / ST_LEAF_SLOTS;
         d < ST_DIR_ENTRIES && d <= (uint32_t)hi / ST_LEAF_SLOTS; d++) {
        uint64_t leaf = __atomic_load_n(&dirp[d], __ATOMIC_ACQUIRE);
        uint64_t *slots = leaf ? st_at_in(h, leaf) : NULL;
        if (!slots)
            continue;
        for (uint32_t i = 0; i < ST_LEAF_SLOTS; i++) {
            int fd = (int)(d * ST_LEAF_SLOTS + i);
            uint64_t *slot = &slots[ST_LEAF_POS(i)];
            if (fd >= lo && fd <= hi && __atomic_load_n(slot, __ATOMIC_RELAXED))
                fn(fd, slot, arg);
        }
    }
}

/* Free records: a stack per size, head = tag << 32 | granule; the tag
 * changes on every pop so a record popped and pushed back in between
 * makes a stale compare-and-swap fail. The next granule is kept in the
 * free record's first word. */
static uint64_t *free_head(struct st_header *h, uint16_t size)
{
    return size == ST_REC_SMALL ? &h->free_small.v : &h->free_large.v;
}

/* Each thread keeps two free records of each size (two granules in one
 * word): a change frees one record and takes one, so a thread that keeps
 * changing its sockets stays off the shared list. Taken and put back by
 * compare-and-swap on the thread's own word, so a signal handler that
 * interrupts either gets another record. A thread that ends leaves its
 * (at most four) records unused. */

static uint32_t cache_take(uint64_t *c)
{
    uint64_t v = __atomic_load_n(c, __ATOMIC_RELAXED);
    while (v) {
        uint64_t rest = (uint32_t)v ? v & ~ST_W_GRAN_MASK : 0;
        uint32_t g = (uint32_t)v ? (uint32_t)v : (uint32_t)(v >> 32);
        if (__atomic_compare_exchange_n(c, &v, rest, false, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED))
            return g;
    }
    return 0;
}

static bool cache_put(uint64_t *c, uint32_t g)
{
    uint64_t v = __atomic_load_n(c, __ATOMIC_RELAXED);
    for (;;) {
        uint64_t want;
        if (!(uint32_t)v)
            want = v | g;
        else if (!(v >> 32))
            want = v | (uint64_t)g << 32;
        else
            return false;
        if (__atomic_compare_exchange_n(c, &v, want, false, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED))
            return true;
    }
}

uint32_t st_rec_alloc(uint16_t size)
{
    struct st_header *h = st_hdr();
    if (!h)
        return 0;
    uint32_t g = cache_take(&rcache[size == ST_REC_LARGE]);
    if (g)
        return g;
    uint64_t *head = free_head(h, size);
    uint64_t top = __atomic_load_n(head, __ATOMIC_ACQUIRE);
    while ((uint32_t)top) {
        uint64_t *rec = st_at_in(h, (uint64_t)(uint32_t)top * ST_GRANULE);
        if (!rec)
            break;      /* not mapped here (filemap.h): take fresh space */
        uint64_t next = __atomic_load_n(rec, __ATOMIC_RELAXED) & ST_W_GRAN_MASK;
        uint64_t want = ((top >> 32) + 1) << 32 | next;
        if (__atomic_compare_exchange_n(head, &top, want, false, __ATOMIC_ACQUIRE,
                                        __ATOMIC_ACQUIRE))
            return (uint32_t)top;
    }
    uint64_t off = space(size);
    if (!off)
        return 0;
    return (uint32_t)(off / ST_GRANULE);
}

void st_rec_free(uint32_t gran, uint16_t size)
{
    struct st_header *h = st_hdr();
    if (!h || !gran || cache_put(&rcache[size == ST_REC_LARGE], gran))
        return;
    uint64_t *head = free_head(h, size);
    uint64_t *rec = st_at_in(h, (uint64_t)gran * ST_GRANULE);
    if (!rec)
        return;         /* not mapped here: left unused */
    uint64_t top = __atomic_load_n(head, __ATOMIC_RELAXED);
    do {
        __atomic_store_n(rec, top & ST_W_GRAN_MASK, __ATOMIC_RELAXED);
    } while (!__atomic_compare_exchange_n(head, &top,
                                          (top & ~ST_W_GRAN_MASK) | gran, false,
                                          __ATOMIC_RELEASE, __ATOMIC_RELAXED));
}

uint64_t st_id_block(uint64_t n)
{
    struct st_header *h = st_hdr();
    return h ? __atomic_fetch_add(&h->next_id_block.v, n, __ATOMIC_RELAXED) : 0;
}
