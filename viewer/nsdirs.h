/* nsdirs.h - trace directories in other mount namespaces (a container's
 * own /tmp, a service's private /tmp), which root reaches without a mount
 * through /proc/PID/root. */
#ifndef SOCKTRACE_NSDIRS_H
#define SOCKTRACE_NSDIRS_H

#include <stddef.h>

/* The trace directories that running processes in mount namespaces other
 * than the viewer's have their files in, as paths the viewer can open
 * ("/proc/4711/root/tmp/socktrace-0"), each once and none that is `dir`
 * itself (a bind mount of the same directory). Only for root (others
 * cannot follow /proc/PID/root), and not with SOCKTRACE_CONTAINERS=0;
 * empty otherwise. Returns the count; *out
 * (free each string, then the array) is NULL when 0. */
size_t nsdirs_find(const char *dir, char ***out);

#endif
