/* tracefile.h - the writer's side of the trace file: create or re-open it,
 * map it, hand out table slots, append to the rings. The caller holds the
 * tracer lock for everything but st_trace_open. */
#ifndef SOCKTRACE_TRACEFILE_H
#define SOCKTRACE_TRACEFILE_H

#include <stdbool.h>
#include <stdint.h>

#include "trace_format.h"

struct st_procinfo {
    int pid, ppid;
    uint64_t proc_start;    /* /proc starttime: names the file */
    uint64_t now_ns;
    int argc;
    char **argv;
};

/* Opens DIR/PID-START.trace: re-opened when this process already has one
 * (we are a new image after exec; *reopened is set), created otherwise.
 * history_bytes bounds the two rings. Returns 0, or -1 with *why set. */
int st_trace_open(const char *dir, const struct st_procinfo *p,
                  uint64_t history_bytes, bool *reopened, const char **why);

/* In a forked child: a new file for this pid, holding a copy of every open
 * slot; the parent's mapping is released. Returns 0, or -1 (untraced). */
int st_trace_fork(const char *dir, const struct st_procinfo *p,
                  const char **why);

/* Around fork(), with the lock held: a private copy of the table for the
 * child to start from; released in both processes after the fork. */
void st_trace_fork_prepare(void);
void st_trace_fork_release(void);

/* Unmaps everything (the tracer is off from now on). */
void st_trace_close(void);

struct st_header *st_hdr(void);
struct st_sock *st_slot(uint32_t id);
/* A free slot, growing the file when all are in use; -1 when it cannot. */
int64_t st_slot_alloc(void);
void st_slot_release(uint32_t id);
/* Every slot in use, for the start-up and exec scans. */
uint32_t st_slot_total(void);

/* Copies a socket into the history ring. */
void st_history_push(const struct st_sock *s);
/* Appends an event; ev->seq and ev->serial are filled in here. */
void st_event_push(const struct st_event *ev);

/* Records that a lookup of host returned addr (16 bytes, IPv4 in the
 * first 4); a pair already in the ring is not repeated. */
void st_name_push(int family, const uint8_t addr[16], const char *host,
                  uint64_t ns);

/* seqlock brackets around an in-place update of a table slot */
void st_rec_begin(uint32_t *seq);
void st_rec_end(uint32_t *seq);

#endif
