/* slot.c - the slot protocol (trace_protocol.h): read a record through its
 * slot word, publish the next version with one compare-and-swap. Everything
 * else in the write path changes the table through these. */
#define _GNU_SOURCE
#include "tracer.h"

#include <netinet/in.h>
#include <string.h>

#include "tracefile.h"
#include "file_space.h"
#include "write_path.h"

/* The file, made on the first call that needs it. */
static void (*untraced)(const char *why);

void st_on_untraced(void (*fn)(const char *why))
{
    untraced = fn;
}

struct st_header *st_file(void)
{
    struct st_header *h = st_hdr();
    if (h)
        return h;
    const char *why = NULL;
    h = st_trace_create(&why);
    if (!h) {
        __atomic_store_n(&st_on, 0, __ATOMIC_RELAXED);
        if (untraced)
            untraced(why);
    }
    return h;
}

/* fd's slot, making the file and the leaf when needed; NULL (counted as
 * dropped, with its reason, when the file is there) */
uint64_t *st_slot_for(int fd)
{
    if (!st_file())
        return NULL;
    uint64_t *slot = st_slot(fd, true);
    if (!slot && fd >= 0)
        st_drop(st_space_why());
    return slot;
}

/* Copies the record slot word w names (reader protocol). ST_K_NONE for an
 * empty or unknown slot; cur is then empty with a zero window. */
int st_read_slot_in(struct st_header *h, const uint64_t *slot, uint64_t *w,
                        struct st_sock *cur)
{
    /* h NULL (no file mapped): no record is readable, ST_K_NONE. A
     * parent's file (a forked child's hints) may change for as long as
     * the parent runs: a bounded number of copies. */
    struct st_view v = st_view_of(h);
    switch (st_slot_copy(&v, slot, h == st_hdr() ? 0 : 64, w, cur)) {
    case ST_SLOT_LIVE:
        return ST_K_LIVE;
    case ST_SLOT_TOMB:
        return ST_K_TOMB;
    default:    /* empty, unknown, torn: not mapped here (filemap.h), or
                   a corrupt record */
        return ST_K_NONE;
    }
}

int st_read_slot(const uint64_t *slot, uint64_t *w, struct st_sock *cur)
{
    return st_read_slot_in(st_hdr(), slot, w, cur);
}

bool st_get_in(struct st_header *h, int fd, struct st_sock *s)
{
    if (!h || fd < 0 || (uint32_t)fd >= h->dir_entries * h->leaf_slots)
        return false;
    const uint64_t *dirp = st_at_in(h, h->dir_off);
    uint64_t leaf = __atomic_load_n(&dirp[(uint32_t)fd / h->leaf_slots], __ATOMIC_ACQUIRE);
    const uint64_t *slots = leaf ? st_at_in(h, leaf) : NULL;
    uint64_t w;
    return slots && st_read_slot_in(h, slots + ST_LEAF_POS((uint32_t)fd % h->leaf_slots),
                                 &w, s) == ST_K_LIVE;
}

/* inlined in st_get_rec, where the slot and word are not wanted: through
 * the out-of-line one, getsockname's hook cost 6 ns more */
static inline bool get_rec_at(int fd, uint64_t **slot, uint64_t *w, union st_rec_any *r)
{
    *slot = st_slot(fd, false);
    struct st_view v = st_view_of(st_hdr());
    return *slot && st_slot_copy_rec(&v, *slot, 0, w, r) == ST_SLOT_LIVE;
}

bool st_get_rec_at(int fd, uint64_t **slot, uint64_t *w, union st_rec_any *r)
{
    return get_rec_at(fd, slot, w, r);
}

bool st_get_rec(int fd, union st_rec_any *r)
{
    uint64_t *slot, w;
    return get_rec_at(fd, &slot, &w, r);
}

static uint64_t next_word(uint64_t old, uint32_t gran, uint64_t marks)
{
    uint64_t gen = ((old >> ST_W_GEN_SHIFT) + 1) & ST_W_GEN_MASK;
    return gen << ST_W_GEN_SHIFT | gran | marks;
}

static bool is_inet_dgram(const struct st_sock *s)
{
    return s->type == SOCK_DGRAM && (s->family == AF_INET || s->family == AF_INET6);
}

/* The slot word's hints for a socket in state s whose local port is
 * local_port. */
