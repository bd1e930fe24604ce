/* startup.h - finding the sockets a process has that the tracer did not
 * see made: inherited across exec (inetd, socket activation), opened
 * before the preload's constructor ran, or a forked child's copies. */
#ifndef SOCKTRACE_STARTUP_H
#define SOCKTRACE_STARTUP_H

#include <stdbool.h>

#include "trace_format.h"

/* Asks the kernel about every socket fd of this process and enters it
 * (origin for one the table has no record of). hints (may be NULL) is
 * another mapping whose records are kept where the kernel agrees. The
 * file is made only when a socket is found. quick (a new process): fds
 * from 64 up are looked at only when 56-63 are open. */
void st_scan_fds(int origin, struct st_header *hints, bool quick);

#endif
