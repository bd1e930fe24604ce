/* peers.c - a fixed set of ST_PEERS_MAX hashes per fd, filled by
 * compare-and-swap; sets live in private leaves of 256 fds made on first
 * use (mmap, never malloc: this runs inside allocators' own calls). A hash
 * table with a lock, as uthash would need, could make a sender wait. */
#define _GNU_SOURCE
#include "peers.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/mman.h>

#include "portable.h"

#define LEAF_FDS 256
#define LEAVES 4096     /* fds below 2^20 */

struct set {
    uint64_t sock_id;
    uint32_t h[ST_PEERS_MAX];
};

struct set *st_peer_leaves[LEAVES] ST_BSS_LAST;

static struct set *set_of(int fd)
{
    if (fd < 0 || fd >= LEAF_FDS * LEAVES)
        return NULL;
    struct set **lp = &st_peer_leaves[fd / LEAF_FDS];
    struct set *leaf = __atomic_load_n(lp, __ATOMIC_ACQUIRE);
    if (!leaf) {
        int saved = errno;
        void *m = mmap(NULL, LEAF_FDS * sizeof(struct set), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        errno = saved;
        if (m == MAP_FAILED)
            return NULL;
        if (__atomic_compare_exchange_n(lp, &leaf, (struct set *)m, false,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            leaf = m;
        else
            munmap(m, LEAF_FDS * sizeof(struct set));
    }
    return &leaf[fd % LEAF_FDS];
}

int st_peer_add(int fd, uint64_t sock_id, uint32_t hash)
{
    struct set *s = set_of(fd);
    if (!s)
        return -1;
    if (!hash)
        hash = 1;   /* 0 marks an empty place */
    uint64_t id = __atomic_load_n(&s->sock_id, __ATOMIC_ACQUIRE);
    if (id != sock_id) {
        /* a new socket on this fd: the one who switches the id empties
         * the set (a sender racing the switch may count a peer twice) */
        if (__atomic_compare_exchange_n(&s->sock_id, &id, sock_id, false,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            for (int i = 0; i < ST_PEERS_MAX; i++)
                __atomic_store_n(&s->h[i], 0, __ATOMIC_RELEASE);
    }
    for (int i = 0; i < ST_PEERS_MAX; i++) {
        uint32_t v = __atomic_load_n(&s->h[i], __ATOMIC_ACQUIRE);
        while (v == 0) {
            if (__atomic_compare_exchange_n(&s->h[i], &v, hash, false,
                                            __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
                return 1;
        }
        if (v == hash)
            return 0;
    }
    return -1;
}
