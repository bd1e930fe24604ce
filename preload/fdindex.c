/* fdindex.c - fd -> slot hash (uthash). Entries come from page-sized
 * chunks kept on a free list; uthash's own tables from mmap directly. */
#define _GNU_SOURCE
#include "fdindex.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>

static void *st_pages(size_t size)
{
    int saved = errno;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    errno = saved;
    return p == MAP_FAILED ? NULL : p;
}

static void st_pages_free(void *p, size_t size)
{
    int saved = errno;
    munmap(p, size);
    errno = saved;
}

/* uthash must neither malloc (we may run inside malloc) nor exit (the host
 * program must never die of us): on no memory the add fails softly. */
static int index_oom;
#define uthash_malloc(sz) st_pages(sz)
#define uthash_free(ptr, sz) st_pages_free(ptr, sz)
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(obj) (index_oom = 1)
#include <uthash.h>

struct st_fdent {
    int fd;
    uint32_t slot;
    uint32_t *peers;        /* ST_INDEX_PEERS hashes, 0 = empty; or NULL */
    UT_hash_handle hh;
};

/* Peer sets come from their own chunks: only unconnected datagram sockets
 * that have met a peer have one. */
struct peerset {
    uint32_t h[ST_INDEX_PEERS];
};
static struct peerset *free_sets;   /* chained through h[0..1] */

#define CHUNK_BYTES (64 * 1024)

static struct st_fdent *index_head;
static struct st_fdent *free_ents;  /* chained through hh.next */

static struct st_fdent *ent_alloc(void)
{
    if (!free_ents) {
        struct st_fdent *chunk = st_pages(CHUNK_BYTES);
        if (!chunk)
            return NULL;
        size_t n = CHUNK_BYTES / sizeof *chunk;
        for (size_t i = 0; i < n; i++) {
            chunk[i].hh.next = free_ents;
            free_ents = &chunk[i];
        }
    }
    struct st_fdent *e = free_ents;
    free_ents = e->hh.next;
    return e;
}

static uint32_t *set_alloc(void)
{
    if (!free_sets) {
        struct peerset *chunk = st_pages(CHUNK_BYTES);
        if (!chunk)
            return NULL;
        for (size_t i = 0; i < CHUNK_BYTES / sizeof *chunk; i++) {
            memcpy(chunk[i].h, &free_sets, sizeof free_sets);
            free_sets = &chunk[i];
        }
    }
    struct peerset *p = free_sets;
    memcpy(&free_sets, p->h, sizeof free_sets);
    memset(p, 0, sizeof *p);
    return p->h;
}

static void ent_free(struct st_fdent *e)
{
    if (e->peers) {
        struct peerset *p = (struct peerset *)e->peers;
        memcpy(p->h, &free_sets, sizeof free_sets);
        free_sets = p;
        e->peers = NULL;
    }
    e->hh.next = free_ents;
    free_ents = e;
}

int64_t st_index_find(int fd)
{
    struct st_fdent *e;
    HASH_FIND_INT(index_head, &fd, e);
    return e ? (int64_t)e->slot : -1;
}

int st_index_add(int fd, uint32_t slot)
{
    struct st_fdent *e = ent_alloc();
    if (!e)
        return -1;
    e->fd = fd;
    e->slot = slot;
    e->peers = NULL;
    index_oom = 0;
    HASH_ADD_INT(index_head, fd, e);
    if (index_oom) {
        ent_free(e);
        return -1;
    }
    return 0;
}

int64_t st_index_remove(int fd)
{
    struct st_fdent *e;
    HASH_FIND_INT(index_head, &fd, e);
    if (!e)
        return -1;
    uint32_t slot = e->slot;
    HASH_DEL(index_head, e);
    ent_free(e);
    return slot;
}

void st_index_remap(uint32_t (*fn)(int fd, uint32_t slot, void *arg), void *arg)
{
    struct st_fdent *e, *tmp;
    HASH_ITER(hh, index_head, e, tmp) {
        e->slot = fn(e->fd, e->slot, arg);
        if (e->slot == UINT32_MAX) {
            HASH_DEL(index_head, e);
            ent_free(e);
        }
    }
}

unsigned st_index_range(int lo, int hi, int *out, unsigned max)
{
    struct st_fdent *e, *tmp;
    unsigned n = 0;
    HASH_ITER(hh, index_head, e, tmp) {
        if (e->fd >= lo && e->fd <= hi && n < max)
            out[n++] = e->fd;
    }
    return n;
}

unsigned st_index_count(void)
{
    return HASH_COUNT(index_head);
}

void st_index_each(void (*fn)(int fd, uint32_t slot, void *arg), void *arg)
{
    struct st_fdent *e, *tmp;
    HASH_ITER(hh, index_head, e, tmp)
        fn(e->fd, e->slot, arg);
}

int st_index_peer_add(int fd, uint32_t hash)
{
    struct st_fdent *e;
    HASH_FIND_INT(index_head, &fd, e);
    if (!e || (!e->peers && !(e->peers = set_alloc())))
        return -1;
    if (!hash)
        hash = 1;           /* 0 marks an empty place */
    /* open addressing over a small table: probe from the hash's place */
    for (unsigned i = 0; i < ST_INDEX_PEERS; i++) {
        uint32_t *p = &e->peers[(hash + i) % ST_INDEX_PEERS];
        if (*p == hash)
            return 0;
        if (*p == 0) {
            *p = hash;
            return 1;
        }
    }
    return -1;
}
