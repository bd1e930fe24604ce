/* tracer.h - the endpoint table's operations, which the hooks are written
 * in. Nothing here takes a lock or waits for another thread: each change
 * is published with one compare-and-swap, calls on one fd number that
 * overlap in time are ordered by their time windows, and where even those
 * overlap the kernel is asked (trace_protocol.h has the protocol). */
#ifndef SOCKTRACE_TRACER_H
#define SOCKTRACE_TRACER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "codec.h"
#include "trace_format.h"

extern int st_on;
/* SOCKTRACE_TCPINFO=0: no TCP_INFO read at close (no byte counts) */
extern int st_tcpinfo;

/* True when this call should be traced: tracing is on and the thread is
 * not a vfork child. In a child made behind fork()'s back this is where
 * it is told (newproc.h), before its first record. */
bool st_active(void);

/* CLOCK_MONOTONIC, ns. Read after a hook's real call, it is also the time
 * the hook's event carries. */
uint64_t st_now(void);
/* A time before the real call: exact for the calls that hand out fd
 * numbers (read the clock), this thread's last reading for the others
 * (earlier, which is all the protocol needs of it). Every hook that
 * records starts with one of them: that forgets the time of its thread's
 * previous call, so no event is stamped with it. */
uint64_t st_before(void);
uint64_t st_before_loose(void);

/* The slot word of fd now, 0 when the table has nothing there. Read
 * before the real call. */
uint64_t st_word(int fd);

/* The live socket the table has for fd, and the slot word it was read
 * from. */
bool st_get_at(int fd, struct st_sock *s, uint64_t *word);

/* The live socket the table has for fd; _in: in another mapping (a
 * forked child reading its parent's table). */
bool st_get(int fd, struct st_sock *s);
bool st_get_in(struct st_header *h, int fd, struct st_sock *s);
/* The same as the file holds it, for a call that only reports it (an
 * event needs its id and compact addresses: no decoding) */
bool st_get_rec(int fd, union st_rec_any *r);

/* Changes s as the call did; false when there is nothing to change. */
typedef bool (*st_apply_fn)(struct st_sock *s, int fd, void *arg);

/* A call that succeeded on the socket at fd (bind, connect, ...): applies
 * fn to the entry as it stood when `base` was read. *out is the entry
 * afterwards (state ST_STATE_FREE when there is none). True when changed. */
bool st_change(int fd, uint64_t base, uint64_t t_lo, st_apply_fn fn,
               void *arg, struct st_sock *out);

/* st_change for an fn that reads and changes only head fields (flags,
 * state; not local or peer). When the slot still holds `base`, the change
 * is made on the record as the file holds it: its addresses are neither
 * decoded nor encoded, and the event is emitted from it. Otherwise it is
 * st_change. */
struct st_changed {
    bool as_filed;              /* rec holds the entry afterwards, else s */
    union st_rec_any rec;
    struct st_sock s;
};
bool st_change_head(int fd, uint64_t base, uint64_t t_lo, st_apply_fn fn,
                    void *arg, struct st_changed *c);
/* The entry's sock_id (0: none), and st_emit of it. */
uint64_t st_changed_id(const struct st_changed *c);
void st_emit_changed(int call, int fd, int fd2, long ret, int err,
                     const struct st_changed *c);

/* A change of one ST_SF_* flag (fcntl F_SETFD/F_SETFL, ioctl FIONBIO,
 * FIOCLEX): the st_apply_fn for it, and its argument. */
struct st_flag_arg {
    uint32_t bit;
    bool set;
};
bool st_flag_apply(struct st_sock *s, int fd, void *arg);

/* dup2 and dup3 mark their target before the call, as close does: a
 * thread that reads the slot meanwhile knows the socket there is
 * changing. `ours`: this call set the mark, and records the close of the
 * socket it displaces (s, with TCP_INFO's counts read as close reads
 * them). st_unmark when the call failed. Like close, a mark first proves
 * the entry still names what fd holds; a stale one is retired unseen. */
struct st_mark {
    uint64_t word;
    bool ours;
    struct st_sock s;
};
void st_mark(int fd, struct st_mark *m);
void st_unmark(int fd, const struct st_mark *m);

/* fd now refers to the socket *s describes (socket, accept, dup, ...), made
 * by a call that started at t_lo; m (dup2, dup3) is the mark set on fd
 * before the call. s is updated to what was published. False when
 * nothing was published. */
bool st_open(int fd, uint64_t t_lo, struct st_sock *s, const struct st_mark *m);

