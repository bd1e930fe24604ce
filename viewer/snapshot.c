/* snapshot.c - reads a trace file. The file is mapped read-only and copied
 * record by record under its seqlock. A file truncated under us would
 * raise SIGBUS on a mapped page: a guard turns that into an error. */
#define _GNU_SOURCE
#include "snapshot.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trace_read.h"
#include "tracedir.h"

#define RETRIES 64

static void fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int by_fd(const void *a, const void *b)
{
    const struct st_sock *x = a, *y = b;
    return (x->fd > y->fd) - (x->fd < y->fd);
}

/* monotonic (records) to CLOCK_REALTIME */
static uint64_t real_ns(const struct st_header *h, uint64_t mono)
{
    return mono ? mono + (h->clock_real_ns - h->clock_mono_ns) : 0;
}

/* The file mapped whole, as the reader (trace_read.h) sees it. */
static struct st_view view_of(const char *base, uint64_t size)
{
    return (struct st_view){.base = base, .size = size};
}

static bool push_sock(struct snapshot *s, size_t *cap, const struct st_sock *so)
{
    if (s->n_open == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        void *p = realloc(s->open, ncap * sizeof *s->open);
        if (!p)
            return false;
        s->open = p;
        *cap = ncap;
    }
    s->open[s->n_open++] = *so;
    return true;
}

/* What dup aliases share: one socket, so one set of endpoints and one
 * file status; close-on-exec and close bookkeeping are per fd. */
#define ALIAS_FLAGS (~(uint32_t)(ST_SF_CLOEXEC | ST_SF_TCPINFO | ST_SF_CLOSED_UNSEEN | \
                                 ST_SF_CLOSED_EXEC | ST_SF_ASKED))

static int by_id(const void *a, const void *b)
{
    const struct st_sock *x = a, *y = b;
    if (x->sock_id != y->sock_id)
        return (x->sock_id > y->sock_id) - (x->sock_id < y->sock_id);
    return (x->t_hi < y->t_hi) - (x->t_hi > y->t_hi);    /* newest first */
}

/* A change made through one alias is a change of every alias: the writer
 * records it on the fd it was made through, the reader spreads it. */
static void share_aliases(struct snapshot *s)
{
    if (s->n_open)      /* no qsort of NULL, even of nothing */
        qsort(s->open, s->n_open, sizeof *s->open, by_id);
    for (size_t i = 0; i < s->n_open;) {
        size_t j = i + 1;
        while (j < s->n_open && s->open[j].sock_id == s->open[i].sock_id)
            j++;
        const struct st_sock *src = &s->open[i];
        for (size_t k = i + 1; k < j; k++) {
            struct st_sock *d = &s->open[k];
            d->local = src->local;
            d->peer = src->peer;
            d->state = src->state;
            d->outcome = src->outcome;
            d->connect_ns = src->connect_ns;
            d->connect_err = src->connect_err;
            d->end_err = src->end_err;
            d->peers_seen = src->peers_seen;
            d->flags = (d->flags & ~ALIAS_FLAGS) | (src->flags & ALIAS_FLAGS);
        }
        i = j;
    }
}

static int load_table(const char *base, uint64_t size, bool records,
                      struct snapshot *s, char *err, size_t errlen)
{
    const struct st_header *h = &s->h;
    const uint64_t *dirp = (const void *)(base + h->dir_off);
    struct st_view v = view_of(base, size);
    size_t cap = 0;
    for (uint32_t d = 0; d < h->dir_entries; d++) {
        uint64_t leaf = __atomic_load_n(&dirp[d], __ATOMIC_ACQUIRE);
        if (!leaf)
            continue;
        if (leaf % 8 || leaf > size || size - leaf < (uint64_t)h->leaf_slots * 8) {
            s->torn++;
            continue;
        }
        const uint64_t *slots = (const void *)(base + leaf);
        for (uint32_t i = 0; i < h->leaf_slots; i++) {
            const uint64_t *slot = &slots[ST_LEAF_POS(i)];
            uint64_t w = __atomic_load_n(slot, __ATOMIC_RELAXED);
            int word_kind = st_slot_kind(w);
            if (word_kind == ST_SLOT_EMPTY || word_kind == ST_SLOT_TOMB)
                continue;
            int fd = (int)(d * h->leaf_slots + i);
            struct st_sock so;
            memset(&so, 0, sizeof so);
            if (word_kind == ST_SLOT_UNKNOWN) {
                s->unknown++;
                so.fd = fd;
                so.state = ST_STATE_UNKNOWN;
            } else if (!records) {
                s->open_count++;
                continue;
            } else {
                int kind = st_slot_copy(&v, slot, RETRIES, &w, &so);
                if (kind == ST_SLOT_TORN)
                    s->torn++;
                if (kind != ST_SLOT_LIVE)
                    continue;   /* torn, or closed meanwhile */
                so.flags &= ~SNAP_SF_NO_ACCESS; /* the viewer's own, never a file's */
            }
            if (so.state == ST_STATE_FREE || so.state >= ST_STATE_COUNT_ ||
                so.state == ST_STATE_CLOSED) {
                s->torn++;
                continue;
            }
            so.fd = fd;
            so.opened_ns = real_ns(h, so.opened_ns);
            so.connect_ns = real_ns(h, so.connect_ns);
            so.closed_ns = 0;
            s->open_count++;
            if (records && !push_sock(s, &cap, &so)) {
                fail(err, errlen, "out of memory");
                return -1;
            }
        }
    }
    if (records) {
        share_aliases(s);
        if (s->n_open)
            qsort(s->open, s->n_open, sizeof *s->open, by_fd);
    }
    return 0;
}

