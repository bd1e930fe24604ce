/* hooks.h - what the hook files share: how a hook reaches the real call,
 * and the export marker. Only hooks_*.c define libc names. */
#ifndef SOCKTRACE_HOOKS_H
#define SOCKTRACE_HOOKS_H

#include <sys/syscall.h>
#include <unistd.h>

#include "real.h"

#define ST_EXPORT __attribute__((visibility("default")))

/* True when st_real.fn can be called, looking it up on first use; false
 * only while a lookup is running on this thread, when the hook falls back to
 * the raw system call. */
/* The real function, read once: another thread may be storing it. */
#define REAL(fn) __atomic_load_n(&st_real.fn, __ATOMIC_ACQUIRE)

#define NEED(fn) (__atomic_load_n(&st_real.fn, __ATOMIC_ACQUIRE) || \
                  st_real_resolve_one((void **)&st_real.fn, #fn, (void *)&fn))

/* Failed calls whose failure says nothing about endpoints: recorded as
 * events they would only flood the ring (a non-blocking server meets
 * EAGAIN on every wake-up). */
#define ST_QUIET_ERR(e) ((e) == EAGAIN || (e) == EWOULDBLOCK || (e) == EINTR)

#endif
