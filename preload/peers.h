/* peers.h - the distinct peers of each unconnected datagram socket, as
 * 32-bit address hashes, in private memory. Lock-free: datagram servers
 * send from many threads on one socket. */
#ifndef SOCKTRACE_PEERS_H
#define SOCKTRACE_PEERS_H

#include <stdint.h>

#define ST_PEERS_MAX 32

/* Notes hash for socket sock_id on fd. Returns 1 when it is new, 0 when
 * already there, -1 when the set is full (or there is no memory). */
int st_peer_add(int fd, uint64_t sock_id, uint32_t hash);

#endif
