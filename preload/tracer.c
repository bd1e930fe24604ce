/* tracer.c - the lock and the table operations the hooks are built from.
 * The lock is a spinlock with a bound: a hook never waits for long, it
 * drops its record and counts the drop (DESIGN.md, "never in the way"). */
#define _GNU_SOURCE
#include "tracer.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fdindex.h"
#include "real.h"
#include "sockaddr_conv.h"
#include "tracefile.h"

int st_on;
int st_tcpinfo = 1;

static int lockword;
static __thread int inside __attribute__((tls_model("initial-exec")));
static __thread int cached_tid __attribute__((tls_model("initial-exec")));
static uint64_t next_sock_id;

/* The lock word: 0 free, 1 held, 2 held with sleepers (a futex). The
 * wait is bounded: a short spin, then sleeping on the futex for at most
 * WAIT_NS in all. Sleeping, not yielding: with more threads than cores the
 * holder is often preempted, and only a sleeper gives it a CPU back. */
#define SPINS 1000
#define WAIT_NS 20000000ull
/* fork waits longer: the lock is not fair, and a forking thread that
 * other busy threads keep beating to it would leave its child untraced */
#define FORK_WAIT_NS 1000000000ull
#define PENDING 64
static int pending[PENDING];    /* fd + 1 of queued closes, 0 = empty */
/* How many are queued: every unlock reads this one word instead of
 * sweeping the queue. Raised after a slot is filled, lowered when one is
 * taken, so it can dip below zero for a moment: only "not zero" matters. */
static int pending_n;

/* One clock read per intercepted call: the entry opened or closed and the
 * event that records it carry the same time. Guarded by the lock, and
 * forgotten whenever the lock is taken (the constructor sets it unlocked). */
static uint64_t call_ns;

static uint64_t call_now(void)
{
    if (!call_ns)
        call_ns = st_now();
    return call_ns;
}

