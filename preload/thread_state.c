/* thread_state.c - what each thread keeps for the write path: whether it may
 * record (tracing on, not a vfork child, not a child made unseen), its
 * clock reading, its tid and its block of socket ids. */
#define _GNU_SOURCE
#include "tracer.h"

#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "newproc.h"
#include "tracefile.h"
#include "file_space.h"
#include "write_path.h"

int st_on;
int st_tcpinfo = 1;


#define TLS __attribute__((tls_model("initial-exec")))
static __thread int in_vfork_child TLS;
static __thread int cached_tid TLS;
static __thread uint64_t last_ns TLS;
/* A clock reading taken after the real call of the hook running now, 0
 * while there is none: an event is stamped with it, or with a reading of
 * its own. A hook's start (st_before, st_before_loose) clears it, so no
 * event carries the time of an earlier call. */
static __thread uint64_t call_ns TLS;
static __thread uint64_t id_next TLS, id_end TLS;

bool st_active(void)
{
    if (!__atomic_load_n(&st_on, __ATOMIC_RELAXED) || in_vfork_child)
        return false;
    /* a child made by a call no hook saw still has its parent's file
     * mapped: it gets its own before this call records anything */
    if (__builtin_expect(!__atomic_load_n(__atomic_load_n(&st_self_mark, __ATOMIC_RELAXED),
                                          __ATOMIC_RELAXED), 0))
        return st_newproc_enter();
    return true;
}

static uint64_t clock_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t t = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    last_ns = t;
    return t;
}

uint64_t st_now(void)
{
    uint64_t t = clock_now();
    call_ns = t;
    return t;
}

uint64_t st_before(void)
{
    call_ns = 0;
    return clock_now();
}

uint64_t st_before_loose(void)
{
    call_ns = 0;
    return last_ns;
}

uint64_t st_call_ns(void)
{
    uint64_t t = call_ns;
    return t ? t : st_now();
}

int st_tid(void)
{
    if (!cached_tid)
        cached_tid = (int)syscall(SYS_gettid);
    return cached_tid;
}

/* Socket ids come from blocks of 256 a thread takes at a time: no shared
 * counter on the hot path. The fetch-add on the thread's own word is one
 * instruction, so a signal handler interrupting it gets another id. */
uint64_t st_new_sock_id(void)
{
    uint64_t id = __atomic_fetch_add(&id_next, 1, __ATOMIC_RELAXED);
    if (id && id < __atomic_load_n(&id_end, __ATOMIC_RELAXED))
        return id;
    uint64_t b = st_id_block(256);
    __atomic_store_n(&id_end, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&id_next, b + 1, __ATOMIC_RELAXED);
    __atomic_store_n(&id_end, b + 256, __ATOMIC_RELAXED);
    return b;
}

bool st_in_vfork_child(void)
{
    return in_vfork_child;
}

void st_vfork_child(void)
{
    in_vfork_child = 1;
}

/* the sanitizer build (gcc says so with a macro, clang with a feature) */
#if defined(__SANITIZE_ADDRESS__)
#define ST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ST_ASAN 1
#endif
#endif

#ifdef ST_ASAN
void __asan_handle_vfork(void *sp);
#endif

void st_vfork_parent(void *sp)
{
    in_vfork_child = 0;
#ifdef ST_ASAN
    /* the child's instrumented frames (a hook it called, an exec made from
     * inside one) left their poison in the shadow of the stack we share:
     * what the sanitizer's own vfork does for the parent. Only vfork()
     * passes through its vfork first, syscall(SYS_vfork) does not. */
    __asan_handle_vfork(sp);
#else
    (void)sp;
#endif
}

void st_tracer_after_fork(void)
{
    cached_tid = 0;
    call_ns = 0;    /* the forking thread's last call is not the child's */
    id_next = id_end = 0;
}
