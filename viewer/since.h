/* since.h - times and durations as typed on the command line. */
#ifndef SOCKTRACE_SINCE_H
#define SOCKTRACE_SINCE_H

#include <stdint.h>

/* --since: "30s", "1.5m", "2h", "1d", "500ms", "14:05[:30]" (today),
 * "2026-11-24T18:09:11[.123]" (local time), "@EPOCH". Returns 0 with
 * *ns (CLOCK_REALTIME), or -1. */
int since_time(const char *arg, uint64_t *ns);

/* A duration: "2", "2s", "1.5m", "500ms", "2h", "1d". Returns 0 with
 * *sec, or -1. */
int since_duration(const char *s, double *sec);

#endif
