/* snapshot.h - a consistent copy of one trace file, taken by the reader
 * protocol of trace_protocol.h. Every offset, count and size is checked
 * before use; a bad file gives a one-line reason, never a crash. */
#ifndef SOCKTRACE_SNAPSHOT_H
#define SOCKTRACE_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"

/* What to load; the name ring comes with any of the last three. */
enum { SNAP_HEADER = 0, SNAP_TABLE = 1, SNAP_HISTORY = 2, SNAP_EVENTS = 4,
       SNAP_COMM = 8 /* resolve.h: the running process's comm too */ };

struct snapshot {
    struct st_header h;         /* as read; times in it are CLOCK_REALTIME.
                                   pid, ppid: the viewer's (nsmap.h) */
    int ns_pid;                 /* the pid the process's own namespace gave
                                   it: h.pid unless in another namespace */
    uint64_t open_count;        /* sockets in the table */
    uint64_t socks_total;       /* sockets ever entered (open + closed) */
    uint64_t events_head;       /* events ever written */
    struct st_sock *open;       /* sorted by fd */
    size_t n_open;
    struct st_sock *closed;     /* oldest first */
    size_t n_closed;
    uint64_t closed_lost;       /* overwritten in the ring */
    struct st_event *events;    /* oldest first */
    size_t n_events;
    uint64_t events_lost;
    struct st_name *names;      /* name lookups, oldest first */
    size_t n_names;
    uint64_t torn;              /* records skipped: written mid-copy */
    uint64_t unknown;           /* table slots the writer marked unknown */
    /* Set by the resolve layer (resolve.h), never from the file: */
    bool alive;                 /* the process runs now */
    /* An exec the tracer may not have followed (trace_protocol.h: "An exec
     * under way"). exec_pending: the header's mark, an exec call started
     * that did not fail. exec_untraced: the process then ran a program
     * that does not load the library (static, set-uid, LD_PRELOAD
     * dropped), found from /proc while it runs (proc_exec.h); for an
     * ended process, the mark itself (a traced image clears it). */
    bool exec_pending;
    bool exec_untraced;
    uint64_t exec_call_ns;      /* CLOCK_REALTIME of that exec call, or 0 */
    char exec_path[ST_EXEC_PATH_MAX];   /* the path it named; "" unknown */
    char command_now[ST_CMDLINE_MAX];   /* /proc/PID/cmdline of a live
                                           exec_untraced process */
    uint32_t command_now_len;
    /* snap_check_live (resolve.h) could not look: /proc/PID/fd of the
     * running process is not readable to the viewer (another user's, one
     * that kept a capability the viewer lacks, or one made non-dumpable).
     * The entries it could not check carry SNAP_SF_NO_ACCESS. */
    bool no_access;
    char comm[16];              /* /proc/PID/comm of a running process, with
                                   SNAP_COMM; "" unknown */
};

/* st_sock.flags, set by the viewer on its copy of an open entry, never in
 * a file (the loader clears it; trace_format.h's ST_SF_* stay below it):
 * the kernel would not say whether the fd is still this socket
 * (snapshot.no_access), so the state shown is "unknown (no access)". */
#define SNAP_SF_NO_ACCESS 0x80000000u

/* Reads path (what: SNAP_* bits), taking nothing from /proc. then, when
 * set, runs while the file is still mapped, with its live header (the
 * resolve layer's look at the process: resolve.h); its 1 means a new
 * image took the file over meanwhile. Returns 0; 1 when then said so
 * (out is filled: free it and read again); -1 with a reason in err. */
typedef int snap_mapped_fn(const struct st_header *live, struct snapshot *s);
int snap_read(const char *path, unsigned what, uint64_t since, snap_mapped_fn *then,
              struct snapshot *out, char *err, size_t errlen);
/* The header's exec mark (exec_pending, exec_call_ns, exec_path), copied
 * from the mapped file under its exec_seq (trace_protocol.h). */
void snap_exec_mark(const struct st_header *live, struct snapshot *s);
/* The header alone, as it is now, by one read (no mapping): what a poll
 * of a quiet file costs. The head is a word the writers change by
 * fetch-add; one aligned 8-byte word is copied whole. With mine_only, a
 * file of another user is refused. Returns 0 when it is a trace file's. */
int snap_read_header(const char *path, bool mine_only, struct st_header *h);
/* The same from bytes in memory, with no process behind them (the fuzz
 * target and unit tests). */
int snap_load_mem(const void *data, size_t size, unsigned what,
                  struct snapshot *out, char *err, size_t errlen);
void snap_free(struct snapshot *s);

/* The name the process looked up that gave address a, or NULL. */
const char *snap_host_of(const struct snapshot *s, const struct st_addr *a);

/* The entries of s->open that are open: those snap_check_live neither
 * found closed nor was kept from checking. What show, ps and --verify
 * count as open. */
size_t snap_open_now(const struct snapshot *s);
/* The entries snap_check_live could not check (SNAP_SF_NO_ACCESS). */
size_t snap_unknown_now(const struct snapshot *s);
static inline bool snap_gone(const struct st_sock *so)
{
    return so->flags & (ST_SF_CLOSED_UNSEEN | ST_SF_CLOSED_EXEC);
}

#endif
