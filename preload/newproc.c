/* newproc.c - one page the kernel empties in every child that does not
 * share our memory (MADV_WIPEONFORK): a child made by a call no hook sees
 * finds it empty at its first hooked call, before anything is recorded,
 * and takes the forked child's path (init.c). It costs each hook two loads,
 * where asking the kernel for the pid would cost a system call. */
#define _GNU_SOURCE
#include "newproc.h"

#include <errno.h>
#include <sys/mman.h>

#include "tracer.h"

#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK 18
#endif

static const uint32_t always = 1;
const uint32_t *st_self_mark = &always;
static uint32_t *page;
/* set while a child takes its path: the hooks that come meanwhile (another
 * thread, a signal handler) pass through untraced rather than wait */
static int switching;
static void (*child_start)(void);

void st_newproc_arm(void (*start)(void))
{
    child_start = start;
    int saved = errno;
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED && madvise(p, 4096, MADV_WIPEONFORK) != 0) {
        munmap(p, 4096);
        p = MAP_FAILED;
    }
    if (p != MAP_FAILED) {
        page = p;
        __atomic_store_n(page, 1, __ATOMIC_RELAXED);
        __atomic_store_n(&st_self_mark, page, __ATOMIC_RELEASE);
    }
    errno = saved;
}

void st_newproc_child(void)
{
    /* told already (the gate came first, or fork's handler), or memory
     * shared with the parent: nothing to do */
    if (page && __atomic_load_n(page, __ATOMIC_ACQUIRE))
        return;
    if (__atomic_exchange_n(&switching, 1, __ATOMIC_ACQUIRE))
        return;
    if (child_start)
        child_start();
    if (page)
        __atomic_store_n(page, 1, __ATOMIC_RELEASE);
    __atomic_store_n(&switching, 0, __ATOMIC_RELEASE);
}

bool st_newproc_enter(void)
{
    st_newproc_child();
    return __atomic_load_n(page, __ATOMIC_ACQUIRE) &&
           __atomic_load_n(&st_on, __ATOMIC_RELAXED);
}