/* Walks a ring from max(since, head - cap) to head - 1, copying each
 * committed record (its first rec_size bytes) into raw and handing it to
 * take. A record being written is looked at again, RETRIES times. */
static void ring_walk(const struct st_view *v, const struct st_ring *r,
                      uint64_t head, uint64_t since, void *raw, uint32_t rec_size,
                      void (*take)(void *ctx, const void *raw, uint64_t pos),
                      void *ctx, uint64_t *lost, uint64_t *torn)
{
    uint64_t first = head > r->cap ? head - r->cap : 0;
    *lost = first > since ? first - since : 0;
    if (since > first)
        first = since < head ? since : head;
    for (uint64_t p = first; p < head; p++) {
        int got = ST_RING_REC_BUSY;
        for (int i = 0; i < RETRIES && got == ST_RING_REC_BUSY; i++)
            got = st_ring_copy(v, r, p, raw, rec_size);
        if (got == ST_RING_REC_OK)
            take(ctx, raw, p);
        else if (got == ST_RING_REC_LOST)
            (*lost)++;
        else if (got == ST_RING_REC_BUSY)
            (*torn)++;          /* its writer stopped mid-record */
    }
}

struct taker {
    struct snapshot *s;
    void *out;
    size_t n, cap, elem;
};

static void *take_slot(struct taker *t)
{
    if (t->n == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 64;
        void *p = realloc(t->out, ncap * t->elem);
        if (!p)
            return NULL;
        t->out = p;
        t->cap = ncap;
    }
    return (char *)t->out + t->n++ * t->elem;
}

static void take_hist(void *ctx, const void *raw, uint64_t pos)
{
    struct taker *t = ctx;
    struct st_sock *so = take_slot(t);
    if (!so)
        return;
    st_hist_decode(raw, so);
    so->flags &= ~SNAP_SF_NO_ACCESS;
    if (so->state != ST_STATE_CLOSED) {
        t->n--;
        t->s->torn++;
        return;
    }
    so->serial = pos;
    so->opened_ns = real_ns(&t->s->h, so->opened_ns);
    so->closed_ns = real_ns(&t->s->h, so->closed_ns);
    so->connect_ns = real_ns(&t->s->h, so->connect_ns);
}

static void take_event(void *ctx, const void *raw, uint64_t pos)
{
    struct taker *t = ctx;
    const struct st_evrec *r = raw;
    if (r->call == ST_CALL_NONE || r->call >= ST_CALL_COUNT_) {
        t->s->torn++;
        return;
    }
    struct st_event *e = take_slot(t);
    if (!e)
        return;
    memset(e, 0, sizeof *e);
    e->call = r->call;
    e->serial = pos;
    e->ns = real_ns(&t->s->h, r->ns);
    e->sock_id = r->sock_id;
    e->ret = r->ret;
    e->err = r->err;
    e->tid = r->tid;
    e->fd = r->fd;
    e->fd2 = r->fd2;
    e->addr_cut = r->local.cut || r->peer.cut;
    st_caddr_to(&e->local, &r->local);
    st_caddr_to(&e->peer, &r->peer);
}

static void take_name(void *ctx, const void *raw, uint64_t pos)
{
    struct taker *t = ctx;
    const struct st_namerec *r = raw;
    struct st_name *n = take_slot(t);
    if (!n)
        return;
    n->family = r->family;
    n->serial = pos;
    n->ns = real_ns(&t->s->h, r->ns);
    memcpy(n->addr, r->addr, 16);
    memcpy(n->host, r->host, ST_HOST_MAX);
    n->host[ST_HOST_MAX - 1] = 0;
}