static bool try_lock(void)
{
    int expect = 0;
    if (!__atomic_compare_exchange_n(&lockword, &expect, 1, false,
                                     __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return false;
    call_ns = 0;
    return true;
}

static void unlock(void)
{
    if (__atomic_exchange_n(&lockword, 0, __ATOMIC_SEQ_CST) == 2) {
        int saved = errno;
        syscall(SYS_futex, &lockword, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
        errno = saved;
    }
}

/* Sleeps until the lock is ours (true) or the deadline passes (false). */
static bool lock_slow(uint64_t wait_ns)
{
    uint64_t deadline = st_now() + wait_ns;
    int saved = errno;
    bool got = false;
    for (;;) {
        /* mark the lock as having sleepers; we own it if it was free */
        if (__atomic_exchange_n(&lockword, 2, __ATOMIC_ACQUIRE) == 0) {
            call_ns = 0;
            got = true;
            break;
        }
        uint64_t now = st_now();
        if (now >= deadline)
            break;
        struct timespec ts = {(time_t)((deadline - now) / 1000000000u),
                              (long)((deadline - now) % 1000000000u)};
        syscall(SYS_futex, &lockword, FUTEX_WAIT_PRIVATE, 2, &ts, NULL, 0);
    }
    errno = saved;
    return got;
}

static void drop(void)
{
    struct st_header *h = st_hdr();
    if (h)
        __atomic_add_fetch(&h->dropped, 1, __ATOMIC_RELAXED);
}

static bool enter_within(uint64_t wait_ns)
{
    if (!__atomic_load_n(&st_on, __ATOMIC_RELAXED))
        return false;
    if (inside) {
        if (inside == 1)
            drop();
        return false;
    }
    /* `inside` is raised before the lock is tried and lowered after it is
     * released: a signal arriving between the two must not make its
     * handler wait for a lock its own thread holds */
    inside = 1;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    for (int i = 0; i < SPINS; i++) {
        if (__atomic_load_n(&lockword, __ATOMIC_RELAXED) == 0 && try_lock())
            return true;
        __builtin_ia32_pause();
    }
    if (lock_slow(wait_ns))
        return true;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    inside = 0;
    drop();
    return false;
}

bool st_enter(void)
{
    return enter_within(WAIT_NS);
}

bool st_enter_for_fork(void)
{
    return enter_within(FORK_WAIT_NS);
}

static bool pending_any(void)
{
    return __atomic_load_n(&pending_n, __ATOMIC_SEQ_CST) != 0;
}

static void drain_pending(void)
{
    if (!pending_any())
        return;
    for (int i = 0; i < PENDING; i++) {
        int v = __atomic_exchange_n(&pending[i], 0, __ATOMIC_SEQ_CST);
        if (v) {
            __atomic_sub_fetch(&pending_n, 1, __ATOMIC_SEQ_CST);
            struct st_sock *s = st_find(v - 1);
            if (s) {
                st_emit(ST_CALL_CLOSE, v - 1, -1, 0, 0, s);
                st_close_entry(v - 1, 0);
            }
        }
    }
}

/* The queue is drained before every unlock, and checked again after it:
 * a close queued while we held the lock is applied by us, one queued
 * after our check by its own thread, which then finds the lock free. */
void st_leave(void)
{
    for (;;) {
        drain_pending();
        unlock();
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        inside = 0;
        if (!pending_any())
            return;
        inside = 1;
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        if (!try_lock()) {
            inside = 0;     /* the holder drains what is queued */
            return;
        }
    }
}

void st_defer_close(int fd)
{
    if (!__atomic_load_n(&st_on, __ATOMIC_RELAXED) || fd < 0)
        return;
    for (int i = 0; i < PENDING; i++) {
        int expect = 0;
        if (__atomic_compare_exchange_n(&pending[i], &expect, fd + 1, false,
                                        __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
            __atomic_add_fetch(&pending_n, 1, __ATOMIC_SEQ_CST);
            /* not inside: the holder is another thread, or nobody */
            if (!inside) {
                inside = 1;
                __atomic_signal_fence(__ATOMIC_SEQ_CST);
                if (try_lock())
                    st_leave();
                else
                    inside = 0;
            }
            return;
        }
    }
    drop();
}

void st_tracer_after_fork(void)
{
    lockword = 0;
    pending_n = 0;
    memset(pending, 0, sizeof pending);
    inside = 0;
    cached_tid = 0;
}


/* What a data call on fd may tell us, readable without the lock: the
 * send path of a socket with nothing left to learn costs one load. */
#define WATCH_FDS 65536
static uint8_t watch[WATCH_FDS];
/* The last peer noted per fd (direct-mapped; (fd + 1) << 32 | hash): a
 * datagram socket talking to one peer takes the lock only once. */
#define PEER_CACHE 4096
static uint64_t peer_cache[PEER_CACHE];

static bool is_inet_dgram(const struct st_sock *s)
{
    return s->type == SOCK_DGRAM && (s->family == AF_INET || s->family == AF_INET6);
}

void st_watch_update(int fd, const struct st_sock *s)
{
    unsigned w = 0;
    if (s && s->state != ST_STATE_CLOSED) {
        if (s->state == ST_STATE_CONNECTING ||
            (is_inet_dgram(s) && (!(s->flags & ST_SF_LOCAL_DONE) || s->local.port == 0)))
            w |= ST_W_SEND;
        if (is_inet_dgram(s) && s->state != ST_STATE_CONNECTED)
            w |= ST_W_PEERS;
    }
    if (fd >= 0 && fd < WATCH_FDS)
        __atomic_store_n(&watch[fd], (uint8_t)w, __ATOMIC_RELAXED);
    if (fd >= 0)
        __atomic_store_n(&peer_cache[fd % PEER_CACHE], 0, __ATOMIC_RELAXED);
}

unsigned st_watch(int fd)
{
    if (fd < 0)
        return 0;
    if (fd >= WATCH_FDS)
        return ST_W_SEND | ST_W_PEERS;
    return __atomic_load_n(&watch[fd], __ATOMIC_RELAXED);
}

bool st_peer_cached(int fd, uint32_t hash)
{
    uint64_t key = (uint64_t)(fd + 1) << 32 | hash;
    return __atomic_load_n(&peer_cache[fd % PEER_CACHE], __ATOMIC_RELAXED) == key;
}

void st_peer_cache(int fd, uint32_t hash)
{
    __atomic_store_n(&peer_cache[fd % PEER_CACHE],
                     (uint64_t)(fd + 1) << 32 | hash, __ATOMIC_RELAXED);
}

uint64_t st_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int st_tid(void)
{
    if (!cached_tid)
        cached_tid = (int)syscall(SYS_gettid);
    return cached_tid;
}

struct st_sock *st_find(int fd)
{
    int64_t id = st_index_find(fd);
    return id < 0 ? NULL : st_slot((uint32_t)id);
}

void st_edit(struct st_sock *s)
{
    st_rec_begin(&s->seq);
}

/* What dup aliases share: one socket, so one set of endpoints and one
 * file status (O_NONBLOCK); close-on-exec and close bookkeeping are per fd. */
#define ALIAS_FLAGS (~(ST_SF_CLOEXEC | ST_SF_CLOSING | ST_SF_TCPINFO | \
                      ST_SF_CLOSED_UNSEEN | ST_SF_CLOSED_EXEC))

static void sync_alias(int fd, uint32_t slot, void *arg)
{
    const struct st_sock *src = arg;
    struct st_sock *s = st_slot(slot);
    if (s == src || s->sock_id != src->sock_id)
        return;
    st_rec_begin(&s->seq);
    s->local = src->local;
    s->peer = src->peer;
    s->state = src->state;
    s->peers_seen = src->peers_seen;
    s->flags = (s->flags & ~ALIAS_FLAGS) | (src->flags & ALIAS_FLAGS);
    st_rec_end(&s->seq);
    st_watch_update(fd, s);
}

/* A change made through one alias is a change of every alias. Aliases are
 * rare, so finding them walks the index rather than costing every entry a
 * link. */
void st_done(struct st_sock *s)
{
    st_rec_end(&s->seq);
    if ((s->flags & ST_SF_SHARED) && s->state != ST_STATE_CLOSED &&
        s->state != ST_STATE_FREE)
        st_index_each(sync_alias, s);
}

void st_close_entry(int fd, uint32_t flags)
{
    st_watch_update(fd, NULL);
    int64_t id = st_index_remove(fd);
    if (id >= 0)
        st_close_slot((uint32_t)id, flags);
}

void st_close_slot(uint32_t id, uint32_t flags)
{
    struct st_sock *s = st_slot(id);
    st_edit(s);
    s->flags = (s->flags | flags) & ~ST_SF_CLOSING;
    s->closed_ns = call_now();
    s->state = ST_STATE_CLOSED;
    st_done(s);
    st_history_push(s);
    st_slot_release(id);
    st_hdr()->open_count--;
}

struct st_sock *st_open_entry(int fd, int family, int type, int protocol,
                              int origin)
{
    struct st_sock *old = st_find(fd);
    if (old) {
        /* a close in progress on another thread is a real close */
        uint32_t unseen = (old->flags & ST_SF_CLOSING) ? 0 : ST_SF_CLOSED_UNSEEN;
        if (unseen)
            st_emit(ST_CALL_UNSEEN, fd, -1, 0, 0, old);
        st_close_entry(fd, unseen);
    }
    int64_t id = st_slot_alloc();
    if (id < 0) {
        drop();
        return NULL;
    }
    if (st_index_add(fd, (uint32_t)id) != 0) {
        st_slot_release((uint32_t)id);
        drop();
        return NULL;
    }
    struct st_sock *s = st_slot((uint32_t)id);
    st_edit(s);
    s->fd = fd;
    s->sock_id = ++next_sock_id;
    s->opened_ns = call_now();
    s->family = (uint16_t)family;
    s->type = (uint16_t)type;
    s->protocol = (uint16_t)protocol;
    s->state = ST_STATE_CREATED;
    s->origin = (uint8_t)origin;
    st_done(s);
    st_watch_update(fd, s);
    struct st_header *h = st_hdr();
    h->open_count++;
    h->socks_total++;
    return s;
}

bool st_nested(void)
{
    return inside == 1;
}

/* A vfork child runs on its parent's thread, stack and memory until it
 * execs: its calls must not touch the parent's table, and the mark in the
 * thread's own word keeps the parent's other threads traced meanwhile. */
#define IN_VFORK_CHILD 2

void st_vfork_child(void)
{
    inside = IN_VFORK_CHILD;
}

void st_vfork_parent(void)
{
    inside = 0;
}

void st_emit(int call, int fd, int fd2, long ret, int err,
             const struct st_sock *s)
{
    static const struct st_addr none;
    st_emit_addrs(call, fd, fd2, ret, err, s ? &s->local : &none,
                  s ? &s->peer : &none);
}

void st_emit_addrs(int call, int fd, int fd2, long ret, int err,
                   const struct st_addr *local, const struct st_addr *peer)
{
    struct st_event ev;
    memset(&ev, 0, offsetof(struct st_event, local));
    ev.call = (uint16_t)call;
    ev.ns = call_now();
    ev.ret = ret;
    ev.err = ret < 0 ? err : 0;
    ev.tid = st_tid();
    ev.fd = fd;
    ev.fd2 = fd2;
    ev.local = *local;
    ev.peer = *peer;
    st_event_push(&ev);
}

void st_ask_local(struct st_sock *s, int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (st_sys_getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
        st_addr_from(&s->local, (struct sockaddr *)&ss, len, s->family);
}

void st_ask_peer(struct st_sock *s, int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (st_sys_getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
        st_addr_from(&s->peer, (struct sockaddr *)&ss, len, s->family);
}

struct st_sock *st_adopt(int fd, int origin)
{
    int family = 0, type = 0, protocol = 0, listening = 0;
    socklen_t l = sizeof(int);
    if (st_sys_getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l) != 0)
        return NULL;        /* not a socket */
    l = sizeof(int);
    st_sys_getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &l);
    l = sizeof(int);
    st_sys_getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &l);
    l = sizeof(int);
    st_sys_getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &l);
    struct st_sock *s = st_open_entry(fd, family, type, protocol, origin);
    if (!s)
        return NULL;
    st_edit(s);
    st_ask_local(s, fd);
    st_ask_peer(s, fd);
    if (listening)
        s->state = ST_STATE_LISTENING;
    else if (s->peer.kind != ST_ADDR_NONE)
        s->state = ST_STATE_CONNECTED;
    else if ((s->local.kind != ST_ADDR_NONE && s->local.kind != ST_ADDR_UNNAMED &&
              !(st_addr_is_wildcard(&s->local) && s->local.port == 0)))
        s->state = ST_STATE_BOUND;
    s->flags |= ST_SF_LOCAL_DONE;
    int saved = errno;
    int fdflags = (int)syscall(SYS_fcntl, fd, F_GETFD);
    errno = saved;
    if (fdflags > 0 && (fdflags & FD_CLOEXEC))
        s->flags |= ST_SF_CLOEXEC;
    st_done(s);
    st_watch_update(fd, s);
    return s;
}
