/* tracer.c - the endpoint table's write protocol (trace_format.h): build a
 * record, publish it with one compare-and-swap, order calls on one fd by
 * their time windows, ask the kernel where windows overlap. No thread ever
 * waits for another here, so nothing is dropped while the file can grow. */
#define _GNU_SOURCE
#include "tracer.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "newproc.h"
#include "outcome.h"
#include "real.h"
#include "sockaddr_conv.h"
#include "tracefile.h"

int st_on;
int st_tcpinfo = 1;


#define TLS __attribute__((tls_model("initial-exec")))
static __thread int in_vfork_child TLS;
static __thread int cached_tid TLS;
static __thread uint64_t last_ns TLS;
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

uint64_t st_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t t = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    last_ns = t;
    return t;
}

uint64_t st_before(void)
{
    return st_now();
}

uint64_t st_before_loose(void)
{
    return last_ns;
}

static int st_tid(void)
{
    if (!cached_tid)
        cached_tid = (int)syscall(SYS_gettid);
    return cached_tid;
}

/* Socket ids come from blocks of 256 a thread takes at a time: no shared
 * counter on the hot path. The fetch-add on the thread's own word is one
 * instruction, so a signal handler interrupting it gets another id. */
static uint64_t new_sock_id(void)
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

/* The file, made on the first call that needs it. */
static struct st_header *file(void)
{
    struct st_header *h = st_hdr();
    if (h)
        return h;
    const char *why = NULL;
    h = st_trace_create(&why);
    if (!h) {
        __atomic_store_n(&st_on, 0, __ATOMIC_RELAXED);
        st_warn_untraced(why);
    }
    return h;
}

/* fd's slot, making the file and the leaf when needed; NULL (counted as
 * dropped, with its reason, when the file is there) */
static uint64_t *slot_for(int fd)
{
    if (!file())
        return NULL;
    uint64_t *slot = st_slot(fd, true);
    if (!slot && fd >= 0)
        st_drop(st_space_why());
    return slot;
}

static int stall_fd = -1;
static unsigned stall_ms;
static char stall_path[256];

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
        snprintf(stall_path, sizeof stall_path, "%s", end + 1);
    stall_fd = (int)fd;
}

static void stall(int fd)
{
    if (__builtin_expect(fd == stall_fd, 0)) {
        int saved = errno;
        unsigned step = stall_path[0] ? 1 : stall_ms;
        for (unsigned t = 0; t < stall_ms; t += step) {
            if (stall_path[0] && access(stall_path, F_OK) != 0)
                break;
            struct timespec ts = {step / 1000, (long)(step % 1000) * 1000000};
            while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
                ;
        }
        errno = saved;
    }
}

/* What a slot holds. */
enum { K_NONE, K_LIVE, K_TOMB };

/* Copies the record slot word w names (reader protocol). K_NONE for an
 * empty or unknown slot; cur is then empty with a zero window. */
static int read_slot_in(struct st_header *h, const uint64_t *slot, uint64_t *w,
                        struct st_sock *cur)
{
    union {
        struct st_rec_head head;
        struct st_rec_large large;
    } buf;
    for (;;) {
        uint64_t v = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
        *w = v;
        if (!v || (v & ST_W_UNKNOWN) || !h) {
            memset(cur, 0, sizeof *cur);
            return K_NONE;
        }
        const char *rec = st_at_in(h, (uint64_t)(uint32_t)(v & ST_W_GRAN_MASK) * ST_GRANULE);
        if (!rec) {     /* not mapped here (filemap.h): cannot be read */
            memset(cur, 0, sizeof *cur);
            return K_NONE;
        }
        st_load_words(&buf.head, rec, sizeof buf.head);
        uint16_t size = buf.head.size == ST_REC_LARGE ? ST_REC_LARGE : ST_REC_SMALL;
        st_load_words((char *)&buf + sizeof buf.head, rec + sizeof buf.head,
                      size - (uint32_t)sizeof buf.head);
        if (__atomic_load_n(slot, __ATOMIC_RELAXED) != v)
            continue;   /* replaced while we copied: read the new one */
        st_rec_decode(&buf, cur);
        return (v & ST_W_TOMB) ? K_TOMB : K_LIVE;
    }
}

static int read_slot(const uint64_t *slot, uint64_t *w, struct st_sock *cur)
{
    return read_slot_in(st_hdr(), slot, w, cur);
}

bool st_get_in(struct st_header *h, int fd, struct st_sock *s)
{
    if (!h || fd < 0 || (uint32_t)fd >= h->dir_entries * h->leaf_slots)
        return false;
    const uint64_t *dirp = st_at_in(h, h->dir_off);
    uint64_t leaf = __atomic_load_n(&dirp[(uint32_t)fd / h->leaf_slots], __ATOMIC_ACQUIRE);
    const uint64_t *slots = leaf ? st_at_in(h, leaf) : NULL;
    uint64_t w;
    return slots && read_slot_in(h, slots + ST_LEAF_POS((uint32_t)fd % h->leaf_slots),
                                 &w, s) == K_LIVE;
}

enum { OLDER, NEWER, OVERLAP };

