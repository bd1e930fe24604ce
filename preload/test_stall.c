/* test_stall.c - SOCKTRACE_TEST_STALL: holds a writer between building a
 * record and publishing it, so tests can race other threads against a
 * writer stopped at the worst moment. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "portable.h"
#include "tracer.h"
#include "write_path.h"

static int stall_fd = -1;
static unsigned stall_ms;
char st_stall_path[256] ST_BSS_LAST;

/* FD:MS sleeps MS ms; FD:MS:PATH sleeps while PATH exists, MS at most,
 * so a test can hold a writer for as long as it needs on a slow machine */
void st_test_stall_setup(const char *spec)
{
    char *end;
    long fd = strtol(spec, &end, 10);
    if (*end != ':' || fd < 0)
        return;
    stall_ms = (unsigned)strtoul(end + 1, &end, 10);
    if (*end == ':')
        snprintf(st_stall_path, sizeof st_stall_path, "%s", end + 1);
    stall_fd = (int)fd;
}

void st_test_stall(int fd)
{
    if (__builtin_expect(fd == stall_fd, 0)) {
        int saved = errno;
        unsigned step = st_stall_path[0] ? 1 : stall_ms;
        for (unsigned t = 0; t < stall_ms; t += step) {
            if (st_stall_path[0] && access(st_stall_path, F_OK) != 0)
                break;
            struct timespec ts = {step / 1000, (long)(step % 1000) * 1000000};
            while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
                ;
        }
        errno = saved;
    }
}
