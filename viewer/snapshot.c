/* snapshot.c - reads a trace file. The file is mapped read-only and copied
 * record by record under its seqlock. A file truncated under us would
 * raise SIGBUS on a mapped page: a guard turns that into an error. */
#define _GNU_SOURCE
#include "snapshot.h"

#include <errno.h>
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

#include "tracedir.h"

#define RETRIES 64

static void fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Copies one record of `size` bytes whose first field is its seq. */
static bool copy_record(void *dst, const void *src, size_t size)
{
    const uint32_t *seqp = src;
    for (int i = 0; i < RETRIES; i++) {
        uint32_t s1 = __atomic_load_n(seqp, __ATOMIC_ACQUIRE);
        memcpy(dst, src, size);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        uint32_t s2 = __atomic_load_n(seqp, __ATOMIC_RELAXED);
        if (s1 == s2 && !(s1 & 1))
            return true;
    }
    return false;
}

static bool range_ok(uint64_t off, uint64_t count, uint64_t size, uint64_t file)
{
    if (count && size > UINT64_MAX / count)
        return false;
    uint64_t len = count * size;
    return off <= file && len <= file - off;
}

static int by_fd(const void *a, const void *b)
{
    const struct st_sock *x = a, *y = b;
    return (x->fd > y->fd) - (x->fd < y->fd);
}

static int check_header(const struct st_header *h, uint64_t size, char *err,
                        size_t errlen)
{
    if (memcmp(h->magic, ST_MAGIC, 7) != 0) {
        fail(err, errlen, "not a socktrace trace file");
        return -1;
    }
    if (memcmp(h->magic, ST_MAGIC, 8) != 0 || h->version != ST_VERSION) {
        fail(err, errlen, "trace format version %u; this socktrace reads version %u",
             h->version, ST_VERSION);
        return -1;
    }
    if (h->endian != ST_ENDIAN_MARK) {
        fail(err, errlen, "written on a machine of another byte order");
        return -1;
    }
    if (h->header_size != sizeof *h || h->sock_size != sizeof(struct st_sock) ||
        h->event_size != sizeof(struct st_event) ||
        h->name_size != sizeof(struct st_name)) {
        fail(err, errlen, "record sizes differ from this socktrace's");
        return -1;
    }
    if (h->table_segs < 1 || h->table_segs > ST_MAX_SEGS || h->table_cap0 == 0 ||
        h->table_cap0 > (1u << 20) || h->history_cap == 0 || h->events_cap == 0 ||
        !range_ok(h->history_off, h->history_cap, sizeof(struct st_sock), size) ||
        !range_ok(h->events_off, h->events_cap, sizeof(struct st_event), size) ||
        h->names_cap == 0 || h->names_cap > (1u << 20) ||
        !range_ok(h->names_off, h->names_cap, sizeof(struct st_name), size) ||
        h->cmdline_len > ST_CMDLINE_MAX) {
        fail(err, errlen, "corrupt header (counts or offsets out of range)");
        return -1;
    }
    return 0;
}

static int load_table(const char *base, uint64_t size, struct snapshot *s,
                      char *err, size_t errlen)
{
    const struct st_header *h = &s->h;
    uint64_t total = 0;
    for (uint32_t k = 0; k < h->table_segs; k++) {
        uint64_t cap = (uint64_t)h->table_cap0 << k;
        if (!range_ok(h->table_seg_off[k], cap, sizeof(struct st_sock), size)) {
            /* a segment being added right now is not in the file yet */
            s->h.table_segs = k;
            break;
        }
        total += cap;
    }
    if (s->h.table_segs == 0) {
        fail(err, errlen, "corrupt header (table outside the file)");
        return -1;
    }
    uint64_t want = h->open_count < total ? h->open_count : total;
    size_t cap = want + 16;
    s->open = malloc(cap * sizeof *s->open);
    if (!s->open) {
        fail(err, errlen, "out of memory");
        return -1;
    }
    for (uint32_t k = 0; k < s->h.table_segs; k++) {
        const struct st_sock *seg = (const void *)(base + h->table_seg_off[k]);
        uint64_t n = (uint64_t)h->table_cap0 << k;
        for (uint64_t i = 0; i < n; i++) {
            if (__atomic_load_n(&seg[i].state, __ATOMIC_RELAXED) == ST_STATE_FREE &&
                !(__atomic_load_n(&seg[i].seq, __ATOMIC_RELAXED) & 1))
                continue;
            if (s->n_open == cap) {
                cap *= 2;
                void *p = realloc(s->open, cap * sizeof *s->open);
                if (!p) {
                    fail(err, errlen, "out of memory");
                    return -1;
                }
                s->open = p;
            }
            struct st_sock *d = &s->open[s->n_open];
            if (!copy_record(d, &seg[i], sizeof *d)) {
                s->torn++;
                continue;
            }
            if (d->state != ST_STATE_FREE && d->state < ST_STATE_COUNT_)
                s->n_open++;
        }
    }
    qsort(s->open, s->n_open, sizeof *s->open, by_fd);
    return 0;
}

