/* fdindex.h - the in-process index from fd to table slot (uthash, as the
 * project asked). Not shared: its pointers mean nothing to a reader.
 * The caller holds the tracer lock. Memory comes from mmap, never malloc,
 * so the index works inside a malloc implementation's own calls. */
#ifndef SOCKTRACE_FDINDEX_H
#define SOCKTRACE_FDINDEX_H

#include <stdint.h>

struct st_fdent;

/* Returns the slot of fd, or -1. */
int64_t st_index_find(int fd);
/* Adds fd -> slot. fd must not be present. Returns 0, or -1 on no memory. */
int st_index_add(int fd, uint32_t slot);
/* Removes fd; returns its slot, or -1 when absent. */
int64_t st_index_remove(int fd);
/* Replaces the slot of every entry through fn (used after fork); an entry
 * for which fn returns UINT32_MAX is removed. */
void st_index_remap(uint32_t (*fn)(int fd, uint32_t slot, void *arg), void *arg);
/* Stores in out[] (at most max) the indexed fds within [lo, hi], for the
 * caller to act upon; returns how many. */
unsigned st_index_range(int lo, int hi, int *out, unsigned max);
unsigned st_index_count(void);

#endif
