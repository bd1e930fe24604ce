/* nsmap.h - traces written in other pid namespaces (containers): the pid
 * the viewer knows a traced process by, and which trace a pid names. A
 * trace records the pid its own namespace gave the process and that
 * namespace's inode (trace_format.h); the viewer finds the process by the
 * NSpid: line of /proc/PID/status, the namespace and the start time. */
#ifndef SOCKTRACE_NSMAP_H
#define SOCKTRACE_NSMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "trace_format.h"

struct snapshot;

/* Whether the header's process lived in a pid namespace other than the
 * viewer's (a file of an older format, which does not say, does not). */
bool nsmap_other(const struct st_header *h);

/* A running process by the viewer's pid: its pid in its own (innermost)
 * pid namespace, that namespace's inode (0 when unreadable) and its start
 * time. Returns 0, or -1 when no such process. */
int nsmap_inner(int pid, int *ns_pid, uint64_t *pidns, uint64_t *start);

/* The viewer's pid of the process with pid ns_pid in pid namespace pidns
 * and start time start (0: any), or 0 when none runs. */
int nsmap_outer(int ns_pid, uint64_t pidns, uint64_t start);

/* Called on every loaded snapshot: for a process of another pid namespace
 * sets s->ns_pid to the header's pid and rewrites s->h.pid and s->h.ppid
 * into the viewer's pids, so that every live check (/proc/PID/fd, its
 * /proc/PID/net tables, liveness) looks at the right process. One that is
 * not running (or not visible) keeps minus its namespace's pids: they
 * name no process here, and stay a tree among themselves. */
void nsmap_resolve(struct snapshot *s);

/* Which of the loaded snapshots a pid given by the user names: the
 * viewer's pid first, else a pid inside another namespace when only one
 * namespace has it. Sets *h_pid to the h.pid to select by and returns 0;
 * -1 when none names it, -2 when processes of several other namespaces
 * have that pid (the caller asks for the viewer's pid). For selection
 * (ps, ports, watch). */
int nsmap_pick(const struct snapshot *v, size_t n, int pid, int *h_pid);

#endif
