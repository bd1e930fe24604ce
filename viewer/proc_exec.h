/* proc_exec.h - after an exec the tracer did not follow: does the live
 * process still run a program that loads the tracer? Used by the reader
 * (snapshot.c) when a file's header says an exec was under way. */
#ifndef SOCKTRACE_PROC_EXEC_H
#define SOCKTRACE_PROC_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Sets *untraced when pid now runs a program without the library: one
 * with no loader (static), a secure-execution one (set-uid: AT_SECURE, or
 * no longer ours to read), or a dynamic one whose loader never mapped it
 * (LD_PRELOAD dropped, or still not mapped after a short wait: a loader
 * maps its preloads within milliseconds of the exec). While the library
 * is mapped the mark is a moment's (the old image inside exec, or the new
 * one before its constructor reopened the file): that too is waited for.
 * live_pending is the header's exec_pending in the mapped file, watched
 * meanwhile. Returns 0; 1 when the mark was cleared meanwhile (the exec
 * failed, or a new image took the file over: read it again); -1 when the
 * process is gone. */
int proc_exec_check(int pid, const uint32_t *live_pending, bool *untraced);

/* /proc/PID/cmdline into buf (argv, each NUL-terminated); its length, 0
 * when it cannot be read. */
uint32_t proc_cmdline(int pid, char *buf, size_t size);

#endif
