/* tracefile.c - creates, maps and grows the trace file. Space is reserved
 * with posix_fallocate before it is mapped: a store into a hole of a full
 * file system would kill the host with SIGBUS. No fd stays open. */
#define _GNU_SOURCE
#include "tracefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdindex.h"
#include "real.h"
#include "tracedir.h"

#define CAP0 128u   /* 128 slots x 320 bytes = 10 pages */
#define NAMES_CAP 256u  /* 256 lookups x 256 bytes = 64 KiB */

struct st_trace {
    struct st_header *hdr;          /* base mapping: header, seg 0, rings */
    uint64_t base_size;
    uint64_t file_size;
    struct st_sock *seg[ST_MAX_SEGS];
    struct st_sock *history;
    struct st_event *events;
    struct st_name *names;
    uint32_t *free_ids;             /* stack of free slot ids */
    uint32_t free_n, free_cap;
    char path[ST_PATH_MAX];
};

static struct st_trace T;

static uint64_t page_round(uint64_t n)
{
    return (n + ST_PAGE - 1) & ~(uint64_t)(ST_PAGE - 1);
}

static uint64_t seg_bytes(uint32_t k)
{
    return (uint64_t)(CAP0 << k) * sizeof(struct st_sock);
}

/* Reserves [from, to) of the file. ftruncate past RLIMIT_FSIZE would send
 * SIGXFSZ, which kills a program that does not expect it: check first. */
static int reserve(int fd, uint64_t from, uint64_t to)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        to > rl.rlim_cur) {
        errno = EFBIG;
        return -1;
    }
    int e = posix_fallocate(fd, (off_t)from, (off_t)(to - from));
    if (e) {
        errno = e;
        return -1;
    }
    return 0;
}

static void *map_at(int fd, uint64_t off, uint64_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)off);
    return p == MAP_FAILED ? NULL : p;
}

static int free_push(uint32_t id)
{
    if (T.free_n == T.free_cap) {
        uint32_t ncap = T.free_cap ? T.free_cap * 2 : 1024;
        void *p = T.free_ids
            ? mremap(T.free_ids, T.free_cap * 4u, ncap * 4u, MREMAP_MAYMOVE)
            : mmap(NULL, ncap * 4u, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return -1;
        T.free_ids = p;
        T.free_cap = ncap;
    }
    T.free_ids[T.free_n++] = id;
    return 0;
}

/* Slot ids of segment k start at CAP0 * (2^k - 1). */
static uint32_t seg_first(uint32_t k)
{
    return CAP0 * ((1u << k) - 1);
}

/* Pushes the free slots of segment k, highest first so low ids pop first. */
static void free_push_segment(uint32_t k)
{
    uint32_t first = seg_first(k), n = CAP0 << k;
    for (uint32_t i = n; i-- > 0;)
        if (T.seg[k][i].state == ST_STATE_FREE)
            free_push(first + i);
}

static void fill_header(struct st_header *h, const struct st_procinfo *p)
{
    h->pid = p->pid;
    h->ppid = p->ppid;
    h->uid = (uint32_t)geteuid();
    h->proc_start = p->proc_start;
    h->exec_ns = p->now_ns;
    size_t used = 0;
    for (int i = 0; i < p->argc && p->argv && p->argv[i]; i++) {
        size_t n = strlen(p->argv[i]) + 1;
        if (used + n > ST_CMDLINE_MAX)
            break;
        memcpy(h->cmdline + used, p->argv[i], n);
        used += n;
        h->argc = (uint32_t)(i + 1);
    }
    h->cmdline_len = (uint32_t)used;
}

static void set_pointers(void)
{
    struct st_header *h = T.hdr;
    T.seg[0] = (struct st_sock *)((char *)h + h->table_seg_off[0]);
    T.history = (struct st_sock *)((char *)h + h->history_off);
    T.events = (struct st_event *)((char *)h + h->events_off);
    T.names = (struct st_name *)((char *)h + h->names_off);
}

/* The end of the base mapping: header, segment 0 and the three rings. */
static uint64_t base_end(const struct st_header *h)
{
    return h->names_off + page_round((uint64_t)h->names_cap * sizeof(struct st_name));
}

/* Creates a new, complete file under a temporary name and renames it into
 * place, so a reader never sees a half-written header. */
static int create_file(const char *dir, const struct st_procinfo *p,
                       uint64_t history_bytes, const char **why)
{
    char tmp[ST_PATH_MAX];
    if (st_trace_name(T.path, sizeof T.path, dir, p->pid, p->proc_start) ||
        snprintf(tmp, sizeof tmp, "%s/.%d.tmp", dir, p->pid) >= (int)sizeof tmp) {
        *why = "path too long";
        return -1;
    }
    uint32_t hist_cap = (uint32_t)(history_bytes / 2 / sizeof(struct st_sock));
    uint32_t ev_cap = (uint32_t)(history_bytes / 2 / sizeof(struct st_event));
    if (hist_cap < 16)
        hist_cap = 16;
    if (ev_cap < 16)
        ev_cap = 16;
    uint64_t off_seg0 = ST_PAGE;
    uint64_t off_hist = off_seg0 + page_round(seg_bytes(0));
    uint64_t off_ev = off_hist + page_round((uint64_t)hist_cap * sizeof(struct st_sock));
    uint64_t off_names = off_ev + page_round((uint64_t)ev_cap * sizeof(struct st_event));
    uint64_t size = off_names + page_round((uint64_t)NAMES_CAP * sizeof(struct st_name));

    unlink(tmp); /* a leftover of an earlier process with this pid */
    int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        *why = strerror(errno);
        return -1;
    }
    if (reserve(fd, 0, size) != 0) {
        *why = strerror(errno);
        goto out_unlink;
    }
    struct st_header *h = map_at(fd, 0, size);
    if (!h) {
        *why = strerror(errno);
        goto out_unlink;
    }
    memcpy(h->magic, ST_MAGIC, 8);
    h->version = ST_VERSION;
    h->header_size = sizeof *h;
    h->sock_size = sizeof(struct st_sock);
    h->event_size = sizeof(struct st_event);
    h->endian = ST_ENDIAN_MARK;
    h->start_ns = p->now_ns;
    h->table_cap0 = CAP0;
    h->table_seg_off[0] = off_seg0;
    h->table_segs = 1;
    h->history_off = off_hist;
    h->history_cap = hist_cap;
    h->events_off = off_ev;
    h->events_cap = ev_cap;
    h->names_off = off_names;
    h->names_cap = NAMES_CAP;
    h->name_size = sizeof(struct st_name);
    fill_header(h, p);
    if (rename(tmp, T.path) != 0) {
        *why = strerror(errno);
        munmap(h, size);
        goto out_unlink;
    }
    st_sys_close(fd);
    T.hdr = h;
    T.base_size = T.file_size = size;
    set_pointers();
    free_push_segment(0);
    return 0;
out_unlink:
    unlink(tmp);
    st_sys_close(fd);
    return -1;
}

