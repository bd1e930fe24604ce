/* trace_format.h - layout of a socktrace trace file, the only link between
 * libsocktrace.so (the writer, inside the traced process) and the socktrace
 * viewer (a reader, in any other process). Included by both; nothing else.
 *
 * Every field has a fixed width and a fixed offset, so a 32-bit and a 64-bit
 * process read the same bytes; no pointers, no long, no size_t, no time_t,
 * no struct sockaddr. All integers are in the writer's native byte order;
 * `endian` lets a reader on another byte order refuse the file.
 *
 * File layout (every region starts on a 4096-byte boundary):
 *
 *   [0, 4096)              struct st_header
 *   table segment 0        table_cap0 x struct st_sock      (sockets open now)
 *   history ring           history_cap x struct st_sock     (sockets closed)
 *   event ring             events_cap x struct st_event     (calls, in order)
 *   name ring              names_cap x struct st_name       (name lookups)
 *   table segment 1..n     (table_cap0 << k) x struct st_sock, appended as the
 *                          process opens more sockets; offsets in table_seg_off
 *
 * Writer protocol (one process; threads serialise on a lock in memory):
 *   - a record (st_sock or st_event) is published with a sequence counter:
 *     seq is made odd, the body is written, seq is made even (release store).
 *   - rings are written at index (head % cap); head is incremented (release)
 *     after the record is complete. head counts every record ever written,
 *     so head - cap (when positive) is how many the ring overwrote.
 *   - a table segment is fully allocated in the file before its offset is
 *     stored, and table_segs is incremented (release) after the offset.
 *   - the writer never waits for a reader.
 *
 * Reader protocol (the viewer maps the file read-only):
 *   - check magic, version, endian and the four sizes; refuse what differs.
 *   - check every offset and capacity against the file size before use.
 *   - per record: s1 = seq (acquire); copy the body; s2 = seq (acquire after
 *     a fence). The copy is good when s1 == s2 and s1 is even. Retry a few
 *     times; a record that stays odd belongs to a process killed mid-write
 *     and is skipped.
 *   - ring records from index max(0, head - cap) to head - 1; a record whose
 *     `serial` does not equal its position was overwritten during the read.
 */
#ifndef SOCKTRACE_TRACE_FORMAT_H
#define SOCKTRACE_TRACE_FORMAT_H

#include <stdint.h>
#include <stddef.h>

#define ST_MAGIC        "SOCKTRC1"      /* 8 bytes, no terminator stored */
#define ST_VERSION      2u              /* 2: st_name ring, ST_SF_PEER_LAST,
                                           ST_SF_PEERS_MORE, ST_SF_SHARED */
#define ST_ENDIAN_MARK  0x01020304u
#define ST_PAGE         4096u
#define ST_MAX_SEGS     20u             /* cap0 << 19: far beyond any fd limit */
#define ST_CMDLINE_MAX  2048u
#define ST_ADDR_DATA    108u            /* sizeof(sun_path) on Linux */
#define ST_HOST_MAX     216u            /* st_name.host, NUL included */

/* st_header.flags */
#define ST_HF_EXITED    0x1u    /* ran exit handlers; end_ns is valid */

/* st_addr.kind: how to read data[] */
enum st_addr_kind {
    ST_ADDR_NONE    = 0,    /* not known or not bound */
    ST_ADDR_INET    = 1,    /* data[0..3] IPv4, port */
    ST_ADDR_INET6   = 2,    /* data[0..15] IPv6, port, scope */
    ST_ADDR_UNIX    = 3,    /* data[0..len) path; data[0]==0: abstract */
    ST_ADDR_UNNAMED = 4,    /* unix socket with no name */
    ST_ADDR_OTHER   = 5,    /* family in `family`, raw bytes in data */
};

/* One socket address, as the kernel reported it. 120 bytes. */
struct st_addr {
    uint16_t kind;          /* enum st_addr_kind */
    uint16_t family;        /* the AF_* value as the kernel gave it */
    uint16_t port;          /* host byte order (inet, inet6) */
    uint16_t len;           /* bytes used in data[] */
    uint32_t scope;         /* inet6 scope id */
    uint8_t  data[ST_ADDR_DATA];
};

/* st_sock.state */
enum st_state {
    ST_STATE_FREE = 0,      /* table slot unused */
    ST_STATE_CREATED,       /* socket() done, nothing else */
    ST_STATE_BOUND,
    ST_STATE_LISTENING,
    ST_STATE_CONNECTING,    /* non-blocking connect in progress */
    ST_STATE_CONNECTED,     /* shutdown shows in flags, not here */
    ST_STATE_FAILED,        /* connect failed */
    ST_STATE_CLOSED,        /* in the history ring */
    ST_STATE_COUNT_
};

