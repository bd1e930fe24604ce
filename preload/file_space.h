/* file_space.h - the trace file's space as the writer hands it out: fresh
 * blocks, fd-table slots, socket records and socket id blocks, all
 * lock-free (any thread, any moment, signal handlers included). */
#ifndef SOCKTRACE_FILE_SPACE_H
#define SOCKTRACE_FILE_SPACE_H

#include <stdbool.h>
#include <stdint.h>

#include "trace_format.h"

/* Counts a change or record that could not be written, for a reason of
 * enum st_drop_why. */
void st_drop(unsigned why);
/* Why this thread's last request for file space, a slot or a ring record
 * failed (ST_DROP_FILE, ST_DROP_ADDR, ST_DROP_FD): for st_drop. */
unsigned st_space_why(void);

/* n bytes of fresh zeroed space installed at *where (an offset word, 0
 * while absent) unless another thread did first: the offset, or 0. */
uint64_t st_install(uint64_t *where, uint64_t n);

/* The slot word of fd, or NULL: no leaf yet (create: make the leaf; when
 * that fails, or fd is beyond the table, st_space_why says why). */
uint64_t *st_slot(int fd, bool create);
/* Calls fn for every slot that exists with fd in [lo, hi]. */
void st_slot_each(int lo, int hi, void (*fn)(int fd, uint64_t *slot, void *arg),
                  void *arg);

/* A record of `size` bytes (ST_REC_SMALL or ST_REC_LARGE) as a granule
 * index, or 0 when the file cannot grow. */
uint32_t st_rec_alloc(uint16_t size);
void st_rec_free(uint32_t gran, uint16_t size);

/* A block of socket ids for one thread. */
uint64_t st_id_block(uint64_t n);

/* In a forked child: the parent's cached free records are not ours. */
void st_space_forget(void);

#endif
