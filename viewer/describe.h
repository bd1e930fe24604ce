/* describe.h - words and text for what the trace file stores as numbers:
 * addresses, families, protocols, states, calls, errno values, times. */
#ifndef SOCKTRACE_DESCRIBE_H
#define SOCKTRACE_DESCRIBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"

#define ADDR_TEXT_MAX 480

/* "1.2.3.4:80", "[::1]:80" (v4-mapped shown as IPv4), "/path", "@name".
 * Returns false (and writes "") when there is no address to show: none
 * known, a unix socket without a name, an inet socket not bound. */
bool addr_text(const struct st_addr *a, char *buf, size_t size);
bool addr_is_loopback(const struct st_addr *a);
/* What the viewer adds to a socket from elsewhere: the name its peer was
 * looked up by (the name ring), the traced process at the other end (the
 * other trace files). */
struct sock_extra {
    const char *host;       /* NULL: not from a lookup */
    int peer_pid;           /* 0: not a traced process here */
    int peer_fd;
    const char *peer_comm;
};

/* The two address cells of a table row (each ADDR_TEXT_MAX bytes): the
 * text, "(unnamed)" or "-"; the local one marked " *" when the kernel
 * chose its port; the peer followed by its name, "[last of N peers]" for
 * an unconnected datagram socket, and the process at the other end. */
void sock_addr_cells(const struct st_sock *s, const struct sock_extra *x,
                     char *local, char *peer);
bool addr_is_wildcard(const struct st_addr *a);
/* "sent 77 B, received 1.2 KiB, rtt 40 us" from a closed TCP socket's
 * TCP_INFO; false (and "") when it has none */
bool tcp_text(const struct st_sock *s, char *buf, size_t size);

const char *family_name(int family);
const char *type_name(int type);
/* "tcp", "udp", "unix", ... from family, type and protocol */
const char *proto_name(const struct st_sock *s);
const char *state_name(int state);
const char *origin_name(int origin);
/* what a connect came to: "connected", "failed", "timed_out", "pending";
 * NULL when the socket made none */
const char *outcome_name(int outcome);
/* The STATE cell: "connected", "failed ECONNREFUSED", "timed out after
 * 1,002 ms", "closed (was listening)", "closed (was connected, ECONNRESET,
 * unseen)" */
void state_text(const struct st_sock *s, char *buf, size_t size);
/* Why records were dropped (enum st_drop_why; DROP_UNREADABLE: what the
 * reader could not copy): the JSON key ("file_could_not_grow") and words
 * for the text ("the file could not grow"). */
#define DROP_UNREADABLE ST_DROP_WHY_COUNT_
const char *drop_key(unsigned why);
const char *drop_words(unsigned why);
/* ms with thousands separators: "1,002" */
void ms_text(uint64_t ns, char *buf, size_t size);
const char *call_name(int call);
/* "ECONNREFUSED"; "E123" for one we do not know */
const char *errno_name(int err, char *buf, size_t size);

/* Local time, ISO-8601 with milliseconds: 2026-11-24T18:09:11.123+00:00 */
void time_text(uint64_t ns, char *buf, size_t size);
/* "1.5s", "120ms", "3m12s", "2h05m" */
void duration_text(uint64_t ns, char *buf, size_t size);

#endif