/* How what a slot holds stands to a call made in [t_lo, t_hi]. */
static int order_of(int kind, const struct st_sock *cur, uint64_t t_lo,
                    uint64_t t_hi)
{
    if (kind == K_NONE || cur->t_hi < t_lo)
        return OLDER;
    if (cur->t_lo > t_hi)
        return NEWER;
    return OVERLAP;
}

static uint64_t next_word(uint64_t old, uint32_t gran, uint64_t marks)
{
    uint64_t gen = ((old >> ST_W_GEN_SHIFT) + 1) & ST_W_GEN_MASK;
    return gen << ST_W_GEN_SHIFT | gran | marks;
}

/* The last peer noted per fd (direct-mapped; (fd + 1) << 32 | hash): a
 * datagram socket talking to one peer records it once. Forgotten when a
 * new socket takes the fd number. */
#define PEER_CACHE 4096
static uint64_t peer_cache[PEER_CACHE];

static bool is_inet_dgram(const struct st_sock *s)
{
    return s->type == SOCK_DGRAM && (s->family == AF_INET || s->family == AF_INET6);
}

/* The slot word's hints for a socket in state s. */
static uint64_t hints_of(const struct st_sock *s)
{
    uint64_t w = 0;
    if (s->state == ST_STATE_CONNECTING ||
        (is_inet_dgram(s) && (!(s->flags & ST_SF_LOCAL_DONE) || s->local.port == 0)))
        w |= ST_W_HINT_SEND;
    if (is_inet_dgram(s) && s->state != ST_STATE_CONNECTED)
        w |= ST_W_HINT_PEERS;
    return w;
}

unsigned st_watch(int fd)
{
    if (fd < 0)
        return 0;
    if ((uint32_t)fd >= ST_DIR_ENTRIES * ST_LEAF_SLOTS)
        return ST_W_SEND | ST_W_PEERS;
    uint64_t w = st_word(fd);
    if (!w || (w & (ST_W_TOMB | ST_W_UNKNOWN)))
        return 0;
    return ((w & ST_W_HINT_SEND) ? ST_W_SEND : 0) | ((w & ST_W_HINT_PEERS) ? ST_W_PEERS : 0);
}

static void peer_forget(int fd)
{
    if (fd >= 0)
        __atomic_store_n(&peer_cache[fd % PEER_CACHE], 0, __ATOMIC_RELAXED);
}

/* Publishes s in place of the version old names, with the given marks
 * (ST_W_TOMB for a closed socket; ST_W_CLOSING carried over a close in
 * flight). When the file cannot grow the slot is marked unknown and the
 * change is counted as dropped. False when the slot no longer holds old. */
static bool publish(uint64_t *slot, uint64_t old, const struct st_sock *s,
                    uint64_t marks)
{
    uint16_t size = st_rec_size(s);
    uint32_t gran = st_rec_alloc(size);
    char *rec = gran ? st_at((uint64_t)gran * ST_GRANULE) : NULL;
    if (!rec) {
        st_drop(gran ? ST_DROP_ADDR : st_space_why());
        return __atomic_compare_exchange_n(slot, &old, next_word(old, 0, ST_W_UNKNOWN),
                                           false, __ATOMIC_RELEASE, __ATOMIC_RELAXED);
    }
    /* the record may be one a reader is still copying from its old
     * place: our stores must not be seen before what freed it */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    union {
        struct st_rec_small small;
        struct st_rec_large large;
    } buf;
    st_rec_encode(&buf, size, s);
    st_store_words(rec, &buf, size);
    stall(s->fd);
    if (!(marks & ST_W_TOMB))
        marks |= hints_of(s);
    if (!__atomic_compare_exchange_n(slot, &old,
                                     next_word(old, gran, marks),
                                     false, __ATOMIC_RELEASE, __ATOMIC_RELAXED)) {
        st_rec_free(gran, size);
        return false;
    }
    uint32_t old_gran = (uint32_t)(old & ST_W_GRAN_MASK);
    const struct st_rec_head *oh =
        old_gran && !(old & ST_W_UNKNOWN) ? st_at((uint64_t)old_gran * ST_GRANULE) : NULL;
    if (oh) {
        /* unlinked: ours alone now */
        uint16_t osize = __atomic_load_n(&oh->size, __ATOMIC_RELAXED);
        st_rec_free(old_gran, osize == ST_REC_LARGE ? ST_REC_LARGE : ST_REC_SMALL);
    }
    return true;
}

void st_history(const struct st_sock *s)
{
    struct st_header *h = st_hdr();
    uint64_t pos;
    struct st_histrec *r = h ? st_ring_claim(&h->history, &pos) : NULL;
    if (!r)
        return;
    struct st_histrec buf;
    st_hist_encode(&buf, s);
    st_store_words((char *)r + 8, (char *)&buf + 8, sizeof buf - 8);
    st_ring_commit(r, pos);
}

/* A socket the table had for fd whose close this call proves: it closed
 * unseen (a raw syscall) unless a close() marked it and records it. */