/* Maps our own file back after exec. Anything unexpected: start afresh. */
static int reopen_file(const struct st_procinfo *p)
{
    int fd = open(T.path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    struct st_header h;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
        (uint64_t)st.st_size < sizeof h ||
        pread(fd, &h, sizeof h, 0) != (ssize_t)sizeof h)
        goto out_close;
    uint64_t size = (uint64_t)st.st_size;
    uint64_t base = base_end(&h);
    if (memcmp(h.magic, ST_MAGIC, 8) || h.version != ST_VERSION ||
        h.header_size != sizeof h || h.sock_size != sizeof(struct st_sock) ||
        h.event_size != sizeof(struct st_event) ||
        h.name_size != sizeof(struct st_name) || h.names_cap != NAMES_CAP ||
        h.pid != p->pid ||
        h.table_cap0 != CAP0 || h.table_segs < 1 || h.table_segs > ST_MAX_SEGS ||
        h.table_seg_off[0] != ST_PAGE || base > size || h.history_cap == 0 ||
        h.events_cap == 0 ||
        h.history_off + (uint64_t)h.history_cap * sizeof(struct st_sock) > h.events_off ||
        h.events_off + (uint64_t)h.events_cap * sizeof(struct st_event) > h.names_off)
        goto out_close;
    T.hdr = map_at(fd, 0, base);
    if (!T.hdr)
        goto out_close;
    T.base_size = base;
    T.file_size = size;
    set_pointers();
    for (uint32_t k = 1; k < h.table_segs; k++) {
        uint64_t off = h.table_seg_off[k];
        if (off % ST_PAGE || off + seg_bytes(k) > size ||
            !(T.seg[k] = map_at(fd, off, seg_bytes(k)))) {
            /* segments beyond a bad one are lost; the scan re-finds sockets */
            T.hdr->table_segs = k;
            break;
        }
    }
    for (uint32_t k = 0; k < T.hdr->table_segs; k++)
        free_push_segment(k);
    T.hdr->exec_count++;
    fill_header(T.hdr, p);
    st_sys_close(fd);
    return 0;
out_close:
    st_sys_close(fd);
    return -1;
}