/* An entry for a socket fd the tracer did not see made (inherited,
 * received, raw syscall): everything is asked of the kernel. hint (may be
 * NULL) gives what is known of it; kept when the kernel agrees. False
 * when fd is not a socket. */
bool st_ask(int fd, int origin, const struct st_sock *hint, struct st_sock *out);

/* Whether fd still refers to the socket s (fd's entry) describes, with
 * one getsockopt: an entry goes stale when its socket is closed by a call
 * the tracer does not see and the number is reused. When not, fd's entry
 * is settled by asking the kernel (a stale one goes to history as closed
 * unseen) and the answer is false. */
bool st_confirm(int fd, const struct st_sock *s);

/* close: marked before the real call, recorded after it. A stale entry
 * (see st_confirm) is retired unseen, and nothing is marked. */
struct st_closing {
    int fd;
    bool marked, took_over;
    uint64_t word, t_lo;
    struct st_sock s;
};
void st_close_begin(int fd, struct st_closing *c, bool tcp_counts);
/* Records the close; s is the closed socket for the event (or NULL). */
const struct st_sock *st_close_end(struct st_closing *c, int ret, int err);

/* close_range/closefrom: every socket in [lo, hi] is marked, then closed. */
void st_range_begin(int lo, int hi);
void st_range_end(int lo, int hi, int call, uint64_t t_lo);
/* the call failed: nothing was closed */
void st_range_abort(int lo, int hi);
/* close_range(CLOSE_RANGE_CLOEXEC) */
void st_range_cloexec(int lo, int hi, uint64_t t_lo);

/* After exec: entries of fds that are no longer sockets are closed. */
void st_exec_sweep(void);
/* At exit: entries whose fd no longer holds their socket (closed by a call
 * no hook sees) go to history as found closed at exit. False, touching
 * nothing, in a process that does not own the mapped file (a vfork child,
 * a child of a raw clone that never made a hooked call). */
bool st_exit_sweep(void);
/* Copies a closed socket to history. */
void st_history(const struct st_sock *s);

/* Records one call; s (may be NULL) gives the addresses after the call. */
void st_emit(int call, int fd, int fd2, long ret, int err,
             const struct st_sock *s);
void st_emit_addrs(int call, int fd, int fd2, long ret, int err,
                   const struct st_addr *local, const struct st_addr *peer,
                   uint64_t sock_id);
/* The same from a record as st_get_rec read it (NULL: none). */
void st_emit_rec(int call, int fd, int fd2, long ret, int err,
                 const union st_rec_any *r);

/* What the next data call on an fd may tell us, from hints in its slot
 * word, so the send and receive paths of a socket with nothing to learn
 * cost a few loads. fds beyond the table always say yes. */
#define ST_W_SEND   0x1u    /* a send resolves: implicit bind, or the end of
                               a non-blocking connect */
#define ST_W_PEERS  0x2u    /* unconnected datagram socket: peers counted */
unsigned st_watch(int fd);
bool st_peer_cached(int fd, uint32_t hash);
void st_peer_cache(int fd, uint32_t hash);

/* The calling thread is a vfork child until exec (all calls pass through
 * untraced), or its parent again; sp is the stack pointer the vfork was
 * called with, below which the child's frames lay. */
void st_vfork_child(void);
void st_vfork_parent(void *sp);
/* In a forked child: per-thread state starts afresh. */
void st_tracer_after_fork(void);

/* The kernel's answer for the local or peer address (one syscall). */
void st_ask_local(struct st_sock *s, int fd);
void st_ask_peer(struct st_sock *s, int fd);

/* Records that a lookup of host returned addr (16 bytes, IPv4 in the
 * first 4) at monotonic time ns; a pair already in the ring is not
 * repeated. */
void st_name_push(int family, const uint8_t addr[16], const char *host,
                  uint64_t ns);

/* One line on stderr, once per process: tracing is off from now on. */
/* What the write path tells the layers above it, which hand it these
 * once at start-up (init.c): it never calls up into them. */
void st_on_untraced(void (*fn)(const char *why));   /* no file: untraced */
void st_on_close(void (*before)(struct st_sock *s, int fd),
                 void (*after)(struct st_sock *s)); /* around a socket's close */

/* Test hook (SOCKTRACE_TEST_STALL=FD:MS): a writer recording a change to
 * fd FD sleeps MS ms between building its records and publishing them. */
void st_test_stall_setup(const char *spec);

#endif