static void retire_unseen(int fd, uint64_t w, struct st_sock *old, uint64_t t)
{
    if (w & ST_W_CLOSING)
        return;
    st_set_closed(old);
    old->closed_ns = t;
    old->flags |= ST_SF_CLOSED_UNSEEN;
    st_emit(ST_CALL_UNSEEN, fd, -1, 0, 0, old);
    st_history(old);
}

/* The proofs a call that marks fd's entry closing has made so far. */
struct proofs {
    struct st_sock proved;  /* the version proved (sock_id 0: none) */
    int n;
};
static bool proven(struct st_sock *s, int fd, bool counts, struct proofs *p);

uint64_t st_word(int fd)
{
    uint64_t *slot = st_slot(fd, false);
    return slot ? __atomic_load_n(slot, __ATOMIC_ACQUIRE) : 0;
}

void st_mark(int fd, struct st_mark *m)
{
    uint64_t *slot = st_slot(fd, false);
    m->word = 0;
    m->ours = false;
    if (!slot)
        return;
    struct proofs pr;
    memset(&pr, 0, sizeof pr);
    for (;;) {
        uint64_t w;
        if (read_slot(slot, &w, &m->s) != K_LIVE || (w & ST_W_CLOSING)) {
            m->word = w;
            return;
        }
        /* the socket dup2 displaces must still be there, and is closed
         * with the byte counts a close records (Java NIO closes channels
         * this way) */
        if (!proven(&m->s, fd, true, &pr))
            continue;
        st_outcome_closing(&m->s, fd);
        if (__atomic_compare_exchange_n(slot, &w, w | ST_W_CLOSING, false,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            m->word = w | ST_W_CLOSING;
            m->ours = true;
            return;
        }
    }
}

void st_unmark(int fd, const struct st_mark *m)
{
    uint64_t *slot = st_slot(fd, false), w = m->word;
    if (slot && m->ours)
        __atomic_compare_exchange_n(slot, &w, w & ~ST_W_CLOSING, false,
                                    __ATOMIC_RELEASE, __ATOMIC_RELAXED);
}

bool st_get_at(int fd, struct st_sock *s, uint64_t *word)
{
    uint64_t *slot = st_slot(fd, false), w = 0;
    bool live = slot && read_slot(slot, &w, s) == K_LIVE;
    *word = w;
    return live;
}

bool st_get(int fd, struct st_sock *s)
{
    uint64_t *slot = st_slot(fd, false), w;
    return slot && read_slot(slot, &w, s) == K_LIVE;
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

/* Whether fd is open now (one fcntl). */
static bool fd_open(int fd)
{
    int saved = errno;
    bool open = syscall(SYS_fcntl, fd, F_GETFD) >= 0;
    errno = saved;
    return open;
}

/* What the kernel says fd is; false when it is not a socket. */
static bool kernel_view(int fd, struct st_sock *k)
{
    int family = 0, type = 0, protocol = 0, listening = 0;
    socklen_t l = sizeof(int);
    memset(k, 0, sizeof *k);
    if (st_sys_getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l) != 0)
        return false;
    l = sizeof(int);
    st_sys_getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &l);
    l = sizeof(int);
    st_sys_getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &l);
    l = sizeof(int);
    st_sys_getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &l);
    k->fd = fd;
    k->family = (uint16_t)family;
    k->type = (uint16_t)type;
    k->protocol = (uint16_t)protocol;
    st_ask_local(k, fd);
    st_ask_peer(k, fd);
    if (listening)
        k->state = ST_STATE_LISTENING;
    else if (k->peer.kind != ST_ADDR_NONE)
        k->state = ST_STATE_CONNECTED;
    else if (k->local.kind != ST_ADDR_NONE && k->local.kind != ST_ADDR_UNNAMED &&
             !(st_addr_is_wildcard(&k->local) && k->local.port == 0))
        k->state = ST_STATE_BOUND;
    else
        k->state = ST_STATE_CREATED;
    k->flags = ST_SF_LOCAL_DONE;
    int saved = errno;
    int fdflags = (int)syscall(SYS_fcntl, fd, F_GETFD);
    int flflags = (int)syscall(SYS_fcntl, fd, F_GETFL);
    errno = saved;
    if (fdflags > 0 && (fdflags & FD_CLOEXEC))
        k->flags |= ST_SF_CLOEXEC;
    if (flflags > 0 && (flflags & O_NONBLOCK))
        k->flags |= ST_SF_NONBLOCK;
    return true;
}

/* Whether a recorded socket can be the one the kernel described. A
 * connect in progress has no peer in the kernel's answer yet. */
static bool same_socket(const struct st_sock *a, const struct st_sock *k)
{
    if (a->state == ST_STATE_FREE || a->state == ST_STATE_CLOSED ||
        a->family != k->family || a->type != k->type)
        return false;
    if (!st_addr_same(&a->local, &k->local) && !st_addr_incomplete(&a->local) &&
        a->local.kind != ST_ADDR_NONE)
        return false;
    if (k->peer.kind != ST_ADDR_NONE)
        return a->peer.kind == ST_ADDR_NONE || a->state == ST_STATE_CONNECTING ||
               a->state == ST_STATE_FAILED || (a->flags & ST_SF_PEER_LAST) ||
               st_addr_same(&a->peer, &k->peer);
    return true;
}

