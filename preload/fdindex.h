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
/* Calls fn for every entry; fn must not add or remove entries. */
void st_index_each(void (*fn)(int fd, uint32_t slot, void *arg), void *arg);

/* The distinct peers of fd's socket, as 32-bit address hashes, up to
 * ST_INDEX_PEERS of them. Returns 1 when hash is new, 0 when already
 * there, -1 when the set is full (or there is no memory). */
#define ST_INDEX_PEERS 32
int st_index_peer_add(int fd, uint32_t hash);

#endif
