/* startup.h - finding the sockets a process already has when the tracer
 * starts: inherited across exec (inetd, socket activation) or opened
 * before the preload's constructor ran. */
#ifndef SOCKTRACE_STARTUP_H
#define SOCKTRACE_STARTUP_H

#include <stdbool.h>

/* With the lock held. After exec (reopened), entries of fds that are no
 * longer sockets go to history as closed by close-on-exec. Then every
 * socket fd not yet in the table is adopted as inherited. */
void st_scan_fds(bool reopened);

#endif
