/* peerjoin.h - both ends of a connection: when the socket at the other end
 * of a connection belongs to a traced process on this host, name it. The
 * index is keyed by the connection's addresses (uthash); a lookup swaps
 * local and peer. */
#ifndef SOCKTRACE_PEERJOIN_H
#define SOCKTRACE_PEERJOIN_H

#include "describe.h"
#include "snapshot.h"

struct conn_index;

struct conn_index *conn_index_new(void);
/* Adds s's connected inet sockets, open and closed. s must outlive the
 * index (entries point into it). */
void conn_index_add(struct conn_index *ci, const struct snapshot *s);
/* Loads and adds every trace file in dir, of running and ended processes
 * (both ends of a connection may have ended), each checked against /proc
 * (snap_check_live); the snapshots are kept in the index and freed with
 * it. */
void conn_index_add_dir(struct conn_index *ci, const char *dir);
/* Fills x for socket so of process s: the name its peer was looked up by,
 * and the traced socket at the other end (whose lifetime overlaps); of
 * several ends there (a socket handed from parent to child), the one open
 * now, else the one that held it last. */
void conn_index_extra(const struct conn_index *ci, const struct snapshot *s,
                      const struct st_sock *so, struct sock_extra *x);
void conn_index_free(struct conn_index *ci);

#endif
