/* write_path.h - what the files of the endpoint table's write protocol
 * (slot.c, kernel_ask.c, change.c, closing.c, sweeps.c, emit.c,
 * thread_state.c) share among themselves; the hooks use tracer.h. */
#ifndef SOCKTRACE_WRITE_PATH_H
#define SOCKTRACE_WRITE_PATH_H

#include <stdbool.h>
#include <stdint.h>

#include "codec.h"
#include "trace_format.h"

/* thread_state.c */
int st_tid(void);
/* An event's time: the reading taken after the real call of the running
 * hook (st_now), or a new one. */
uint64_t st_call_ns(void);
uint64_t st_new_sock_id(void);
bool st_in_vfork_child(void);

/* test_stall.c: SOCKTRACE_TEST_STALL holds a writer publishing fd */
void st_test_stall(int fd);

/* slot.c: the slot protocol */
enum { ST_K_NONE, ST_K_LIVE, ST_K_TOMB };      /* what a slot holds */
struct st_header *st_file(void);
uint64_t *st_slot_for(int fd);
int st_read_slot_in(struct st_header *h, const uint64_t *slot, uint64_t *w,
                    struct st_sock *cur);
int st_read_slot(const uint64_t *slot, uint64_t *w, struct st_sock *cur);
/* st_get_rec, with the slot (NULL: none) and the word the copy is of. */
bool st_get_rec_at(int fd, uint64_t **slot, uint64_t *w, union st_rec_any *r);
bool st_publish(uint64_t *slot, uint64_t old, const struct st_sock *s,
                uint64_t marks);
/* The same for a live record r already in its file form (its size kept),
 * head its head decoded (for the slot word's hints). */
bool st_publish_rec(uint64_t *slot, uint64_t old, const union st_rec_any *r,
                    const struct st_sock *head);

enum { ST_OLDER, ST_NEWER, ST_OVERLAP };

/* How what a slot holds (kind, cur) stands to a call made in [t_lo, t_hi]. */
static inline int st_order_of(int kind, const struct st_sock *cur, uint64_t t_lo,
                              uint64_t t_hi)
{
    if (kind == ST_K_NONE || cur->t_hi < t_lo)
        return ST_OLDER;
    if (cur->t_lo > t_hi)
        return ST_NEWER;
    return ST_OVERLAP;
}

/* kernel_ask.c */
bool st_fd_open(int fd);
bool st_same_socket(const struct st_sock *a, const struct st_sock *k);
void st_retire_unseen(int fd, uint64_t w, struct st_sock *old, uint64_t t);

/* emit.c */
void st_peer_forget(int fd);

#endif