/* The kernel's answer k, with what the record a knew of the same socket
 * that the kernel does not say. */
static void merge(struct st_sock *k, const struct st_sock *a)
{
    k->sock_id = a->sock_id;
    k->origin = a->origin;
    k->opened_ns = a->opened_ns;
    k->peers_seen = a->peers_seen;
    k->flags |= a->flags & (ST_SF_PORT_CHOSEN | ST_SF_NO_PORT | ST_SF_SHUT_RD |
                            ST_SF_SHUT_WR | ST_SF_PEERS_MORE | ST_SF_SHARED);
    if (k->peer.kind == ST_ADDR_NONE &&
        (a->state == ST_STATE_CONNECTING || a->state == ST_STATE_FAILED)) {
        k->peer = a->peer;
        k->state = a->state;
    }
    if ((a->flags & ST_SF_PEER_LAST) && k->state != ST_STATE_CONNECTED) {
        k->peer = a->peer;
        k->flags |= ST_SF_PEER_LAST;
    }
}

bool st_ask(int fd, int origin, const struct st_sock *hint_in, struct st_sock *out)
{
    /* callers may pass one record as both */
    struct st_sock hint_copy;
    const struct st_sock *hint = NULL;
    if (hint_in) {
        hint_copy = *hint_in;
        hint = &hint_copy;
    }
    memset(out, 0, sizeof *out);
    uint64_t *slot = slot_for(fd);
    if (!slot)
        return false;
    for (int tries = 0; tries < 8; tries++) {
        uint64_t w;
        struct st_sock cur;
        int kind = read_slot(slot, &w, &cur);
        uint64_t t_lo = st_now();
        struct st_sock k;
        bool sock = kernel_view(fd, &k);
        uint64_t t_hi = st_now();
        if (!sock) {
            if (kind != K_LIVE)
                return false;
            st_set_closed(&cur);
            cur.closed_ns = t_hi;
            cur.t_lo = t_lo;
            cur.t_hi = t_hi;
            cur.flags |= ST_SF_ASKED | ST_SF_CLOSED_UNSEEN;
            if (!publish(slot, w, &cur, ST_W_TOMB))
                continue;
            if (!(w & ST_W_CLOSING)) {
                st_emit(ST_CALL_UNSEEN, fd, -1, 0, 0, &cur);
                st_history(&cur);
            }
            return false;
        }
        /* cur may describe the same socket as the hint: a thread that
         * asked the kernel before the socket's maker published */
        bool cur_same = kind == K_LIVE && same_socket(&cur, &k);
        if (hint && same_socket(hint, &k)) {
            merge(&k, hint);
        } else if (cur_same) {
            merge(&k, &cur);
        } else {
            k.sock_id = new_sock_id();
            k.origin = (uint8_t)origin;
            k.opened_ns = t_hi;
        }
        k.fd = fd;
        k.t_lo = t_lo;
        k.t_hi = t_hi;
        k.flags |= ST_SF_ASKED;
        /* still the socket a close is taking down: the mark stays */
        if (!publish(slot, w, &k, cur_same ? (w & ST_W_CLOSING) : 0))
            continue;
        if (kind == K_LIVE && !cur_same)
            retire_unseen(fd, w, &cur, t_hi);
        if (!cur_same)
            peer_forget(fd);
        *out = k;
        return true;
    }
    /* others kept changing fd all along: what they published stands */
    return st_get(fd, out);
}

bool st_change(int fd, uint64_t base, uint64_t t_lo, st_apply_fn fn,
               void *arg, struct st_sock *out)
{
    memset(out, 0, sizeof *out);
    uint64_t t_hi = st_now();
    uint64_t *slot = slot_for(fd);
    if (!slot)
        return false;
    bool asked = false;
    for (int tries = 0; tries < 8; tries++) {
        uint64_t w;
        struct st_sock cur;
        int kind = read_slot(slot, &w, &cur);
        if (w != base) {
            int ord = order_of(kind, &cur, t_lo, t_hi);
            if (ord == OLDER) {
                base = w;       /* the call acted on what cur describes */
            } else if (ord == NEWER && (kind != K_LIVE || (cur.flags & ST_SF_ASKED))) {
                if (kind == K_LIVE)
                    *out = cur;
                return false;
            } else {
                return st_ask(fd, ST_ORIGIN_FOUND, NULL, out);
            }
        }
        /* a close or dup2 of this fd number in flight: which socket the
         * call acted on is the kernel's to say */
        if (w & ST_W_CLOSING)
            return st_ask(fd, ST_ORIGIN_FOUND, NULL, out);
        /* a socket made by a call no hook sees (io_uring's
         * IORING_OP_SOCKET, an inline syscall): the kernel says what it
         * is, and then this call adds what only it showed (a bind to
         * port 0: the kernel chose the port). The window widens to cover
         * the questions. */
        if (kind != K_LIVE) {
            if (asked)      /* closed again meanwhile */
                return st_ask(fd, ST_ORIGIN_FOUND, NULL, out);
            if (!st_ask(fd, ST_ORIGIN_FOUND, NULL, out))
                return false;
            asked = true;
            base = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
            t_hi = st_now();
            continue;
        }
        struct st_sock next = cur;
        if (!fn(&next, fd, arg)) {
            *out = cur;
            return false;
        }
        next.t_lo = t_lo;
        next.t_hi = t_hi;
        next.flags &= ~ST_SF_ASKED;
        if (publish(slot, w, &next, 0)) {
            *out = next;
            return true;
        }
        base = w;
    }
    return st_ask(fd, ST_ORIGIN_FOUND, NULL, out);
}

