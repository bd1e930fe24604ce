/* tracefile.c - creates, maps, re-opens after exec and grows the trace
 * file (file_space.c hands out its space, ring.c writes its rings). It
 * grows with posix_fallocate (a store into a hole of a full file system
 * would kill the host with SIGBUS) and is mapped part by part as it does
 * (filemap.c), so no pointer ever moves. No fd stays open. */
#define _GNU_SOURCE
#include "tracefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "filemap.h"
#include "real.h"
#include "tracedir.h"

#define FIRST_SIZE   ST_SEG0            /* a new file: header, dir, a leaf */
#define GROW_MIN     (64u << 10)
#define EVENTS_CAP0  64u
#define HISTORY_CAP0 16u
#define NAMES_CAP0   16u
#define NAMES_CAP    256u

/* This process's file (part 0 is the header; NULL: no file), and the
 * parent's in a forked child, from st_trace_forget to st_trace_unmap. */
static struct st_fmap cur, parent;
static uint64_t max_len;                /* the largest file we may write */
static char path[ST_PATH_MAX];
static char dir[ST_PATH_MAX];
static struct st_procinfo proc;
static uint64_t hist_bytes;

static uid_t dir_euid;

/* Who we are, asked with the raw system calls (syscall() here is the
 * private raw one, real.h): libc's wrappers are each a page of libc text
 * every start-up would fault in for one instruction. */
static uid_t euid(void)
{
    return (uid_t)syscall(SYS_geteuid);
}

static int pid_now(void)
{
    return (int)syscall(SYS_getpid);
}