static uint64_t hints_of(const struct st_sock *s, uint16_t local_port)
{
    uint64_t w = 0;
    if (s->state == ST_STATE_CONNECTING ||
        (is_inet_dgram(s) && (!(s->flags & ST_SF_LOCAL_DONE) || local_port == 0)))
        w |= ST_W_HINT_SEND;
    if (is_inet_dgram(s) && s->state != ST_STATE_CONNECTED)
        w |= ST_W_HINT_PEERS;
    return w;
}

unsigned st_watch(int fd)
{
    if (fd < 0)
        return 0;
    if ((uint32_t)fd >= ST_DIR_ENTRIES * ST_LEAF_SLOTS)
        return ST_W_SEND | ST_W_PEERS;
    uint64_t w = st_word(fd);
    if (!w || (w & (ST_W_TOMB | ST_W_UNKNOWN)))
        return 0;
    return ((w & ST_W_HINT_SEND) ? ST_W_SEND : 0) | ((w & ST_W_HINT_PEERS) ? ST_W_PEERS : 0);
}

/* Publishes the size bytes at buf, a record in its file form, in place of
 * the version old names, with the given marks. */
static bool publish(uint64_t *slot, uint64_t old, const void *buf, uint16_t size,
                    uint64_t marks, int fd)
{
    uint32_t gran = st_rec_alloc(size);
    char *rec = gran ? st_at((uint64_t)gran * ST_GRANULE) : NULL;
    if (!rec) {
        st_drop(gran ? ST_DROP_ADDR : st_space_why());
        return __atomic_compare_exchange_n(slot, &old, next_word(old, 0, ST_W_UNKNOWN),
                                           false, __ATOMIC_RELEASE, __ATOMIC_RELAXED);
    }
    /* the record may be one a reader is still copying from its old
     * place: our stores must not be seen before what freed it */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    st_store_words(rec, buf, size);
    st_test_stall(fd);
    if (!__atomic_compare_exchange_n(slot, &old,
                                     next_word(old, gran, marks),
                                     false, __ATOMIC_RELEASE, __ATOMIC_RELAXED)) {
        st_rec_free(gran, size);
        return false;
    }
    uint32_t old_gran = (uint32_t)(old & ST_W_GRAN_MASK);
    const struct st_rec_head *oh =
        old_gran && !(old & ST_W_UNKNOWN) ? st_at((uint64_t)old_gran * ST_GRANULE) : NULL;
    if (oh) {
        /* unlinked: ours alone now */
        uint16_t osize = __atomic_load_n(&oh->size, __ATOMIC_RELAXED);
        st_rec_free(old_gran, osize == ST_REC_LARGE ? ST_REC_LARGE : ST_REC_SMALL);
    }
    return true;
}

/* Publishes s in place of the version old names, with the given marks
 * (ST_W_TOMB for a closed socket; ST_W_CLOSING carried over a close in
 * flight). When the file cannot grow the slot is marked unknown and the
 * change is counted as dropped. False when the slot no longer holds old. */
bool st_publish(uint64_t *slot, uint64_t old, const struct st_sock *s,
                    uint64_t marks)
{
    uint16_t size = st_rec_size(s);
    union st_rec_any buf;
    st_rec_encode(&buf, size, s);
    if (!(marks & ST_W_TOMB))
        marks |= hints_of(s, s->local.port);
    return publish(slot, old, &buf, size, marks, s->fd);
}

bool st_publish_rec(uint64_t *slot, uint64_t old, const union st_rec_any *r,
                    const struct st_sock *head)
{
    uint16_t size = r->head.size == ST_REC_LARGE ? ST_REC_LARGE : ST_REC_SMALL;
    uint16_t port = size == ST_REC_LARGE ? r->large.local.port : r->small.local.port;
    return publish(slot, old, r, size, hints_of(head, port), head->fd);
}

uint64_t st_word(int fd)
{
    uint64_t *slot = st_slot(fd, false);
    return slot ? __atomic_load_n(slot, __ATOMIC_ACQUIRE) : 0;
}

bool st_get_at(int fd, struct st_sock *s, uint64_t *word)
{
    uint64_t *slot = st_slot(fd, false), w = 0;
    bool live = slot && st_read_slot(slot, &w, s) == ST_K_LIVE;
    *word = w;
    return live;
}

bool st_get(int fd, struct st_sock *s)
{
    uint64_t *slot = st_slot(fd, false), w;
    return slot && st_read_slot(slot, &w, s) == ST_K_LIVE;
}

