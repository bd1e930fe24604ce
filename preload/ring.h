/* ring.h - the writer's side of the trace file's rings (events, history,
 * names): claim, fill, commit, without waiting (st_ring_copy in
 * trace_read.h reads them). */
#ifndef SOCKTRACE_RING_H
#define SOCKTRACE_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace_format.h"

/* Ring records: claim a record (NULL: dropped), fill it from byte 8 on,
 * commit. */
void *st_ring_claim(struct st_ring *r, uint64_t *pos);
bool st_ring_commit(void *rec, uint64_t pos);    /* false: the claim was lost */

/* The three steps for a record built whole in rec (size bytes, its first
 * word left to the ring); false when it was dropped. */
bool st_ring_put(struct st_ring *r, const void *rec, size_t size);

/* In a forked child: the parent's pending claims are not ours to void.
 * True when there were any: the child was forked by a signal handler
 * between a claim and its commit, and the interrupted put still writes
 * into the parent's mapping when the handler returns. */
bool st_ring_forget(void);

#endif
