/* show_kernel.h - `show` from the kernel's side: an untraced process, and
 * --verify. Both read /proc only (kernel.h). */
#ifndef SOCKTRACE_SHOW_KERNEL_H
#define SOCKTRACE_SHOW_KERNEL_H

#include <stdbool.h>

#include "commands.h"

/* The sockets of an untraced process, labelled as the kernel's view.
 * Returns the exit status. */
int show_kernel(int pid, bool json, const char *prog);
/* Lists each difference between s (a running process) and the kernel.
 * Returns 0 when they agree, 1 when they differ or cannot be compared,
 * VERIFY_NO_ACCESS when the viewer may not read the process's fds (one
 * line on stderr says so; root can). */
#define VERIFY_NO_ACCESS 3
int show_verify(struct snapshot *s, bool json, const char *prog);

#endif
