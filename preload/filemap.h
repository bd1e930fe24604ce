/* filemap.h - the writer's address space for its trace file: the file
 * mapped in parts that double in size (trace_protocol.h, "Growth"), each made
 * when the file first reaches it, and only within a small share of the
 * room an address-space limit (RLIMIT_AS) leaves the program. */
#ifndef SOCKTRACE_FILEMAP_H
#define SOCKTRACE_FILEMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "trace_format.h"

/* Parts 0 .. ST_MAP_PARTS-1 cover the first ST_SEG0 << (ST_MAP_PARTS-1)
 * bytes (32 GiB), more than a file ever gets (trace_format.h: granules of
 * 32 bits, rings of at most 2 GiB). */
#define ST_MAP_PARTS 20u

/* Where the parts of one file are mapped in this process; NULL: not (yet).
 * Written by compare-and-swap (release), read with acquire. */
struct st_fmap {
    char *part[ST_MAP_PARTS];
};

static inline unsigned st_part_of(uint64_t off)
{
    return off < ST_SEG0 ? 0 : 64u - (unsigned)__builtin_clzll(off / ST_SEG0);
}

static inline uint64_t st_part_start(unsigned k)
{
    return k ? (uint64_t)ST_SEG0 << (k - 1) : 0;
}

static inline uint64_t st_part_len(unsigned k)
{
    return k ? (uint64_t)ST_SEG0 << (k - 1) : ST_SEG0;
}

/* The address of file offset off in m, or NULL when its part is not
 * mapped. A block handed out lies within one part, so the whole of it is
 * at the address of its first byte onwards. */
static inline void *st_fmap_at(struct st_fmap *m, uint64_t off)
{
    unsigned k = st_part_of(off);
    if (k >= ST_MAP_PARTS)
        return NULL;
    char *p = __atomic_load_n(&m->part[k], __ATOMIC_ACQUIRE);
    return p ? p + (off - st_part_start(k)) : NULL;
}

/* Maps, from fd (open read-write), every part of m that holds a byte
 * below `upto` and is not mapped yet, lowest first. Threads may race: each
 * part is published by compare-and-swap, a loser unmaps its own; nobody
 * waits. False when a part could not be mapped: no room under RLIMIT_AS
 * (st_fmap_room), or mmap failed. errno is preserved. */
bool st_fmap_upto(struct st_fmap *m, int fd, uint64_t upto);

/* Whether this process may map len more bytes: always without an
 * address-space limit; under one, only while len is at most a sixteenth
 * of the room left (the limit less the process's size, VmSize), so the
 * program's own mappings keep nearly all of it. False under a limit when
 * the size cannot be read (no /proc, as in a chroot). */
bool st_fmap_room(uint64_t len);

/* Unmaps every part of m and forgets them. */
void st_fmap_unmap(struct st_fmap *m);

#endif