int st_trace_open(const char *dir, const struct st_procinfo *p,
                  uint64_t history_bytes, bool *reopened, const char **why)
{
    *reopened = false;
    if (st_trace_name(T.path, sizeof T.path, dir, p->pid, p->proc_start)) {
        *why = "path too long";
        return -1;
    }
    if (reopen_file(p) == 0) {
        *reopened = true;
        return 0;
    }
    return create_file(dir, p, history_bytes, why);
}

static void unmap_all(struct st_trace *t)
{
    for (uint32_t k = 1; k < ST_MAX_SEGS; k++)
        if (t->seg[k])
            munmap(t->seg[k], seg_bytes(k));
    if (t->hdr)
        munmap(t->hdr, t->base_size);
    if (t->free_ids)
        munmap(t->free_ids, t->free_cap * 4u);
    memset(t, 0, sizeof *t);
}

void st_trace_close(void)
{
    unmap_all(&T);
}

/* Segment k holds ids [CAP0 * (2^k - 1), CAP0 * (2^(k+1) - 1)). */
static struct st_sock *slot_in(struct st_trace *t, uint32_t id)
{
    uint32_t k = 31u - (uint32_t)__builtin_clz(id / CAP0 + 1);
    if (k >= ST_MAX_SEGS)
        k = ST_MAX_SEGS - 1;
    return &t->seg[k][id - seg_first(k)];
}

static struct st_trace parent_T;

/* The table as it was at fork, in private memory: the child must copy
 * from this, because the shared mapping is the parent's, and the parent
 * runs on (and closes fds) while the child copies. */
static struct st_sock *fork_copy;
static uint64_t fork_copy_bytes;

void st_trace_fork_prepare(void)
{
    uint32_t segs = T.hdr->table_segs;
    uint64_t bytes = (uint64_t)seg_first(segs) * sizeof(struct st_sock);
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return;
    for (uint32_t k = 0; k < segs && k < ST_MAX_SEGS; k++)
        memcpy((struct st_sock *)p + seg_first(k), T.seg[k], seg_bytes(k));
    fork_copy = p;
    fork_copy_bytes = bytes;
}

void st_trace_fork_release(void)
{
    if (fork_copy)
        munmap(fork_copy, fork_copy_bytes);
    fork_copy = NULL;
}

static uint32_t copy_from_parent(int fd, uint32_t slot, void *arg)
{
    (void)fd;
    (void)arg;
    int64_t id = st_slot_alloc();
    if (id < 0)
        return UINT32_MAX;
    struct st_sock *dst = st_slot((uint32_t)id);
    memcpy(dst, &fork_copy[slot], sizeof *dst);
    dst->seq = 0;
    T.hdr->open_count++;
    T.hdr->socks_total++;
    return (uint32_t)id;
}

/* The child connects to what its parent looked up: the names come along.
 * The parent's ring is shared and may be written while we copy; a record
 * caught mid-write is skipped. */
static void copy_names_from_parent(void)
{
    struct st_header *ph = parent_T.hdr;
    uint64_t head = __atomic_load_n(&ph->names_head, __ATOMIC_ACQUIRE);
    uint64_t first = head > ph->names_cap ? head - ph->names_cap : 0;
    for (uint64_t i = first; i < head; i++) {
        const struct st_name *r = &parent_T.names[i % ph->names_cap];
        struct st_name copy;
        uint32_t s1 = __atomic_load_n(&r->seq, __ATOMIC_ACQUIRE);
        memcpy(&copy, r, sizeof copy);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if ((s1 & 1) || s1 != __atomic_load_n(&r->seq, __ATOMIC_RELAXED))
            continue;
        copy.host[ST_HOST_MAX - 1] = 0;
        st_name_push(copy.family, copy.addr, copy.host, copy.ns);
    }
}

int st_trace_fork(const char *dir, const struct st_procinfo *p,
                  const char **why)
{
    if (!fork_copy) {
        /* no private copy of the table: the shared one is changing */
        *why = "no memory for the table copy at fork";
        return -1;
    }
    uint32_t hist = T.hdr->history_cap, ev = T.hdr->events_cap;
    uint64_t history_bytes = (uint64_t)hist * sizeof(struct st_sock) +
                             (uint64_t)ev * sizeof(struct st_event);
    parent_T = T;
    memset(&T, 0, sizeof T);
    int r = create_file(dir, p, history_bytes, why);
    if (r == 0) {
        st_index_remap(copy_from_parent, NULL);
        copy_names_from_parent();
    }
    unmap_all(&parent_T);
    st_trace_fork_release();
    return r;
}

