/* tracefile.h - the writer's side of the trace file: create it (on the
 * first socket), re-open it after exec, map and grow it (file_space.h
 * hands out its space, ring.h its ring records). Lock-free throughout: any
 * thread may be here at any moment, signal handlers included. */
#ifndef SOCKTRACE_TRACEFILE_H
#define SOCKTRACE_TRACEFILE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "trace_format.h"
#include "trace_read.h"

struct st_procinfo {
    int pid, ppid;
    uint64_t proc_start;    /* /proc starttime: names the file */
    uint64_t now_ns;        /* CLOCK_REALTIME */
    int argc;
    char **argv;
    uint64_t run_id;        /* SOCKTRACE_RUN_ID */
    uint64_t pidns, mntns, netns;   /* namespace inodes, asked with the
                                       start time; 0: not yet, or unknown */
};

/* Where this process's file goes (dir: euid's directory); set before any
 * other call here (by the constructor, and again in a forked child). */
int st_trace_setup(const char *dir, uid_t euid, const struct st_procinfo *p,
                   uint64_t history_bytes);

/* In a forked child whose parent had no file: who this process is gets
 * asked (pid, start time) only when it makes one. */
void st_trace_setup_child(void);

/* The mapped header, or NULL while the process has no file. */
struct st_header *st_hdr(void);

/* The header, creating the file when there is none yet. Threads that race
 * here each build a file and one wins; nobody waits. NULL when the file
 * cannot be made (*why says why, once per process: the caller warns). */
struct st_header *st_trace_create(const char **why);

/* *why when the address-space limit leaves no room for the file: the
 * caller notes it in the trace directory, not on the program's stderr. */
extern const char st_why_no_room[];

/* After exec: maps this process's existing file. 0, or -1 when there is
 * none (or it is not ours, or not this version). */
int st_trace_reopen(void);

/* In a forked child, before anything else: forgets the parent's mapping
 * without unmapping it and returns it, for the child to copy from (the
 * thread's ring claims and cached records are forgotten by their owners,
 * st_ring_forget and st_space_forget). */
struct st_header *st_trace_forget(void);
void st_trace_unmap(struct st_header *h);



/* File memory at an offset: of this process's file (st_at), or of h,
 * which is this process's or, in a forked child, its parent's (the one
 * st_trace_forget returned); NULL when the offset is not mapped here. */
void *st_at(uint64_t off);
void *st_at_in(struct st_header *h, uint64_t off);

/* Makes the file at least `need` bytes long and mapped here that far;
 * false (the reason, enum st_drop_why, in *why) when it cannot. */
bool st_trace_grow(struct st_header *h, uint64_t need, unsigned *why);

/* h (this process's file or, in a forked child, its parent's) as the
 * reader (trace_read.h) sees it. */
struct st_view st_view_of(struct st_header *h);

/* clock_gettime(c) in ns. */
uint64_t st_clock_ns(clockid_t c);
/* The same through the system call, for start-up: the vDSO's reading
 * costs two page faults there (its data page, libc's clock_gettime), a
 * process that never makes a socket reads no other clock, and the
 * kernel reads the same one. */
uint64_t st_clock_ns_sys(clockid_t c);

/* The parent this process had at its start (the forking process, or
 * getppid() when the image started), 0 when not known here (a vfork
 * child running on its parent's memory). */
int st_start_ppid(void);

#endif