uint64_t st_clock_ns(clockid_t c)
{
    struct timespec ts = {0};   /* 0 if the clock cannot be read */
    clock_gettime(c, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t st_clock_ns_sys(clockid_t c)
{
    struct timespec ts = {0};
    syscall(SYS_clock_gettime, c, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int st_start_ppid(void)
{
    return proc.pid == pid_now() ? proc.ppid : 0;
}

void st_trace_setup_child(void)
{
    path[0] = 0;
    proc.ppid = proc.pid;
    /* asked now, not when a file is made: by then this process's own
     * children may have forked, and each records this pid as its parent
     * (with 0 here a grandchild recorded ppid 0, cut from the tree; asked
     * later, the parent may have died and getppid() says 1) */
    proc.pid = pid_now();
    proc.proc_start = 0;
    proc.pidns = proc.mntns = proc.netns = 0;
    proc.now_ns = st_clock_ns(CLOCK_REALTIME);
}

/* The process's start time and file name, asked once it makes a file
 * (and a forked child's pid). A daemon that dropped root since: its file
 * belongs in the new user's directory. */
static int identity(const char **why)
{
    if (path[0])
        return 0;
    int ppid;
    if (!proc.pid)
        proc.pid = pid_now();
    if (!proc.proc_start && st_proc_stat(0, &proc.proc_start, &ppid) != 0)
        proc.proc_start = 0;
    /* what a viewer outside this process's namespaces (a container's)
     * needs to find it: asked here, once per file, like the start time. A
     * child forked into a new pid namespace comes here with its own. */
    if (!proc.pidns) {
        proc.pidns = st_ns_inode(0, "pid");
        proc.mntns = st_ns_inode(0, "mnt");
        proc.netns = st_ns_inode(0, "net");
    }
    uid_t e = euid();
    if ((e != dir_euid && st_dir_path(dir, sizeof dir, NULL, e) != 0) ||
        st_trace_name(path, sizeof path, dir, proc.pid, proc.proc_start) != 0) {
        *why = "path too long";
        path[0] = 0;
        return -1;
    }
    dir_euid = e;
    return 0;
}

/* DIR/.PID, a link to this process's file: a new program image of the
 * process finds its file with one readlink, where the start time would
 * take a read of /proc. A link left by an ended process is told by the
 * start time in its target, and replaced. */
static void make_link(void)
{
    char name[ST_PATH_MAX], tmp[ST_PATH_MAX];
    const char *base = strrchr(path, '/');
    if (!base || st_link_name(name, sizeof name, dir, proc.pid, NULL) ||
        st_link_name(tmp, sizeof tmp, dir, proc.pid, ".lnk"))
        return;
    unlink(tmp);
    if (symlink(base + 1, tmp) == 0 && rename(tmp, name) != 0)
        unlink(tmp);
}

int st_trace_setup(const char *d, uid_t d_euid, const struct st_procinfo *p,
                   uint64_t history_bytes)
{
    dir_euid = d_euid;
    path[0] = 0;
    /* st_put, not libc's strlen and memcpy: more text pages for every
     * start-up to fault in */
    if (st_put(dir, sizeof dir, 0, d, ST_NO_NUM) >= sizeof dir) {
        dir[0] = 0;
        return -1;
    }
    proc = *p;
    hist_bytes = history_bytes;
    /* the rings at their full size, plus room for a table of every fd */
    max_len = (1ull << 30) + 2 * history_bytes;
    return 0;
}

struct st_header *st_hdr(void)
{
    return (struct st_header *)__atomic_load_n(&cur.part[0], __ATOMIC_ACQUIRE);
}

/* Maps the parts of this process's file below `upto` that are not yet. */
static bool map_upto(uint64_t upto)
{
    int saved = errno;
    int fd = st_sys_open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0);
    bool ok = fd >= 0 && st_fmap_upto(&cur, fd, upto);
    if (fd >= 0)
        st_sys_close(fd);
    errno = saved;
    return ok;
}

void *st_at_in(struct st_header *h, uint64_t off)
{
    if (!h)
        return NULL;
    if ((char *)h == __atomic_load_n(&parent.part[0], __ATOMIC_RELAXED))
        return st_fmap_at(&parent, off);
    void *p = st_fmap_at(&cur, off);
    /* a part another process of this file mapped, not this one: only a
     * child that runs on its parent's file (a raw clone) makes one */
    if (!p && (char *)h == __atomic_load_n(&cur.part[0], __ATOMIC_RELAXED) &&
        map_upto(off + 1))
        p = st_fmap_at(&cur, off);
    return p;
}

void *st_at(uint64_t off)
{
    return st_at_in(st_hdr(), off);
}

static const void *view_at(void *h, uint64_t off)
{
    return st_at_in(h, off);
}

struct st_view st_view_of(struct st_header *h)
{
    return (struct st_view){.at = view_at, .ctx = h};
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

static void fill_header(struct st_header *h, const struct st_procinfo *p)
{
    h->pid = p->pid;
    h->ppid = p->ppid;
    h->uid = (uint32_t)euid();
    h->proc_start = p->proc_start;
    h->run_id = p->run_id;
    h->pidns_ino = p->pidns;
    h->mntns_ino = p->mntns;
    h->netns_ino = p->netns;
    size_t dl = strlen(dir);
    if (dl < sizeof h->trace_dir)
        memcpy(h->trace_dir, dir, dl + 1);
    else
        h->trace_dir[0] = 0;
    h->exec_ns = p->now_ns;
    size_t used = 0;
    for (int i = 0; i < p->argc && p->argv && p->argv[i]; i++) {
        size_t n = strlen(p->argv[i]) + 1;
        if (used + n > ST_CMDLINE_MAX)
            break;
        memcpy(h->cmdline + used, p->argv[i], n);
        used += n;
    }
    /* the whole count, also of what did not fit: the reader tells a cut
     * command line by cmdline holding fewer strings */
    h->argc = p->argc > 0 ? (uint32_t)p->argc : 0;
    h->cmdline_len = (uint32_t)used;
}

/* The largest cap0 << k whose records fit in bytes. */
static void ring_init(struct st_ring *r, uint32_t rec_size, uint32_t cap0,
                      uint64_t bytes)
{
    uint32_t nsegs = 1;
    while (nsegs < ST_RING_SEGS &&
           ((uint64_t)cap0 << nsegs) * rec_size <= bytes)
        nsegs++;
    r->rec_size = rec_size;
    r->cap0 = cap0;
    r->nsegs = nsegs;
    r->cap = cap0 << (nsegs - 1);
}

/* The reason given for a process left untraced because its address-space
 * limit has no room for the file (st_trace_create). */
const char st_why_no_room[] = "the address-space limit (RLIMIT_AS) leaves no room for the trace file";

/* Makes m, mapped by this thread alone, this process's file: the parts
 * first, the header (part 0) last, with release. False when another
 * thread published a file first (m is left as it was). */
static bool publish_map(struct st_fmap *m)
{
    char *none = NULL;
    for (unsigned k = 1; k < ST_MAP_PARTS; k++)
        if (m->part[k])
            __atomic_store_n(&cur.part[k], m->part[k], __ATOMIC_RELAXED);
    return __atomic_compare_exchange_n(&cur.part[0], &none, m->part[0], false,
                                       __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

struct st_header *st_trace_create(const char **why)
{
    struct st_header *have = st_hdr();
    if (have)
        return have;
    int saved = errno;
    *why = NULL;
    if (identity(why) != 0 || st_dir_prepare(dir, 1, why) != 0)
        goto out;
    /* the program's own mappings come first: under a limit that leaves
     * little room, this process is not traced (the caller notes why) */
    if (!st_fmap_room(FIRST_SIZE)) {
        *why = st_why_no_room;
        goto out;
    }
    /* a name of this thread's own: threads that race here build a file
     * each, and the one whose mapping is published first is renamed */
    char tmp[ST_PATH_MAX];
    if (st_tmp_name(tmp, sizeof tmp, dir, proc.pid, syscall(SYS_gettid)) != 0) {
        *why = "path too long";
        goto out;
    }
    unlink(tmp); /* a leftover of an earlier process with this pid */
    int fd = st_sys_open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        *why = strerror(errno);
        goto out;
    }
    struct st_fmap mine = {{NULL}};
    if (reserve(fd, 0, FIRST_SIZE) != 0) {
        *why = strerror(errno);
        goto out_unlink;
    }
    if (!st_fmap_upto(&mine, fd, FIRST_SIZE)) {
        *why = "mmap failed";
        goto out_unlink;
    }
    struct st_header *h = (struct st_header *)mine.part[0];
    memcpy(h->magic, ST_MAGIC, 8);
    h->version = ST_VERSION;
    h->header_size = sizeof *h;
    h->min_reader = ST_VERSION_READ;
    h->endian = ST_ENDIAN_MARK;
    h->start_ns = proc.now_ns;
    h->clock_real_ns = st_clock_ns(CLOCK_REALTIME);
    h->clock_mono_ns = st_clock_ns(CLOCK_MONOTONIC);
    h->dir_off = ST_PAGE;
    h->dir_entries = ST_DIR_ENTRIES;
    h->leaf_slots = ST_LEAF_SLOTS;
    h->rec_small = ST_REC_SMALL;
    h->rec_large = ST_REC_LARGE;
    h->next_id_block.v = 1;
    ring_init(&h->events, sizeof(struct st_evrec), EVENTS_CAP0, hist_bytes / 2);
    ring_init(&h->history, sizeof(struct st_histrec), HISTORY_CAP0, hist_bytes / 2);
    ring_init(&h->names, sizeof(struct st_namerec), NAMES_CAP0,
              (uint64_t)NAMES_CAP * sizeof(struct st_namerec));
    fill_header(h, &proc);
    h->alloc_end.v = ST_PAGE + ST_DIR_ENTRIES * 8u;
    h->file_end.v = FIRST_SIZE;
    if (!publish_map(&mine)) {
        st_fmap_unmap(&mine);
        unlink(tmp);
        st_sys_close(fd);
        errno = saved;
        return st_hdr();
    }
    if (rename(tmp, path) != 0)
        unlink(tmp);    /* traced still; the viewer just cannot find it */
    else
        make_link();
    st_sys_close(fd);
    errno = saved;
    return h;
out_unlink:
    st_fmap_unmap(&mine);
    unlink(tmp);
    st_sys_close(fd);
out:
    errno = saved;
    return NULL;
}

int st_trace_reopen(void)
{
    int saved = errno, r = -1, fd = -1;
    char name[ST_PATH_MAX], target[ST_PATH_MAX];
    int pid, ppid;
    uint64_t start, now;
    ssize_t n;
    const char *why;
    if (st_link_name(name, sizeof name, dir, proc.pid, NULL) != 0 ||
        (n = st_sys_readlink(name, target, sizeof target - 1)) <= 0)
        goto out;
    target[n] = 0;
    if (strchr(target, '/') || st_trace_name_parse(target, &pid, &start) != 0 ||
        pid != proc.pid || st_proc_stat(0, &now, &ppid) != 0 || now != start)
        goto out;       /* an ended process's: ours is made anew */
    proc.proc_start = now;
    if (identity(&why) != 0)
        goto out;
    fd = st_sys_open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0);
    if (fd < 0)
        goto out;
    struct stat st;
    struct st_header h;
    if (st_fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != euid() ||
        (uint64_t)st.st_size < sizeof h ||
        st_sys_pread(fd, &h, sizeof h, 0) != (ssize_t)sizeof h)
        goto out_close;
    char unreadable[128];
    if (st_header_check(&h, (uint64_t)st.st_size, unreadable, sizeof unreadable) != 0 ||
        h.version != ST_VERSION || h.header_size != sizeof h || h.pid != proc.pid ||
        h.file_end.v > (uint64_t)st.st_size || h.alloc_end.v > h.file_end.v ||
        h.dir_off != ST_PAGE || h.dir_entries != ST_DIR_ENTRIES ||
        h.leaf_slots != ST_LEAF_SLOTS)
        goto out_close;
    if (h.file_end.v > max_len)
        max_len = h.file_end.v + (1ull << 30);
    struct st_fmap mine = {{NULL}};
    if (!st_fmap_upto(&mine, fd, h.file_end.v)) {
        st_fmap_unmap(&mine);
        goto out_close;
    }
    struct st_header *nh = (struct st_header *)mine.part[0];
    nh->exec_count++;
    fill_header(nh, &proc);
    if (!publish_map(&mine))
        st_fmap_unmap(&mine);   /* not after an exec: only one thread */
    else
        r = 0;
out_close:
    st_sys_close(fd);
out:
    errno = saved;
    return r;
}

struct st_header *st_trace_forget(void)
{
    struct st_header *h = st_hdr();
    if (!h)
        return NULL;
    /* the parent's parts, for the child to read from until st_trace_unmap
     * (the child of a child: its parent's are unmapped already) */
    st_fmap_unmap(&parent);
    for (unsigned k = ST_MAP_PARTS; k-- > 0;)
        __atomic_store_n(&parent.part[k], __atomic_load_n(&cur.part[k], __ATOMIC_RELAXED),
                         __ATOMIC_RELAXED);
    __atomic_store_n(&cur.part[0], NULL, __ATOMIC_RELEASE);
    for (unsigned k = 1; k < ST_MAP_PARTS; k++)
        __atomic_store_n(&cur.part[k], NULL, __ATOMIC_RELAXED);
    return h;
}

void st_trace_unmap(struct st_header *h)
{
    if (h && (char *)h == __atomic_load_n(&parent.part[0], __ATOMIC_RELAXED))
        st_fmap_unmap(&parent);
}

/* Makes the file at least `need` bytes long, and mapped here that far.
 * Threads may do this at the same time: both extend, and file_end only
 * ever grows. The file is opened again by name: no fd is kept between
 * calls, so a program that closes every fd cannot hurt us. False (the
 * reason in *why) when it cannot. */
bool st_trace_grow(struct st_header *h, uint64_t need, unsigned *why)
{
    uint64_t end = __atomic_load_n(&h->file_end.v, __ATOMIC_ACQUIRE);
    if (end >= need) {
        /* the thread that grew it mapped it first; only another process
         * on this file (a raw clone child) leaves parts unmapped here */
        if (st_fmap_at(&cur, need - 1) || map_upto(need))
            return true;
        *why = ST_DROP_ADDR;
        return false;
    }
    *why = ST_DROP_FILE;
    if (need > max_len)
        return false;
    uint64_t least = (need + GROW_MIN - 1) / GROW_MIN * GROW_MIN;
    uint64_t target = end * 2 > least ? end * 2 : least;
    if (target > max_len)
        target = max_len;
    int saved = errno;
    bool ok = false;
    int fd = st_sys_open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0);
    if (fd >= 0) {
        /* the address space first: a file this process cannot map is no
         * use to it. Parts mapped past the end are not touched before the
         * file reaches them. Doubling keeps growth rare; near a limit or
         * a full disk, take what is needed. */
        if (!st_fmap_upto(&cur, fd, target) &&
            !(least < target && st_fmap_upto(&cur, fd, target = least)))
            *why = ST_DROP_ADDR;
        else
            ok = reserve(fd, end, target) == 0 ||
                 (least < target && reserve(fd, end, target = least) == 0);
        st_sys_close(fd);
    }
    errno = saved;
    if (!ok)
        return false;
    while (end < target &&
           !__atomic_compare_exchange_n(&h->file_end.v, &end, target, false,
                                        __ATOMIC_RELEASE, __ATOMIC_ACQUIRE))
        ;
    return true;
}