struct st_header *st_hdr(void)
{
    return T.hdr;
}

struct st_sock *st_slot(uint32_t id)
{
    return slot_in(&T, id);
}

uint32_t st_slot_total(void)
{
    return T.hdr ? seg_first(T.hdr->table_segs) : 0;
}

/* Appends segment k to the file. The file is opened again by name: no fd
 * is kept between calls, so a program that closes every fd cannot hurt us. */
static int grow(void)
{
    uint32_t k = T.hdr->table_segs;
    if (k >= ST_MAX_SEGS)
        return -1;
    int saved = errno, r = -1;
    int fd = open(T.path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        goto out;
    uint64_t off = T.file_size, len = seg_bytes(k);
    if (reserve(fd, off, off + len) != 0)
        goto out_close;
    struct st_sock *s = map_at(fd, off, len);
    if (!s)
        goto out_close;
    T.seg[k] = s;
    T.file_size = off + len;
    T.hdr->table_seg_off[k] = off;
    __atomic_store_n(&T.hdr->table_segs, k + 1, __ATOMIC_RELEASE);
    free_push_segment(k);
    r = 0;
out_close:
    st_sys_close(fd);
out:
    errno = saved;
    return r;
}

int64_t st_slot_alloc(void)
{
    if (T.free_n == 0 && grow() != 0)
        return -1;
    return T.free_ids[--T.free_n];
}

void st_slot_release(uint32_t id)
{
    struct st_sock *s = st_slot(id);
    st_rec_begin(&s->seq);
    uint32_t seq = s->seq;
    memset(s, 0, sizeof *s);
    s->seq = seq;
    st_rec_end(&s->seq);
    free_push(id);
}

void st_rec_begin(uint32_t *seq)
{
    __atomic_store_n(seq, *seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
}

void st_rec_end(uint32_t *seq)
{
    __atomic_store_n(seq, *seq + 1, __ATOMIC_RELEASE);
}

void st_history_push(const struct st_sock *s)
{
    struct st_header *h = T.hdr;
    uint64_t head = h->history_head;
    struct st_sock *r = &T.history[head % h->history_cap];
    st_rec_begin(&r->seq);
    uint32_t seq = r->seq;
    memcpy(r, s, sizeof *r);
    r->seq = seq;
    r->serial = head;
    st_rec_end(&r->seq);
    __atomic_store_n(&h->history_head, head + 1, __ATOMIC_RELEASE);
}

void st_event_push(const struct st_event *ev)
{
    struct st_header *h = T.hdr;
    uint64_t head = h->events_head;
    struct st_event *e = &T.events[head % h->events_cap];
    st_rec_begin(&e->seq);
    uint32_t seq = e->seq;
    memcpy(e, ev, sizeof *e);
    e->seq = seq;
    e->serial = head;
    st_rec_end(&e->seq);
    __atomic_store_n(&h->events_head, head + 1, __ATOMIC_RELEASE);
}

void st_name_push(int family, const uint8_t addr[16], const char *host,
                  uint64_t ns)
{
    struct st_header *h = T.hdr;
    uint64_t head = h->names_head;
    uint64_t first = head > h->names_cap ? head - h->names_cap : 0;
    /* a program that resolves the same name for every request must not
     * push older names out: a pair already held is not written again */
    for (uint64_t i = head; i-- > first;) {
        const struct st_name *r = &T.names[i % h->names_cap];
        if (r->family == family && memcmp(r->addr, addr, 16) == 0 &&
            strncmp(r->host, host, ST_HOST_MAX) == 0)
            return;
    }
    struct st_name *r = &T.names[head % h->names_cap];
    st_rec_begin(&r->seq);
    r->family = (uint16_t)family;
    r->serial = head;
    r->ns = ns;
    memcpy(r->addr, addr, 16);
    size_t n = strnlen(host, ST_HOST_MAX - 1);
    memcpy(r->host, host, n);
    memset(r->host + n, 0, ST_HOST_MAX - n);
    st_rec_end(&r->seq);
    __atomic_store_n(&h->names_head, head + 1, __ATOMIC_RELEASE);
}