bool st_open(int fd, uint64_t t_lo, struct st_sock *s, const struct st_mark *m)
{
    uint64_t t_hi = st_now();
    uint64_t *slot = slot_for(fd);
    if (!slot)
        return false;
    s->fd = fd;
    s->t_lo = t_lo;
    s->t_hi = t_hi;
    if (!s->sock_id)
        s->sock_id = new_sock_id();
    if (!s->opened_ns)
        s->opened_ns = t_hi;
    for (int tries = 0; tries < 8; tries++) {
        uint64_t w;
        struct st_sock cur;
        int kind = read_slot(slot, &w, &cur);
        bool displaced = m && w == m->word;
        if (!displaced) {
            int ord = order_of(kind, &cur, t_lo, t_hi);
            /* a thread that asked the kernel about our socket before we
             * published has it already; our record adds what it knew */
            if (ord == NEWER && kind == K_LIVE && (cur.flags & ST_SF_ASKED) &&
                same_socket(s, &cur))
                return st_ask(fd, s->origin, s, s);
            if (ord == NEWER)
                return false;   /* fd changed again after the call */
            /* The kernel gave us the number, so it was free: a socket
             * closed there (or being closed: marked) is the one that freed
             * it, however the windows lie. Unless a racing close hit our
             * new socket since; then the number is not open now (or the
             * kernel gave it out again, and its new owner publishes). One
             * question tells, where asking everything would take eight. */
            if (ord == OVERLAP && (kind != K_LIVE || (w & ST_W_CLOSING))) {
                if (!fd_open(fd))
                    return false;
            } else if (ord == OVERLAP) {
                return st_ask(fd, s->origin, s, s);
            }
        }
        if (!publish(slot, w, s, 0))
            continue;
        peer_forget(fd);
        if (kind == K_LIVE && !displaced)
            retire_unseen(fd, w, &cur, t_hi);
        return true;
    }
    return st_ask(fd, s->origin, s, s);
}

bool st_flag_apply(struct st_sock *s, int fd, void *arg)
{
    (void)fd;
    const struct st_flag_arg *a = arg;
    if (!!(s->flags & a->bit) == a->set)
        return false;
    s->flags = a->set ? (s->flags | a->bit) : (s->flags & ~a->bit);
    return true;
}

/* TCP states (the kernel's, not exported to user space) after the peer's
 * FIN has arrived. */
enum {
    ST_TCP_TIME_WAIT = 6,
    ST_TCP_CLOSE = 7,
    ST_TCP_CLOSE_WAIT = 8,
    ST_TCP_LAST_ACK = 9,
    ST_TCP_CLOSING = 11,
};

#include <linux/tcp.h>

static bool wants_counters(const struct st_sock *s)
{
    return st_tcpinfo && s->protocol == IPPROTO_TCP && s->type == SOCK_STREAM &&
           (s->state == ST_STATE_CONNECTED || s->state == ST_STATE_CONNECTING);
}

/* One getsockopt before the close, for tcplife-style byte counts. False
 * when the kernel refused: fd is no TCP socket (ENOTSOCK for a pipe or a
 * file, EOPNOTSUPP or ENOPROTOOPT for another kind of socket), or not
 * open. */
