/* trace_read.c - the reader steps of trace_protocol.h, once: the header
 * check, a slot's record, a ring record, the exec mark. One memory order
 * throughout: the word that guards a copy is loaded with acquire, the copy
 * is made of relaxed word loads, an acquire fence, then the word again. */
#define _GNU_SOURCE
#include "trace_read.h"

#include <stdio.h>
#include <string.h>

/* the bytes [off, off + len) of the file, or NULL when any is outside it
 * (or, for a file mapped in parts, not in the part that holds off: a block
 * never crosses into the next part) */
static const char *view_at(const struct st_view *v, uint64_t off, uint64_t len)
{
    if (v->base)
        return off <= v->size && len <= v->size - off ? v->base + off : NULL;
    if (!v->at || !len || off + len < off)
        return NULL;
    const char *p = v->at(v->ctx, off);
    return p && v->at(v->ctx, off + len - 1) == p + len - 1 ? p : NULL;
}

static void copy_words(void *dst, const void *src, uint32_t n)
{
    uint64_t *d = dst;
    const uint64_t *s = src;
    for (uint32_t i = 0; i < n / 8; i++)
        d[i] = __atomic_load_n(&s[i], __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
}

static bool range_ok(uint64_t off, uint64_t count, uint64_t size, uint64_t file)
{
    if (count && size > UINT64_MAX / count)
        return false;
    uint64_t len = count * size;
    return off <= file && len <= file - off;
}

bool st_ring_valid(const struct st_ring *r, uint32_t rec_size)
{
    return r->rec_size >= rec_size && r->rec_size % 8 == 0 && r->rec_size <= (1u << 16) &&
           r->cap0 && !(r->cap0 & (r->cap0 - 1)) && r->cap0 <= (1u << 20) &&
           r->nsegs >= 1 && r->nsegs <= ST_RING_SEGS &&
           r->cap == (uint64_t)r->cap0 << (r->nsegs - 1) &&
           (uint64_t)r->cap * r->rec_size <= (1ull << 31);
}

int st_header_check(const struct st_header *h, uint64_t size, char *why,
                    size_t whylen)
{
    if (memcmp(h->magic, ST_MAGIC, 7) != 0) {
        snprintf(why, whylen, "not a socktrace trace file");
        return -1;
    }
    /* formats 3 to 5 had the magic SOCKTRC1 */
    bool ours = memcmp(h->magic, ST_MAGIC, 8) == 0;
    if (!ours || h->version < ST_VERSION_READ || h->min_reader > ST_VERSION) {
        snprintf(why, whylen, "trace format version %u%s; this socktrace reads version %u",
                 h->version, ours && h->min_reader > ST_VERSION ? " (for newer readers)" : "",
                 ST_VERSION);
        return -1;
    }
    if (h->endian != ST_ENDIAN_MARK) {
        snprintf(why, whylen, "written on a machine of another byte order");
        return -1;
    }
    if (h->header_size < sizeof *h || h->rec_small != ST_REC_SMALL ||
        h->rec_large != ST_REC_LARGE) {
        snprintf(why, whylen, "record sizes differ from this socktrace's");
        return -1;
    }
    if (h->dir_entries != ST_DIR_ENTRIES || h->leaf_slots != ST_LEAF_SLOTS ||
        (size && !range_ok(h->dir_off, h->dir_entries, 8, size)) || h->dir_off % 8 ||
        h->dir_off < h->header_size ||
        !st_ring_valid(&h->events, sizeof(struct st_evrec)) ||
        !st_ring_valid(&h->history, sizeof(struct st_histrec)) ||
        !st_ring_valid(&h->names, sizeof(struct st_namerec)) ||
        h->cmdline_len > ST_CMDLINE_MAX) {
        snprintf(why, whylen, "corrupt header (counts or offsets out of range)");
        return -1;
    }
    return 0;
}

enum st_slot_kind st_slot_kind(uint64_t w)
{
    if (!w)
        return ST_SLOT_EMPTY;
    if (w & ST_W_UNKNOWN)
        return ST_SLOT_UNKNOWN;
    return (w & ST_W_TOMB) ? ST_SLOT_TOMB : ST_SLOT_LIVE;
}

int st_slot_copy_rec(const struct st_view *v, const uint64_t *slot, int tries,
                     uint64_t *w, union st_rec_any *out)
{
    for (int i = 0; tries == 0 || i < tries; i++) {
        uint64_t v1 = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
        *w = v1;
        int kind = st_slot_kind(v1);
        if (kind == ST_SLOT_EMPTY || kind == ST_SLOT_UNKNOWN)
            return kind;
        uint64_t off = (uint64_t)(uint32_t)(v1 & ST_W_GRAN_MASK) * ST_GRANULE;
        const char *rec = view_at(v, off, sizeof out->head);
        if (!rec) {
            if (__atomic_load_n(slot, __ATOMIC_RELAXED) != v1)
                continue;   /* replaced meanwhile: read the new one */
            return ST_SLOT_TORN;
        }
        copy_words(&out->head, rec, sizeof out->head);
        uint16_t size = out->head.size;
        bool size_ok = (size == ST_REC_SMALL || size == ST_REC_LARGE) && view_at(v, off, size);
        if (size_ok)
            copy_words((char *)out + sizeof out->head, rec + sizeof out->head,
                       size - (uint32_t)sizeof out->head);
        if (__atomic_load_n(slot, __ATOMIC_RELAXED) != v1)
            continue;   /* replaced while we copied: read the new one */
        if (!size_ok)
            return ST_SLOT_TORN;    /* a published record is never like this */
        return kind;
    }
    return ST_SLOT_TORN;
}

int st_slot_copy(const struct st_view *v, const uint64_t *slot, int tries,
                 uint64_t *w, struct st_sock *out)
{
    union st_rec_any rec;
    int kind = st_slot_copy_rec(v, slot, tries, w, &rec);
    /* out is written once: by the decode, which sets every byte of it,
     * or zeroed for a slot with nothing to decode */
    if (kind == ST_SLOT_LIVE || kind == ST_SLOT_TOMB)
        st_rec_decode(&rec, out);
    else
        memset(out, 0, sizeof *out);
    return kind;
}

int st_ring_copy(const struct st_view *v, const struct st_ring *r, uint64_t pos,
                 void *out, uint32_t out_size)
{
    uint32_t k;
    uint64_t idx, n;
    st_ring_place(r, pos, &k, &idx, &n);
    uint64_t seg = k < r->nsegs && k < ST_RING_SEGS
                       ? __atomic_load_n(&r->seg_off[k], __ATOMIC_ACQUIRE) : 0;
    if (!seg || seg % 8 || out_size > r->rec_size || out_size % 8)
        return ST_RING_REC_NONE;
    const char *rec = view_at(v, seg + idx * r->rec_size, r->rec_size);
    if (!rec)
        return ST_RING_REC_NONE;
    uint64_t want = (pos + 1) << 2 | ST_RING_COMMITTED;
    uint64_t w = __atomic_load_n((const uint64_t *)rec, __ATOMIC_ACQUIRE);
    if (w != want) {
        if ((w >> 2) > pos + 1)
            return ST_RING_REC_LOST;
        return w == ((pos + 1) << 2 | ST_RING_CLAIMED) ? ST_RING_REC_BUSY : ST_RING_REC_NONE;
    }
    copy_words(out, rec, out_size);
    return __atomic_load_n((const uint64_t *)rec, __ATOMIC_RELAXED) == w ? ST_RING_REC_OK
                                                                       : ST_RING_REC_LOST;
}

bool st_exec_mark_copy(const struct st_header *h, int tries, uint64_t *call_ns,
                       char path[ST_EXEC_PATH_MAX])
{
    for (int i = 0; i < tries; i++) {
        uint32_t seq = __atomic_load_n(&h->exec_seq, __ATOMIC_ACQUIRE);
        if (seq & 1)
            continue;
        uint64_t words[ST_EXEC_PATH_MAX / 8];
        *call_ns = __atomic_load_n(&h->exec_call_ns, __ATOMIC_RELAXED);
        copy_words(words, h->exec_path, ST_EXEC_PATH_MAX);
        if (__atomic_load_n(&h->exec_seq, __ATOMIC_RELAXED) == seq) {
            memcpy(path, words, ST_EXEC_PATH_MAX);
            path[ST_EXEC_PATH_MAX - 1] = 0;
            return true;
        }
    }
    *call_ns = 0;
    path[0] = 0;
    return false;
}