/* Copies a ring oldest first; *lost counts what it overwrote. */
static void *load_ring(const char *base, uint64_t off, uint32_t cap, uint64_t head,
                       uint64_t since, size_t rec, size_t *n, uint64_t *lost,
                       uint64_t *torn)
{
    uint64_t first = head > cap ? head - cap : 0;
    *lost = first > since ? first - since : 0;
    if (since > first)
        first = since < head ? since : head;
    *n = 0;
    char *out = malloc((size_t)(head - first) * rec + 1);
    if (!out)
        return NULL;
    for (uint64_t i = first; i < head; i++) {
        const char *src = base + off + (i % cap) * rec;
        char *dst = out + *n * rec;
        if (!copy_record(dst, src, rec)) {
            (*torn)++;
            continue;
        }
        uint64_t serial;
        memcpy(&serial, dst + 8, sizeof serial);  /* both records: offset 8 */
        if (serial != i) {
            (*lost)++;                  /* overwritten while we read */
            continue;
        }
        (*n)++;
    }
    return out;
}

_Static_assert(offsetof(struct st_sock, serial) == 8, "serial at offset 8");
_Static_assert(offsetof(struct st_event, serial) == 8, "serial at offset 8");
_Static_assert(offsetof(struct st_name, serial) == 8, "serial at offset 8");

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
    if (check_header(&s->h, size, err, errlen) != 0)
        return -1;
    struct st_header *h = &s->h;
    uint64_t hist_head = __atomic_load_n(&((const struct st_header *)base)->history_head,
                                         __ATOMIC_ACQUIRE);
    uint64_t ev_head = __atomic_load_n(&((const struct st_header *)base)->events_head,
                                       __ATOMIC_ACQUIRE);
    uint64_t names_head = __atomic_load_n(&((const struct st_header *)base)->names_head,
                                          __ATOMIC_ACQUIRE);
    h->history_head = hist_head;
    h->events_head = ev_head;
    h->names_head = names_head;
    if ((what & SNAP_TABLE) && load_table(base, size, s, err, errlen) != 0)
        return -1;
    if (what & SNAP_HISTORY) {
        s->closed = load_ring(base, h->history_off, h->history_cap, hist_head, 0,
                              sizeof(struct st_sock), &s->n_closed,
                              &s->closed_lost, &s->torn);
        if (!s->closed) {
            fail(err, errlen, "out of memory");
            return -1;
        }
    }
    if (what & SNAP_EVENTS) {
        s->events = load_ring(base, h->events_off, h->events_cap, ev_head, since,
                              sizeof(struct st_event), &s->n_events,
                              &s->events_lost, &s->torn);
        if (!s->events) {
            fail(err, errlen, "out of memory");
            return -1;
        }
    }
    if (what & (SNAP_TABLE | SNAP_HISTORY | SNAP_EVENTS)) {
        uint64_t lost = 0;
        s->names = load_ring(base, h->names_off, h->names_cap, names_head, 0,
                             sizeof(struct st_name), &s->n_names, &lost, &s->torn);
        if (!s->names) {
            fail(err, errlen, "out of memory");
            return -1;
        }
        for (size_t i = 0; i < s->n_names; i++)
            s->names[i].host[ST_HOST_MAX - 1] = 0;
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

int snap_load(const char *path, unsigned what, struct snapshot *out,
              char *err, size_t errlen)
{
    return snap_load_since(path, what, 0, out, err, errlen);
}

int snap_load_since(const char *path, unsigned what, uint64_t since,
                    struct snapshot *out, char *err, size_t errlen)
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
    if (st.st_uid != geteuid()) {
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
    close(fd);
    if (map == MAP_FAILED) {
        fail(err, errlen, "mmap: %s", strerror(errno));
        return -1;
    }
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
    bus_armed = 0;
    sigaction(SIGBUS, &old, NULL);
    munmap(map, size);
    if (r == 0)
        out->alive = snap_is_alive(&out->h);
    else
        snap_free(out);
    return r;
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

void snap_check_live(struct snapshot *s)
{
    if (!s->alive)
        return;
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/fd", s->h.pid);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return;     /* not ours to look at: leave the table as written */
    for (size_t i = 0; i < s->n_open; i++) {
        struct st_sock *so = &s->open[i];
        char name[16], link[64];
        snprintf(name, sizeof name, "%d", so->fd);
        ssize_t n = readlinkat(dfd, name, link, sizeof link - 1);
        if (n > 0) {
            link[n] = 0;
            if (strncmp(link, "socket:", 7) == 0)
                continue;
        }
        so->state = ST_STATE_CLOSED;
        so->flags |= ST_SF_CLOSED_UNSEEN;
    }
    close(dfd);
}

bool snap_is_alive(const struct st_header *h)
{
    uint64_t start;
    int ppid;
    if (h->pid <= 0 || st_proc_stat(h->pid, &start, &ppid) != 0)
        return false;
    return h->proc_start == 0 || start == h->proc_start;
}