/* st_sock.origin: how the fd came to be a socket in this process */
enum st_origin {
    ST_ORIGIN_SOCKET = 0,
    ST_ORIGIN_ACCEPT,
    ST_ORIGIN_SOCKETPAIR,
    ST_ORIGIN_INHERITED,    /* open when the tracer started: exec, inetd */
    ST_ORIGIN_DUP,
    ST_ORIGIN_RECEIVED,     /* SCM_RIGHTS */
    ST_ORIGIN_COUNT_
};

/* st_sock.flags */
#define ST_SF_PORT_CHOSEN   0x0001u /* the kernel chose the local port */
#define ST_SF_CLOEXEC       0x0002u
#define ST_SF_NONBLOCK      0x0004u
#define ST_SF_CLOSED_UNSEEN 0x0008u /* closed without the tracer seeing it */
#define ST_SF_CLOSED_EXEC   0x0010u /* closed by close-on-exec */
#define ST_SF_TCPINFO       0x0020u /* bytes_*, rtt_us, retrans are valid */
#define ST_SF_LOCAL_DONE    0x0040u /* local address final, no need to ask */
#define ST_SF_NO_PORT       0x0080u /* IP_BIND_ADDRESS_NO_PORT was set */
#define ST_SF_CLOSING       0x0100u /* close() in progress on some thread */
#define ST_SF_SHUT_RD       0x0200u /* shutdown(SHUT_RD) seen */
#define ST_SF_SHUT_WR       0x0400u /* shutdown(SHUT_WR) seen */
#define ST_SF_PEER_LAST     0x0800u /* unconnected datagram socket: `peer` is
                                       the last address it sent to or
                                       received from, not an association */
#define ST_SF_PEERS_MORE    0x1000u /* peers_seen stopped at its bound: at
                                       least that many */
#define ST_SF_SHARED        0x2000u /* other fds (dup) refer to this socket;
                                       they carry the same sock_id */

/* One socket: an entry of the table, or of the history ring. 320 bytes. */
struct st_sock {
    uint32_t seq;           /* seqlock, see the protocol above */
    int32_t  fd;
    uint64_t serial;        /* ring: position written at; table: unused */
    uint64_t sock_id;       /* same for all dup aliases of one socket */
    uint64_t opened_ns;     /* CLOCK_REALTIME, ns */
    uint64_t closed_ns;     /* 0 while open */
    uint64_t bytes_sent;    /* TCP_INFO at close, when ST_SF_TCPINFO */
    uint64_t bytes_received;
    uint32_t rtt_us;
    uint32_t retrans;
    uint32_t flags;         /* ST_SF_* */
    uint32_t peers_seen;    /* distinct peers of an unconnected datagram
                               socket (sendto/sendmsg/recvfrom/recvmsg) */
    uint16_t family;        /* AF_* from socket() */
    uint16_t type;          /* SOCK_STREAM, ... (flags removed) */
    uint16_t protocol;      /* IPPROTO_* as the kernel reports it */
    uint8_t  state;         /* enum st_state */
    uint8_t  origin;        /* enum st_origin */
    struct st_addr local;
    struct st_addr peer;
};

/* st_event.call */
enum st_call {
    ST_CALL_NONE = 0,
    ST_CALL_SOCKET, ST_CALL_SOCKETPAIR, ST_CALL_BIND, ST_CALL_LISTEN,
    ST_CALL_CONNECT, ST_CALL_ACCEPT, ST_CALL_ACCEPT4, ST_CALL_GETSOCKNAME,
    ST_CALL_GETPEERNAME, ST_CALL_CLOSE, ST_CALL_SHUTDOWN, ST_CALL_DUP,
    ST_CALL_DUP2, ST_CALL_DUP3, ST_CALL_FCNTL, ST_CALL_CLOSE_RANGE,
    ST_CALL_SENDTO, ST_CALL_SENDMSG, ST_CALL_SENDMMSG, ST_CALL_RECVFROM,
    ST_CALL_RECVMSG, ST_CALL_GETSOCKOPT, ST_CALL_SETSOCKOPT,
    ST_CALL_INHERIT,        /* found at start-up or after exec */
    ST_CALL_EXEC,           /* a new program image started */
    ST_CALL_FORK,           /* this process was forked; fd2 = parent pid */
    ST_CALL_UNSEEN,         /* fd reuse proved an earlier close */
    ST_CALL_RECVMMSG,
    ST_CALL_GETADDRINFO,    /* a name lookup: fd -1, peer = first address,
                               ret = number of addresses; the name is in
                               the name ring */
    ST_CALL_GETHOSTBYNAME,  /* the same, for gethostbyname* */
    ST_CALL_SEND,
    ST_CALL_COUNT_
};