/* Copies a ring into a fresh array; NULL when out of memory. */
static void *load_ring(const char *base, uint64_t size, struct snapshot *s,
                       const struct st_ring *r, uint32_t rec_size, uint64_t head,
                       uint64_t since, size_t elem,
                       void (*take)(void *, const void *, uint64_t),
                       size_t *n, uint64_t *lost)
{
    union {
        struct st_histrec h;
        struct st_evrec e;
        struct st_namerec n;
    } raw;
    struct taker t = {s, malloc(elem), 0, 1, elem};
    if (!t.out)
        return NULL;
    struct st_view v = view_of(base, size);
    ring_walk(&v, r, head, since, &raw, rec_size, take, &t, lost, &s->torn);
    *n = t.n;
    return t.out;
}

/* The file being read, for a second look at its size (none for bytes in
 * memory). */
static int live_fd = -1;

static int load(const char *base, uint64_t size, unsigned what, uint64_t since,
                struct snapshot *s, char *err, size_t errlen)
{
    if (size < sizeof(struct st_header)) {
        fail(err, errlen, size < 8 ? "not a socktrace trace file (too short)"
                                   : "truncated (shorter than its header)");
        if (size >= 8 && memcmp(base, ST_MAGIC, 7) != 0)
            fail(err, errlen, "not a socktrace trace file");
        return -1;
    }
    memcpy(&s->h, base, sizeof s->h);
    if (st_header_check(&s->h, size, err, errlen) != 0)
        return -1;
    struct st_header *h = &s->h;
    /* the writer extends the file before it says so: a file shorter than
     * its header says was cut, unless it grew since we took its size
     * (what lies beyond the part we mapped is then not read) */
    uint64_t end = __atomic_load_n(&((const struct st_header *)base)->file_end.v, __ATOMIC_ACQUIRE);
    struct stat st;
    if (end > size && !(live_fd >= 0 && fstat(live_fd, &st) == 0 &&
                        (uint64_t)st.st_size >= end)) {
        fail(err, errlen, "truncated (%llu bytes; its header says %llu)",
             (unsigned long long)size, (unsigned long long)h->file_end.v);
        return -1;
    }
    const struct st_header *live = (const struct st_header *)base;
    uint64_t hist_head = __atomic_load_n(&live->history.head.v, __ATOMIC_ACQUIRE);
    uint64_t ev_head = __atomic_load_n(&live->events.head.v, __ATOMIC_ACQUIRE);
    uint64_t names_head = __atomic_load_n(&live->names.head.v, __ATOMIC_ACQUIRE);
    /* segment offsets are installed as the rings grow: read them after
     * the heads, so every position below a head has its segment */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    memcpy(&h->events.seg_off, &live->events.seg_off, sizeof h->events.seg_off);
    memcpy(&h->history.seg_off, &live->history.seg_off, sizeof h->history.seg_off);
    memcpy(&h->names.seg_off, &live->names.seg_off, sizeof h->names.seg_off);
    s->events_head = ev_head;
    if (load_table(base, size, what & SNAP_TABLE, s, err, errlen) != 0)
        return -1;
    s->socks_total = hist_head + s->open_count;
    if (what & SNAP_HISTORY) {
        s->closed = load_ring(base, size, s, &h->history, sizeof(struct st_histrec),
                              hist_head, 0,
                              sizeof(struct st_sock), take_hist, &s->n_closed,
                              &s->closed_lost);
        if (!s->closed) {
            fail(err, errlen, "out of memory");
            return -1;
        }
    }
    if (what & SNAP_EVENTS) {
        s->events = load_ring(base, size, s, &h->events, sizeof(struct st_evrec),
                              ev_head, since,
                              sizeof(struct st_event), take_event, &s->n_events,
                              &s->events_lost);
        if (!s->events) {
            fail(err, errlen, "out of memory");
            return -1;
        }
    }
    if (what & (SNAP_TABLE | SNAP_HISTORY | SNAP_EVENTS)) {
        uint64_t lost = 0;
        s->names = load_ring(base, size, s, &h->names, sizeof(struct st_namerec),
                              names_head, 0,
                             sizeof(struct st_name), take_name, &s->n_names, &lost);
        if (!s->names) {
            fail(err, errlen, "out of memory");
            return -1;
        }
    }
    s->h.cmdline[ST_CMDLINE_MAX - 1] = 0;
    return 0;
}

const char *snap_host_of(const struct snapshot *s, const struct st_addr *a)
{
    static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
    int family;
    const uint8_t *ip = a->data;
    if (a->kind == ST_ADDR_INET) {
        family = AF_INET;
    } else if (a->kind == ST_ADDR_INET6 && memcmp(a->data, mapped, 12) == 0) {
        family = AF_INET;       /* an IPv6 socket talking to an IPv4 address */
        ip += 12;
    } else if (a->kind == ST_ADDR_INET6) {
        family = AF_INET6;
    } else {
        return NULL;
    }
    for (size_t i = s->n_names; i-- > 0;) {     /* the newest wins */
        const struct st_name *n = &s->names[i];
        if (n->family == family && memcmp(n->addr, ip, family == AF_INET ? 4 : 16) == 0)
            return n->host;
    }
    return NULL;
}

