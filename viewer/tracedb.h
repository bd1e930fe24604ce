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

/* The same, and (for root) the trace directories of processes in other
 * mount namespaces, reached through /proc/PID/root (nsdirs.h). What the
 * verbs that read every process use. */
struct trace_ref *tracedb_list_all(const char *dir, size_t *n);

/* The file for pid, as the viewer knows it: the running process's when it
 * runs (a process in another pid namespace has its file named by the pid
 * it has there: nsmap.h), else the one that started last; else a pid
 * inside another pid namespace, when only one namespace has it. Returns
 * 0, -1 when there is none, -2 when pid names processes in several other
 * namespaces. */
int tracedb_find(const char *dir, int pid, struct trace_ref *out);

struct snapshot;
/* Loads every trace file of tracedb_list_all (what: SNAP_* bits), in tracedb_list's
 * order. A file that cannot be read is counted in *bad and, when prog is
 * set, reported on stderr in one line. Returns the *loaded snapshots (each
 * freed with snap_free, the array with free), or NULL with *loaded 0. */
struct snapshot *tracedb_load_all(const char *dir, unsigned what, const char *prog,
                                  size_t *loaded, size_t *bad);

#endif
