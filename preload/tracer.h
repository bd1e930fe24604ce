/* tracer.h - the tracer's process-wide state: on/off, the lock, and the
 * operations on the endpoint table that the hooks are written in. Every
 * function here but st_enter runs with the lock held. */
#ifndef SOCKTRACE_TRACER_H
#define SOCKTRACE_TRACER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "trace_format.h"

extern int st_on;
/* SOCKTRACE_TCPINFO=0: no TCP_INFO read at close (no byte counts) */
extern int st_tcpinfo;

/* Takes the tracer lock; false when tracing is off, when this thread is
 * already inside the tracer (a signal handler interrupting a hook), or when
 * the lock stayed busy too long: the caller then drops its record. */
bool st_enter(void);
/* The same, with a longer bound: for fork's prepare handler. */
bool st_enter_for_fork(void);
void st_leave(void);
/* A close that could not take the lock is queued and applied by whoever
 * holds the lock next: a signal handler's close is never lost. */
void st_defer_close(int fd);

/* In a forked child: the lock and per-thread caches start afresh. */
void st_tracer_after_fork(void);

uint64_t st_now(void);

struct st_sock *st_find(int fd);
/* A new entry for fd. An entry still indexed under fd belongs to a socket
 * whose close the tracer missed: it goes to history first. */
struct st_sock *st_open_entry(int fd, int family, int type, int protocol,
                              int origin);
/* Moves fd's entry to history with the given ST_SF_* flags added. */
void st_close_entry(int fd, uint32_t flags);
/* The same for a slot that is not indexed. */
void st_close_slot(uint32_t id, uint32_t flags);
/* An entry for a socket fd we did not see created (inherited, received,
 * made by a raw syscall): everything is asked of the kernel. */
struct st_sock *st_adopt(int fd, int origin);

/* What the next data call on an fd may tell us, kept in a map read
 * without the lock, so the send and receive paths of a socket with nothing
 * to learn cost one load. fds beyond the map's size always say yes. */
#define ST_W_SEND   0x1u    /* a send resolves: implicit bind, or the end of
                               a non-blocking connect */
#define ST_W_PEERS  0x2u    /* unconnected datagram socket: peers counted */
/* Sets fd's bits from its entry (NULL: none). Call after any change. */
void st_watch_update(int fd, const struct st_sock *s);
unsigned st_watch(int fd);
/* The last peer hash noted for fd, without the lock. */
bool st_peer_cached(int fd, uint32_t hash);
void st_peer_cache(int fd, uint32_t hash);

/* seqlock brackets for an update in place; st_done also carries the
 * change to the socket's other fds (ST_SF_SHARED) */
void st_edit(struct st_sock *s);
void st_done(struct st_sock *s);

/* Records one call; s (may be NULL) gives the addresses after the call. */
void st_emit(int call, int fd, int fd2, long ret, int err,
             const struct st_sock *s);
void st_emit_addrs(int call, int fd, int fd2, long ret, int err,
                   const struct st_addr *local, const struct st_addr *peer);
/* True when this thread is inside the tracer: a hook run from a signal
 * handler that interrupted another hook. */
bool st_nested(void);
/* The calling thread is a vfork child until exec (all calls pass through
 * untraced), or its parent again. */
void st_vfork_child(void);
void st_vfork_parent(void);

/* The kernel's answer for the local address (one getsockname). */
void st_ask_local(struct st_sock *s, int fd);
void st_ask_peer(struct st_sock *s, int fd);

#endif
