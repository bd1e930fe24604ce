/* ring.c - the writer's side of the event, history and name rings: claim a
 * record, fill it, commit it; never waits. A claim abandoned by a
 * siglongjmp is voided later, so no record stays claimed for ever. */
#define _GNU_SOURCE
#include "ring.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "codec.h"
#include "file_space.h"
#include "tracefile.h"

/* Records this thread claimed and has not committed. A claim left behind
 * by a siglongjmp out of a hook is voided by the thread's next claim: the
 * claim's stack frame is then no longer below us. A signal handler running
 * on top of a claim sees it below its own frame, and leaves it alone. */
#define PENDING 4
static __thread int npend __attribute__((tls_model("initial-exec")));
static __thread struct {
    uint64_t *word;
    uint64_t claimed;
    uintptr_t frame;
} pend[PENDING] __attribute__((tls_model("initial-exec")));

static void pend_drop(int i)
{
    int last = npend - 1;
    if (i < last)
        pend[i] = pend[last];
    npend = last;
}

static void void_stale_claims(uintptr_t frame)
{
    /* on an alternate signal stack, frames cannot be compared with those
     * of the thread's own stack: a claim below may be live; leave them all
     * to a later call on the thread's stack (a rare path: a claim is
     * pending only while nested, or after a siglongjmp) */
    stack_t ss;
    int saved = errno;
    bool alt = sigaltstack(NULL, &ss) == 0 && (ss.ss_flags & SS_ONSTACK);
    errno = saved;
    if (alt)
        return;
    for (int i = npend; i-- > 0;) {
        if (i >= PENDING || pend[i].frame > frame)
            continue;
        uint64_t c = pend[i].claimed;
        __atomic_compare_exchange_n(pend[i].word, &c,
                                    (c & ~3ull) | ST_RING_VOID, false,
                                    __ATOMIC_RELEASE, __ATOMIC_RELAXED);
        pend_drop(i);
    }
}

static void *ring_rec(struct st_header *h, struct st_ring *r, uint64_t pos,
                      unsigned *why)
{
    uint32_t k;
    uint64_t idx, n;
    st_ring_place(r, pos, &k, &idx, &n);
    if (k >= r->nsegs) {
        *why = ST_DROP_FILE;
        return NULL;
    }
    uint64_t off = st_install(&r->seg_off[k], n * r->rec_size);
    char *seg = off ? st_at_in(h, off) : NULL;
    if (!seg)
        *why = off ? ST_DROP_ADDR : st_space_why();
    return seg ? seg + idx * r->rec_size : NULL;
}

void *st_ring_claim(struct st_ring *r, uint64_t *pos)
{
    /* r must be in this process's own file: a signal handler that forked
     * between a caller's choice of ring and this claim leaves the child
     * holding its parent's ring, and the child must not write its
     * parent's record anywhere. (A child forked behind fork()'s back,
     * _Fork or an inline fork, still takes its parent's file for its own
     * until its next hooked call: it can only finish the record both
     * hold, and st_ring_commit takes the twin's for ours.) */
    struct st_header *h = st_hdr();
    if (!h || (uintptr_t)r - (uintptr_t)h >= ST_PAGE)
        return NULL;
    uintptr_t frame = (uintptr_t)__builtin_frame_address(0);
    if (npend)
        void_stale_claims(frame);
    /* A record still claimed from an earlier lap is skipped, not taken:
     * its writer may be writing it now. The claim gives up only after
     * trying as many positions as the ring has records, each found held:
     * every record taken by a writer that has not committed, so that none
     * can be had without waiting for one of them; and a holder may never
     * commit (a thread stopped for good in a signal handler, one that left
     * a hook by siglongjmp and makes no other call), so waiting could last
     * for ever. That alone is a ring's drop (ST_DROP_BUSY): it takes as
     * many writers inside the ring at once as it has records. */
    uint64_t tries = r->cap > 64 ? r->cap : 64;
    while (tries-- > 0) {
        uint64_t p = __atomic_fetch_add(&r->head.v, 1, __ATOMIC_RELAXED);
        unsigned why;
        uint64_t *rec = ring_rec(h, r, p, &why);
        if (!rec) {
            st_drop(why);
            return NULL;
        }
        uint64_t w = __atomic_load_n(rec, __ATOMIC_ACQUIRE);
        uint64_t claimed = (p + 1) << 2 | ST_RING_CLAIMED;
        if ((w & 3) == ST_RING_CLAIMED || (w >> 2) >= p + 1)
            continue;
        if (!__atomic_compare_exchange_n(rec, &w, claimed, false,
                                         __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            continue;
        /* the claim is seen before the body we are about to write: a
         * reader copying the earlier lap then sees the word change */
        __atomic_thread_fence(__ATOMIC_RELEASE);
        if (npend < PENDING) {
            pend[npend].word = rec;
            pend[npend].claimed = claimed;
            pend[npend].frame = frame;
            __atomic_signal_fence(__ATOMIC_SEQ_CST);
            npend++;
        }
        *pos = p;
        return rec;
    }
    st_drop(ST_DROP_BUSY);
    return NULL;
}

/* A compare-and-swap, not a store: the claim may have been voided and the
 * record claimed by a later lap meanwhile, and a store would take it from
 * its new owner. void_stale_claims can take a live claim for one a
 * siglongjmp left (a handler on an SS_AUTODISARM alternate stack, which
 * sigaltstack reports disabled, compares frames across stacks), and a
 * child forked between claim and commit commits into its parent's file.
 * False when the claim was lost; a record found committed for pos is ours
 * (only our claim, or that of our twin forked after it, which wrote the
 * same bytes, can commit pos). */
bool st_ring_commit(void *rec, uint64_t pos)
{
    uint64_t claimed = (pos + 1) << 2 | ST_RING_CLAIMED;
    uint64_t committed = (pos + 1) << 2 | ST_RING_COMMITTED;
    bool ok = __atomic_compare_exchange_n((uint64_t *)rec, &claimed, committed, false,
                                          __ATOMIC_RELEASE, __ATOMIC_RELAXED) ||
              claimed == committed;
    for (int i = npend; i-- > 0;)
        if (i < PENDING && pend[i].word == rec) {
            pend_drop(i);
            break;
        }
    return ok;
}

bool st_ring_put(struct st_ring *r, const void *rec, size_t size)
{
    /* a claim voided while it was live (above) loses only the record's
     * place: the record is still here, and is written again at the next
     * position; a second loss in a row is not expected, a third a drop */
    for (int tries = 0; tries < 3; tries++) {
        uint64_t pos;
        char *slot = st_ring_claim(r, &pos);
        if (!slot)
            return false;
        st_store_words(slot + 8, (const char *)rec + 8, size - 8);
        if (st_ring_commit(slot, pos))
            return true;
    }
    st_drop(ST_DROP_BUSY);
    return false;
}

bool st_ring_forget(void)
{
    bool pending = npend > 0;
    npend = 0;
    return pending;
}
