/* trace_read.h - the one reader of a trace file (trace_protocol.h's reader
 * steps as code), linked into the viewer, which maps another process's
 * file whole, and into the writer, which reads its own file and, in a
 * forked child, its parent's. Every size and offset read is bounded. */
#ifndef SOCKTRACE_TRACE_READ_H
#define SOCKTRACE_TRACE_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "trace_format.h"

/* The file as a reader sees it: mapped whole at base (size bytes), or, in
 * the writer, in parts: at(ctx, off) is the byte at off, NULL where not
 * mapped. */
struct st_view {
    const char *base;
    uint64_t size;
    const void *(*at)(void *ctx, uint64_t off);
    void *ctx;
};

/* 0 when a reader of this format can read a file with header h; size is
 * the file's length (offsets in the header are checked against it), or 0
 * when only the header was read. Else -1, and why holds one line. */
int st_header_check(const struct st_header *h, uint64_t size, char *why,
                    size_t whylen);

/* What a slot holds, read by the reader steps (trace_protocol.h). */
enum st_slot_kind {
    ST_SLOT_EMPTY,      /* never a socket */
    ST_SLOT_UNKNOWN,    /* a change could not be recorded (ST_W_UNKNOWN) */
    ST_SLOT_LIVE,       /* *out: the socket there */
    ST_SLOT_TOMB,       /* *out: the socket closed there last */
    ST_SLOT_TORN,       /* its record cannot be read: out of bounds, not
                           mapped, a corrupt size, or still changing after
                           `tries` copies */
};

/* What a slot word w says by itself (step 1 of the reader): EMPTY,
 * UNKNOWN, or the kind of record it names (LIVE or TOMB), before any copy
 * (one that counts entries needs no more). */
enum st_slot_kind st_slot_kind(uint64_t w);
/* Copies the record slot names into *out as the file holds it (its size
 * checked; valid only for LIVE or TOMB); *w is the slot word the copy
 * belongs to. tries: copies before giving up, 0 for as many as it takes
 * (the writer reading its own file: it loops only while other threads
 * publish newer versions, which it must then see). */
int st_slot_copy_rec(const struct st_view *v, const uint64_t *slot, int tries,
                     uint64_t *w, union st_rec_any *out);

/* The same, decoded; *out zeroed unless LIVE or TOMB. */
int st_slot_copy(const struct st_view *v, const uint64_t *slot, int tries,
                 uint64_t *w, struct st_sock *out);

/* What ring position pos holds. */
enum st_ring_copy_result {
    ST_RING_REC_OK,     /* out holds the record committed at pos */
    ST_RING_REC_NONE,   /* nothing committed there for pos (not reached,
                           an earlier lap, voided) */
    ST_RING_REC_LOST,   /* written over by a later lap, before or while
                           it was copied */
    ST_RING_REC_BUSY,   /* claimed for pos, not yet committed: look again,
                           or count it torn (its writer may have stopped) */
};

/* Copies ring position pos into out: the first out_size bytes of the
 * record (a newer writer's records may be longer). */
int st_ring_copy(const struct st_view *v, const struct st_ring *r, uint64_t pos,
                 void *out, uint32_t out_size);

/* A ring descriptor a reader can walk, with records of at least
 * rec_size bytes. */
bool st_ring_valid(const struct st_ring *r, uint32_t rec_size);

/* The header's exec mark (exec_call_ns, exec_path) copied under exec_seq;
 * false when it kept changing for `tries` copies. */
bool st_exec_mark_copy(const struct st_header *h, int tries, uint64_t *call_ns,
                       char path[ST_EXEC_PATH_MAX]);

#endif