/* One intercepted call. 288 bytes. */
struct st_event {
    uint32_t seq;
    uint16_t call;          /* enum st_call */
    uint16_t reserved;
    uint64_t serial;        /* position in the ring it was written at */
    uint64_t ns;            /* CLOCK_REALTIME, ns */
    int64_t  ret;           /* the call's return value */
    int32_t  err;           /* errno when ret < 0, else 0 */
    int32_t  tid;
    int32_t  fd;            /* the fd the call was about */
    int32_t  fd2;           /* accept: new fd; dup: new fd; socketpair: 2nd */
    struct st_addr local;   /* of fd (or fd2 when set) after the call */
    struct st_addr peer;
};

/* One address a name lookup (getaddrinfo, gethostbyname*) returned, with
 * the name the program asked for. 256 bytes. A reader shows `host` beside
 * a peer address equal to `addr`; the newest record for an address wins.
 * The writer does not repeat a (host, addr) pair already in the ring. */
struct st_name {
    uint32_t seq;
    uint16_t family;        /* AF_INET (addr[0..3]) or AF_INET6 (addr[0..15]) */
    uint16_t reserved;
    uint64_t serial;        /* position in the ring it was written at */
    uint64_t ns;            /* CLOCK_REALTIME of the lookup, ns */
    uint8_t  addr[16];
    char     host[ST_HOST_MAX]; /* as the program asked, NUL-terminated,
                                   cut at ST_HOST_MAX - 1 bytes */
};

/* The file header: the first page. */
struct st_header {
    char     magic[8];      /* ST_MAGIC */
    uint32_t version;       /* ST_VERSION */
    uint32_t header_size;   /* sizeof(struct st_header) */
    uint32_t sock_size;     /* sizeof(struct st_sock) */
    uint32_t event_size;    /* sizeof(struct st_event) */
    uint32_t endian;        /* ST_ENDIAN_MARK */
    uint32_t flags;         /* ST_HF_* */
    int32_t  pid;
    int32_t  ppid;
    uint32_t uid;
    uint32_t exec_count;    /* program images after the first */
    uint64_t start_ns;      /* CLOCK_REALTIME when the first image started */
    uint64_t exec_ns;       /* CLOCK_REALTIME when the current image started */
    uint64_t end_ns;        /* at exit(); 0 while running or after a kill */
    uint64_t proc_start;    /* /proc/PID/stat starttime, tells pid reuse */
    uint64_t dropped;       /* records lost to contention or a full file */
    uint64_t socks_total;   /* sockets ever entered in the table */
    uint64_t open_count;    /* table slots in use */
    uint32_t table_segs;    /* valid entries in table_seg_off */
    uint32_t table_cap0;    /* segment k holds table_cap0 << k slots */
    uint64_t table_seg_off[ST_MAX_SEGS];
    uint64_t history_off;
    uint64_t history_head;  /* closed sockets ever written */
    uint32_t history_cap;
    uint32_t events_cap;
    uint64_t events_off;
    uint64_t events_head;   /* events ever written */
    uint32_t cmdline_len;   /* bytes used in cmdline */
    uint32_t argc;
    char     cmdline[ST_CMDLINE_MAX];   /* argv, each NUL-terminated */
    uint64_t names_off;
    uint64_t names_head;    /* name records ever written */
    uint32_t names_cap;
    uint32_t name_size;     /* sizeof(struct st_name) */
    uint8_t  reserved[1704];
};

_Static_assert(sizeof(struct st_addr) == 120, "st_addr layout");
_Static_assert(sizeof(struct st_sock) == 320, "st_sock layout");
_Static_assert(offsetof(struct st_sock, local) == 80, "st_sock layout");
_Static_assert(sizeof(struct st_event) == 288, "st_event layout");
_Static_assert(offsetof(struct st_event, local) == 48, "st_event layout");
_Static_assert(sizeof(struct st_name) == 256, "st_name layout");
_Static_assert(sizeof(struct st_header) == ST_PAGE, "st_header is one page");
_Static_assert(offsetof(struct st_header, table_seg_off) == 112, "header layout");
_Static_assert(offsetof(struct st_header, cmdline) == 320, "header layout");
_Static_assert(offsetof(struct st_header, names_off) == 2368, "header layout");

#endif
