/* tracedb.h - the trace files of a directory: which exist, which belong to
 * a pid, in an order a person reads (parents before their children). */
#ifndef SOCKTRACE_TRACEDB_H
#define SOCKTRACE_TRACEDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct trace_ref {
    int pid;
    uint64_t proc_start;
    char path[600];
};

/* Where else to look, decided once by main from how the directory was
 * chosen. With all_users (root, no directory named) every list of the
 * default directory adds the other users' default directories
 * (/tmp/socktrace-UID, /run/user/UID/socktrace, each owned by its UID and
 * writable by it alone). With owners (no -d), tracedb_find looks for a
 * pid it did not find in the directory of the user the process runs as. */
void tracedb_widen(const char *default_dir, bool all_users, bool owners);

/* All trace files in dir; *n set. Returns NULL with *n == 0 when none
 * (errno set when the directory could not be read). */
struct trace_ref *tracedb_list(const char *dir, size_t *n);

/* The file for pid: the running process's when it runs, else the one
 * that started last. Returns 0, or -1 when there is none. */
int tracedb_find(const char *dir, int pid, struct trace_ref *out);

struct snapshot;
/* Loads every trace file in dir (what: SNAP_* bits), in tracedb_list's
 * order. A file that cannot be read is counted in *bad and, when prog is
 * set, reported on stderr in one line. Returns the *loaded snapshots (each
 * freed with snap_free, the array with free), or NULL with *loaded 0. */
struct snapshot *tracedb_load_all(const char *dir, unsigned what, const char *prog,
                                  size_t *loaded, size_t *bad);

#endif