int snap_load_mem(const void *data, size_t size, unsigned what,
                  struct snapshot *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int r = load(data, size, what, 0, out, err, errlen);
    if (r != 0)
        snap_free(out);
    else
        out->ns_pid = out->h.pid;   /* bytes without a process to look for */
    return r;
}

static sigjmp_buf bus_jmp;
static volatile sig_atomic_t bus_armed;

static void on_bus(int sig)
{
    if (bus_armed)
        siglongjmp(bus_jmp, 1);
    signal(sig, SIG_DFL);
    raise(sig);
}

void snap_exec_mark(const struct st_header *live, struct snapshot *s)
{
    s->exec_pending = __atomic_load_n(&live->exec_pending, __ATOMIC_ACQUIRE) != 0;
    if (s->exec_pending)
        st_exec_mark_copy(live, RETRIES, &s->exec_call_ns, s->exec_path);
}

/* A file of another user is read only from that user's own directory
 * (root reading /tmp/socktrace-65534): one planted in a directory of
 * someone else's is not the trace of anything it claims. */
static bool dir_owner_is(const char *path, uid_t uid)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    size_t len = slash ? (size_t)(slash - path) : 0;
    if (len >= sizeof dir)
        return false;
    memcpy(dir, path, len);
    dir[len] = 0;
    struct stat st;
    return stat(len ? dir : "/", &st) == 0 && st.st_uid == uid;
}

static int load_file(const char *path, unsigned what, uint64_t since, snap_mapped_fn *then,
                     struct snapshot *out, char *err, size_t errlen, int *again)
{
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        fail(err, errlen, "%s", errno == ELOOP ? "is a symbolic link" : strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        fail(err, errlen, "not a regular file");
        close(fd);
        return -1;
    }
    if (st.st_uid != geteuid() && !dir_owner_is(path, st.st_uid)) {
        fail(err, errlen, "belongs to another user");
        close(fd);
        return -1;
    }
    uint64_t size = (uint64_t)st.st_size;
    if (size == 0) {
        fail(err, errlen, "empty file");
        close(fd);
        return -1;
    }
    void *map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        fail(err, errlen, "mmap: %s", strerror(errno));
        close(fd);
        return -1;
    }
    live_fd = fd;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_bus;
    sigaction(SIGBUS, &sa, &old);
    int r;
    if (sigsetjmp(bus_jmp, 1) == 0) {
        bus_armed = 1;
        r = load(map, size, what, since, out, err, errlen);
    } else {
        fail(err, errlen, "file shrank while it was read");
        r = -1;
    }
    if (r == 0 && then) {
        if (sigsetjmp(bus_jmp, 1) == 0)
            *again = then((const struct st_header *)map, out);
    }
    bus_armed = 0;
    sigaction(SIGBUS, &old, NULL);
    munmap(map, size);
    live_fd = -1;
    close(fd);
    if (r != 0)
        snap_free(out);
    return r;
}

int snap_read(const char *path, unsigned what, uint64_t since, snap_mapped_fn *then,
              struct snapshot *out, char *err, size_t errlen)
{
    int again = 0;
    int r = load_file(path, what, since, then, out, err, errlen, &again);
    return r ? r : again;
}

int snap_read_header(const char *path, bool mine_only, struct st_header *h)
{
    /* a FIFO or device named like a trace file must not block us */
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -1;
    struct stat st;
    ssize_t n = -1;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (!mine_only || st.st_uid == geteuid()))
        n = pread(fd, h, sizeof *h, 0);
    close(fd);
    char why[128];
    if (n != (ssize_t)sizeof *h || st_header_check(h, 0, why, sizeof why) != 0)
        return -1;
    h->cmdline[ST_CMDLINE_MAX - 1] = 0;
    return 0;
}

void snap_free(struct snapshot *s)
{
    free(s->open);
    free(s->closed);
    free(s->events);
    free(s->names);
    s->open = s->closed = NULL;
    s->events = NULL;
    s->names = NULL;
}

size_t snap_open_now(const struct snapshot *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n_open; i++)
        n += !snap_gone(&s->open[i]) && !(s->open[i].flags & SNAP_SF_NO_ACCESS);
    return n;
}

size_t snap_unknown_now(const struct snapshot *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n_open; i++)
        n += !!(s->open[i].flags & SNAP_SF_NO_ACCESS);
    return n;
}