static bool tcp_counters(struct st_sock *s, int fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    memset(&ti, 0, sizeof ti);
    if (st_sys_getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
        return false;
    if (len < offsetof(struct tcp_info, tcpi_bytes_received) + 8)
        return true;
    /* The kernel's counters are in sequence numbers: bytes_acked counts
     * an active opener's SYN and our acked FIN, bytes_received the peer's
     * FIN. Data octets sent once (sent minus retransmitted, Linux 4.19)
     * have neither; the peer's FIN is known from the state it leaves. */
    if (len >= offsetof(struct tcp_info, tcpi_bytes_retrans) + 8)
        s->bytes_sent = ti.tcpi_bytes_sent - ti.tcpi_bytes_retrans;
    else
        s->bytes_sent = ti.tcpi_bytes_acked;
    s->bytes_received = ti.tcpi_bytes_received;
    /* A socket shut for writing that then got the peer's FIN is CLOSE
     * (its time-wait lives on without it) with that FIN counted; without
     * our shutdown, CLOSE comes of a reset, and no FIN (Java NIO shuts a
     * registered channel down and closes it at the next select). */
    bool fin_in = ti.tcpi_state == ST_TCP_CLOSE_WAIT || ti.tcpi_state == ST_TCP_LAST_ACK ||
                  ti.tcpi_state == ST_TCP_CLOSING || ti.tcpi_state == ST_TCP_TIME_WAIT ||
                  (ti.tcpi_state == ST_TCP_CLOSE && (s->flags & ST_SF_SHUT_WR));
    if (s->bytes_received && fin_in)
        s->bytes_received--;
    s->rtt_us = ti.tcpi_rtt;
    s->retrans = ti.tcpi_total_retrans;
    s->flags |= ST_SF_TCPINFO;
    return true;
}

/* Whether fd still holds the socket s records. A socket closed behind
 * the tracer's back (a raw system call, an inline one no hook sees)
 * leaves its entry, and the number may since have gone to a pipe, a file,
 * an eventfd or another socket; closing that, dup2ing over it or changing
 * its flags must not be recorded as the old socket's. One question
 * settles most of it: TCP_INFO, which a close of a connected TCP socket
 * reads anyway for the counts (counts), fails on anything but a TCP
 * socket; for the others getsockopt(SO_TYPE) fails on anything but a
 * socket and tells a socket of another type. A socket of the same type
 * made by a raw call stays unseen (a full st_ask on every close would
 * cost eight questions). A wrong "no" only costs the st_ask that follows,
 * which keeps the entry when the kernel's view agrees with it. */
static bool still_there(struct st_sock *s, int fd, bool counts)
{
    if (counts && wants_counters(s))
        return tcp_counters(s, fd);
    int type = 0;
    socklen_t len = sizeof type;
    return st_sys_getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
           type == s->type;
}

/* Whether s, just read again after a slot changed, is the version already
 * proved (its counters are carried over), so that a busy slot is not
 * asked about again and again; after two proofs the entry is taken as it
 * stands (st_ask published it from the kernel's own answers). */
static bool proof_kept(struct st_sock *s, const struct st_sock *proved, int proofs)
{
    if (proofs >= 2)
        return true;
    if (!proved->sock_id || proved->sock_id != s->sock_id)
        return false;
    s->bytes_sent = proved->bytes_sent;
    s->bytes_received = proved->bytes_received;
    s->rtt_us = proved->rtt_us;
    s->retrans = proved->retrans;
    s->flags |= proved->flags & ST_SF_TCPINFO;
    return true;
}

/* Before a call marks fd's entry s (just read) closing: s must still be
 * the socket there. False when it was stale: the kernel's answer is
 * published, and the caller reads the slot again. */
static bool proven(struct st_sock *s, int fd, bool counts, struct proofs *p)
{
    if (proof_kept(s, &p->proved, p->n))
        return true;
    p->n++;
    if (!still_there(s, fd, counts)) {
        struct st_sock k;
        st_ask(fd, ST_ORIGIN_FOUND, NULL, &k);
        return false;
    }
    p->proved = *s;
    return true;
}

bool st_confirm(int fd, const struct st_sock *s)
{
    struct st_sock copy = *s;
    struct proofs pr;
    memset(&pr, 0, sizeof pr);
    return proven(&copy, fd, false, &pr);
}

void st_close_begin(int fd, struct st_closing *c, bool tcp_counts)
{
    c->fd = fd;
    c->marked = false;
    uint64_t *slot = st_slot(fd, false);
    if (!slot)
        return;
    struct proofs pr;
    memset(&pr, 0, sizeof pr);
    c->took_over = false;
    for (;;) {      /* a failed mark means another thread changed the slot */
        uint64_t w;
        if (read_slot(slot, &w, &c->s) != K_LIVE)
            return;     /* nothing we know */
        if (w & ST_W_CLOSING) {
            /* another close marked it: one running now on another thread
             * (it records, unless ours is the close that succeeds), or
             * one a siglongjmp left before its real close (ours records) */
            c->word = w;
            c->t_lo = st_before_loose();
            c->marked = c->took_over = true;
            return;
        }
        /* stale: the kernel's answer retires it as closed unseen (a
         * socket found there instead is closed below) */
        if (!proven(&c->s, fd, tcp_counts, &pr))
            continue;
        st_outcome_closing(&c->s, fd);
        uint64_t marked = w | ST_W_CLOSING;
        if (__atomic_compare_exchange_n(slot, &w, marked, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED)) {
            c->word = marked;
            c->t_lo = st_before_loose();
            c->marked = true;
            return;
        }
    }
}

const struct st_sock *st_close_end(struct st_closing *c, int ret, int err)
{
    if (!c->marked)
        return NULL;
    struct st_sock *s = &c->s;
    /* the close this one took over from did the closing and records it */
    if (c->took_over && ret < 0 && err == EBADF)
        return s;
    uint64_t t_hi = st_now();
    st_outcome_closed(s);
    st_set_closed(s);
    s->closed_ns = t_hi;
    s->t_lo = c->t_lo;
    s->t_hi = t_hi;
    s->flags &= ~ST_SF_ASKED;
    if (ret < 0 && err == EBADF)
        s->flags |= ST_SF_CLOSED_UNSEEN;    /* it was gone already */
    uint64_t *slot = st_slot(c->fd, false);
    bool record = true;
    for (int tries = 0; slot && tries < 8; tries++) {
        if (publish(slot, c->word, s, ST_W_TOMB))
            break;
        /* the slot changed while we closed */
        uint64_t w;
        struct st_sock cur, out;
        int kind = read_slot(slot, &w, &cur);
        if ((cur.sock_id == s->sock_id && kind == K_TOMB && !(cur.flags & ST_SF_ASKED)) ||
            c->took_over) {
            /* a close that took over from us recorded it; or we took over
             * a mark whose owner is alive after all and records. (A
             * tombstone a thread asking the kernel put there, ASKED, left
             * the record to us.) */
            record = false;
            if (c->took_over && kind == K_LIVE && (w & ST_W_CLOSING) &&
                cur.sock_id == s->sock_id) {
                c->word = w;
                record = true;
                continue;
            }
            break;
        }
        if (cur.sock_id == s->sock_id && kind == K_LIVE && (w & ST_W_CLOSING)) {
            c->word = w;        /* changed, still marked: still ours to close */
            continue;
        }
        /* the number changed hands: what is there now came after our
         * close, unless our close hit it (a program closing a number it
         * no longer owned); then the number is not open now */
        if (kind == K_LIVE && order_of(kind, &cur, c->t_lo, t_hi) != NEWER &&
            !fd_open(c->fd))
            st_ask(c->fd, ST_ORIGIN_FOUND, NULL, &out);
        break;
    }
    if (record)
        st_history(s);
    return s;
}

struct range_arg {
    int call;
    uint64_t t_lo;      /* before the real call */
};

static void mark_one(int fd, uint64_t *slot, void *arg)
{
    (void)arg;
    struct st_sock s;
    struct proofs pr;
    memset(&pr, 0, sizeof pr);
    for (;;) {
        uint64_t w;
        if (read_slot(slot, &w, &s) != K_LIVE || (w & ST_W_CLOSING))
            return;
        /* a stale entry is retired unseen, not closed by this call */
        if (!proven(&s, fd, false, &pr))
            continue;
        if (__atomic_compare_exchange_n(slot, &w, w | ST_W_CLOSING, false,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            return;
    }
}

void st_range_begin(int lo, int hi)
{
    st_slot_each(lo, hi, mark_one, NULL);
}

static void close_one(int fd, uint64_t *slot, void *arg)
{
    struct range_arg *a = arg;
    struct st_closing c = {.fd = fd, .marked = true, .took_over = false,
                           .t_lo = a->t_lo};
    if (read_slot(slot, &c.word, &c.s) != K_LIVE || !(c.word & ST_W_CLOSING))
        return;
    const struct st_sock *s = st_close_end(&c, 0, 0);
    if (s)
        st_emit(a->call, fd, -1, 0, 0, s);
}

void st_range_end(int lo, int hi, int call, uint64_t t_lo)
{
    struct range_arg a = {call, t_lo};
    st_slot_each(lo, hi, close_one, &a);
}

static void unmark_one(int fd, uint64_t *slot, void *arg)
{
    (void)fd;
    (void)arg;
    uint64_t w = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    while ((w & ST_W_CLOSING) &&
           !__atomic_compare_exchange_n(slot, &w, w & ~ST_W_CLOSING, false,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        ;
}

void st_range_abort(int lo, int hi)
{
    st_slot_each(lo, hi, unmark_one, NULL);
}

static bool set_cloexec(struct st_sock *s, int fd, void *arg)
{
    (void)fd;
    (void)arg;
    if (s->flags & ST_SF_CLOEXEC)
        return false;
    s->flags |= ST_SF_CLOEXEC;
    return true;
}

static void cloexec_one(int fd, uint64_t *slot, void *arg)
{
    uint64_t t_lo = *(const uint64_t *)arg, w;
    struct st_sock cur, out;
    if (read_slot(slot, &w, &cur) != K_LIVE)
        return;
    /* an entry published since the call began may be a socket the call
     * never saw: the kernel says whether it is close-on-exec */
    if (cur.t_hi < t_lo)
        st_change(fd, w, t_lo, set_cloexec, NULL, &out);
    else
        st_ask(fd, ST_ORIGIN_FOUND, NULL, &out);
}

void st_range_cloexec(int lo, int hi, uint64_t t_lo)
{
    st_slot_each(lo, hi, cloexec_one, &t_lo);
}

static void sweep_one(int fd, uint64_t *slot, void *arg)
{
    (void)arg;
    struct st_sock s;
    uint64_t w;
    if (read_slot(slot, &w, &s) != K_LIVE)
        return;
    struct stat st;
    int saved = errno;
    bool sock = st_fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
    errno = saved;
    if (sock)
        return;     /* the scan that follows asks the kernel about it */
    uint64_t t = st_now();
    st_set_closed(&s);
    s.closed_ns = t;
    s.t_lo = s.t_hi = t;
    s.flags |= (s.flags & ST_SF_CLOEXEC) ? ST_SF_CLOSED_EXEC : ST_SF_CLOSED_UNSEEN;
    if (publish(slot, w, &s, ST_W_TOMB)) {
        st_emit(ST_CALL_CLOSE, fd, -1, 0, 0, &s);
        st_history(&s);
    }
}

void st_exec_sweep(void)
{
    st_slot_each(0, INT32_MAX, sweep_one, NULL);
}

/* At exit, before the kernel closes what is left: an entry whose fd no
 * longer holds its socket was closed by a call no hook sees (io_uring's
 * IORING_OP_CLOSE, an inline syscall), and must not be left in the table
 * as open at the end. One getsockname per entry tells: it fails on a
 * number that is free or no socket (the entry goes to history, closed
 * unseen and found so at exit), and names another socket made unseen on
 * the number (the kernel's answer replaces the entry). */
static void exit_one(int fd, uint64_t *slot, void *arg)
{
    (void)arg;
    struct st_sock s;
    uint64_t w;
    if (read_slot(slot, &w, &s) != K_LIVE || (w & ST_W_CLOSING))
        return;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int saved = errno;
    int r = (int)syscall(SYS_getsockname, fd, (struct sockaddr *)&ss, &len);
    int why = errno;
    errno = saved;
    if (r == 0) {
        struct st_addr now;
        st_addr_from(&now, (struct sockaddr *)&ss, len, s.family);
        if (ss.ss_family != s.family ||
            (s.local.kind != ST_ADDR_NONE && !st_addr_incomplete(&s.local) &&
             !st_addr_incomplete(&now) && !st_addr_same(&s.local, &now))) {
            struct st_sock k;
            st_ask(fd, ST_ORIGIN_FOUND, NULL, &k);
        }
        return;     /* still the socket: the exit closes it */
    }
    /* some families answer no getsockname at all (AF_ALG, AF_KCM:
     * EOPNOTSUPP): only these two say the number holds no socket now */
    if (why != EBADF && why != ENOTSOCK)
        return;
    uint64_t t = st_now();
    st_set_closed(&s);
    s.closed_ns = t;
    s.t_lo = s.t_hi = t;
    s.flags &= ~ST_SF_ASKED;
    s.flags |= ST_SF_CLOSED_UNSEEN | ST_SF_GONE_AT_EXIT;
    if (publish(slot, w, &s, ST_W_TOMB)) {
        st_emit(ST_CALL_UNSEEN, fd, -1, 0, 0, &s);
        st_history(&s);
    }
}

bool st_exit_sweep(void)
{
    if (in_vfork_child || !__atomic_load_n(st_self_mark, __ATOMIC_RELAXED))
        return false;
    int saved = errno;
    st_slot_each(0, INT32_MAX, exit_one, NULL);
    errno = saved;
    return true;
}

void st_emit(int call, int fd, int fd2, long ret, int err,
             const struct st_sock *s)
{
    static const struct st_addr none;
    st_emit_addrs(call, fd, fd2, ret, err, s ? &s->local : &none,
                  s ? &s->peer : &none, s ? s->sock_id : 0);
}

void st_emit_addrs(int call, int fd, int fd2, long ret, int err,
                   const struct st_addr *local, const struct st_addr *peer,
                   uint64_t sock_id)
{
    struct st_header *h = file();
    uint64_t pos;
    struct st_evrec *r = h ? st_ring_claim(&h->events, &pos) : NULL;
    if (!r)
        return;
    struct st_evrec ev;
    ev.word = 0;
    ev.ns = last_ns ? last_ns : st_now();
    ev.sock_id = sock_id;
    ev.call = (uint16_t)call;
    ev.reserved = 0;
    ev.tid = st_tid();
    ev.fd = fd;
    ev.fd2 = fd2;
    ev.ret = (int32_t)ret;
    ev.err = ret < 0 ? err : 0;
    st_caddr_from(&ev.local, local);
    st_caddr_from(&ev.peer, peer);
    st_store_words((char *)r + 8, (char *)&ev + 8, sizeof ev - 8);
    st_ring_commit(r, pos);
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
    id_next = id_end = 0;
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

void st_name_push(int family, const uint8_t addr[16], const char *host,
                  uint64_t ns)
{
    struct st_header *h = file();
    if (!h)
        return;
    struct st_ring *r = &h->names;
    /* a program that resolves the same name for every request must not
     * push older names out: a pair already held is not written again (two
     * threads resolving at once may both write it: harmless) */
    uint64_t head = __atomic_load_n(&r->head.v, __ATOMIC_ACQUIRE);
    uint64_t first = head > r->cap ? head - r->cap : 0;
    size_t n = strnlen(host, ST_HOST_MAX - 1);
    for (uint64_t i = head; i-- > first;) {
        struct st_namerec rec;
        if (st_ring_read(h, r, i, &rec) && rec.family == family &&
            memcmp(rec.addr, addr, 16) == 0 && strncmp(rec.host, host, n) == 0 &&
            rec.host[n] == 0)
            return;
    }
    uint64_t pos;
    struct st_namerec *slot = st_ring_claim(r, &pos);
    if (!slot)
        return;
    struct st_namerec rec;
    memset(&rec, 0, sizeof rec);
    rec.family = (uint16_t)family;
    rec.ns = ns;
    memcpy(rec.addr, addr, 16);
    memcpy(rec.host, host, n);
    st_store_words((char *)slot + 8, (char *)&rec + 8, sizeof rec - 8);
    st_ring_commit(slot, pos);
}
