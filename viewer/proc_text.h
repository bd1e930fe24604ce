/* proc_text.h - a process in words, as every verb's table shows it. */
#ifndef SOCKTRACE_PROC_TEXT_H
#define SOCKTRACE_PROC_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "run_wait.h"
#include "snapshot.h"

/* The command line of a header as one string: "curl -s http://x/". */
void cmdline_text(const struct st_header *h, char *buf, size_t size);
/* An argv block (each NUL-terminated, as /proc/PID/cmdline) as one line. */
void argv_text(const char *v, uint32_t len, char *buf, size_t size);
/* A process that exec'd out of the tracer (snapshot.h): "exec'd into an
 * untraced program (PATH) at TIME". */
void exec_untraced_text(const struct snapshot *s, char *buf, size_t size);
/* "48213 (container pid 7)", "48213", or "? (container pid 7)" for a
 * process of another namespace that is not running (nsmap.h). */
void pid_text(int pid, int ns_pid, char *buf, size_t size);

/* "1 process still running: pid 4242 curl -s http://x/" (then one per
 * line when several), to f. */
void run_left_report(FILE *f, const char *prog, const struct run_left *v, size_t n);

#endif
