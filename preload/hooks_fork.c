/* hooks_fork.c - _Fork (glibc 2.34, musl 1.2.3): fork without the atfork
 * handlers, so its child is told here, as fork()'s is by our handler, that
 * it is a process of its own. libc's fork() calls its own _Fork inside
 * libc, not this one. */
#define _GNU_SOURCE
#include <errno.h>
#include <unistd.h>

#include "hooks.h"
#include "newproc.h"

pid_t _Fork(void);

ST_EXPORT pid_t _Fork(void)
{
    /* no _Fork behind us: a libc older than it, where only a lookup of
     * the name could have brought a program here */
    if (!NEED(_Fork)) {
        errno = ENOSYS;
        return -1;
    }
    pid_t pid = REAL(_Fork)();
    if (pid == 0) {
        int saved = errno;
        st_newproc_child();
        errno = saved;
    }
    return pid;
}
