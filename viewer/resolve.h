/* resolve.h - a trace file read and set against what the kernel knows
 * now: whether its process runs, whether it exec'd out of the tracer, its
 * pids seen from the viewer's pid namespace, which of its fds are still
 * sockets, and its comm. The layer above the reader (snapshot.h). */
#ifndef SOCKTRACE_RESOLVE_H
#define SOCKTRACE_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

/* Reads path (what: SNAP_* bits) and resolves it: a container's pids into
 * the viewer's (nsmap.h), alive, the exec state (proc_exec.h) and, with
 * SNAP_COMM, the comm of a running process. Returns 0, or -1 with a
 * reason in err. */
int snap_load(const char *path, unsigned what, struct snapshot *out,
              char *err, size_t errlen);
/* Same, copying only the events numbered `since` and later (follow mode). */
int snap_load_since(const char *path, unsigned what, uint64_t since,
                    struct snapshot *out, char *err, size_t errlen);

/* For a running process: an entry whose fd is no longer a socket in
 * /proc/PID/fd was closed behind the tracer's back (a raw syscall): it is
 * shown as closed, unseen; after an exec out of the tracer, one marked
 * close-on-exec is shown as closed by that exec (ST_SF_CLOSED_EXEC). An
 * fd the viewer may not look at (EACCES, EPERM) is not taken for closed:
 * it gets SNAP_SF_NO_ACCESS and s->no_access is set. */
void snap_check_live(struct snapshot *s);

/* Whether the process a header describes is running now. One that has
 * exited but is not reaped yet (a zombie) is not: it has ended, its fds
 * are gone, and nothing will write its file again. */
bool snap_is_alive(const struct st_header *h);
/* The same for pid started at proc_start (0: any). */
bool snap_pid_running(int pid, uint64_t proc_start);

/* What /proc says of one process, for the layers above, which read none
 * of it themselves: the socket inode fd names in /proc/PID/fd (0: none,
 * or not a socket); whether /proc/PID exists; pid's parent and start time
 * (-1 when it is gone; tracedir.c's reader, named here so that the stream
 * layer asks this layer for it). */
uint64_t proc_fd_inode(int pid, int fd);
bool proc_exists(int pid);
int proc_parent(int pid, uint64_t *start, int *ppid);
/* The directory of our own executable, into buf; -1 when unknown. */
int proc_self_dir(char *buf, size_t size);

#endif
