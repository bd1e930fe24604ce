/* trace_format.h - layout of a socktrace trace file, the only link between
 * libsocktrace.so (the writers: every thread of the traced process) and the
 * socktrace viewer (a reader, in any other process). Included by both.
 *
 * Every field has a fixed width and a fixed offset; no pointers, no long,
 * no size_t, no time_t, no struct sockaddr. Integers are in the writer's
 * byte order; `endian` lets a reader on another byte order refuse the file.
 * Every reference inside the file is an offset from its first byte.
 *
 * Layout. Space is handed out from `alloc_end` upwards and the file is
 * extended ahead of it (`file_end`). Nothing is freed to the file system;
 * socket records are recycled through free lists. The writer maps the file
 * in parts as it grows (ST_SEG0; "Growth" in trace_protocol.h); a block
 * handed out never crosses the start of a part, so bytes just below such a
 * start may be left unused. A reader sees one file and maps it as it likes.
 *
 *   [0, 4096)            struct st_header
 *   dir_off              ST_DIR_ENTRIES x uint64: offset of a leaf, or 0
 *   leaves, records,     allocated on first use from alloc_end
 *   ring segments
 *
 * How the writers and the readers use it, step by step (slots, rings,
 * growth, fork, exec, versions): trace_protocol.h, included at the end.
 */
#ifndef SOCKTRACE_TRACE_FORMAT_H
#define SOCKTRACE_TRACE_FORMAT_H

#include <stdint.h>
#include <stddef.h>

#define ST_MAGIC        "SOCKTRCF"      /* 8 bytes, no terminator stored;
                                           before version 6 the last byte
                                           was a digit */
#define ST_VERSION      7u              /* 3: lock-free table and rings;
                                           4: connect outcomes;
                                           5: dropped by reason, the file
                                           mapped in parts (ST_SEG0);
                                           6: min_reader, longer headers
                                           and ring records readable;
                                           7: 64-byte record head, closed_ns
                                           in history records only */
#define ST_VERSION_READ 7u              /* the oldest format read */
#define ST_ENDIAN_MARK  0x01020304u
#define ST_PAGE         4096u
#define ST_CMDLINE_MAX  2048u
#define ST_ADDR_DATA    108u            /* sizeof(sun_path) on Linux */
#define ST_CADDR_DATA   28u             /* st_caddr.data */
#define ST_HOST_MAX     216u            /* st_namerec.host, NUL included */
#define ST_EXEC_PATH_MAX 96u            /* st_header.exec_path, NUL included */
#define ST_DIR_ENTRIES  1024u
#define ST_LEAF_SLOTS   1024u           /* fds below 2^20 are traced */
#define ST_RING_SEGS    16u
#define ST_GRANULE      16u
#define ST_SEG0         (64u << 10)     /* the writer's first mapped part */
#define ST_LEAF_POS(i)  ((((i) & 7u) << 7) | ((i) >> 3))    /* i < 1024 */

/* slot word */
#define ST_W_GRAN_MASK  0xffffffffull   /* granule of the record */
#define ST_W_GEN_SHIFT  32              /* generation: bits 32..58 */
#define ST_W_GEN_MASK   0x7ffffffull
#define ST_W_HINT_SEND  (1ull << 59)    /* for the writer's data calls, which */
#define ST_W_HINT_PEERS (1ull << 60)    /* read only the word; readers ignore */
#define ST_W_UNKNOWN    (1ull << 61)    /* a change could not be recorded */
#define ST_W_CLOSING    (1ull << 62)    /* close() running on some thread */
#define ST_W_TOMB       (1ull << 63)    /* the record is a closed socket */

/* ring commit word: low two bits */
#define ST_RING_CLAIMED   1u
#define ST_RING_COMMITTED 2u
#define ST_RING_VOID      3u            /* abandoned: skip */

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

/* The same, compact: enough for every inet address. 40 bytes. An address
 * longer than ST_CADDR_DATA (a unix path) keeps its first bytes and `cut`
 * is set; the full one is in the socket's record. */
struct st_caddr {
    uint8_t  kind;          /* enum st_addr_kind */
    uint8_t  len;           /* bytes used in data[] */
    uint16_t family;
    uint16_t port;
    uint16_t cut;           /* 1: data[] holds only the start */
    uint32_t scope;
    uint8_t  data[ST_CADDR_DATA];
};

/* st_rec.state */
enum st_state {
    ST_STATE_FREE = 0,      /* no socket */
    ST_STATE_CREATED,       /* socket() done, nothing else */
    ST_STATE_BOUND,
    ST_STATE_LISTENING,
    ST_STATE_CONNECTING,    /* non-blocking connect in progress */
    ST_STATE_CONNECTED,     /* shutdown shows in flags, not here */
    ST_STATE_FAILED,        /* connect failed */
    ST_STATE_CLOSED,        /* in the history ring, or a tombstone */
    ST_STATE_UNKNOWN,       /* the file could not grow to record a change */
    ST_STATE_COUNT_
};

/* st_rec.origin: how the fd came to be a socket in this process */
enum st_origin {
    ST_ORIGIN_SOCKET = 0,
    ST_ORIGIN_ACCEPT,
    ST_ORIGIN_SOCKETPAIR,
    ST_ORIGIN_INHERITED,    /* open when the tracer started: exec, inetd */
    ST_ORIGIN_DUP,
    ST_ORIGIN_RECEIVED,     /* SCM_RIGHTS */
    ST_ORIGIN_FOUND,        /* made by a call the tracer did not see (a raw
                               syscall); found by asking the kernel */
    ST_ORIGIN_COUNT_
};

/* st_rec_head.outcome: what became of the socket's last connect. The
 * program may learn it long after the call (a non-blocking connect), by
 * getsockopt(SO_ERROR), a data call's error, getpeername, or not at all
 * (it closes the socket first); whichever comes first sets it. */
enum st_conn {
    ST_CONN_NONE = 0,       /* no connect on this socket */
    ST_CONN_PENDING,        /* started, outcome not known yet */
    ST_CONN_OK,             /* connected (a later reset is end_err) */
    ST_CONN_FAILED,         /* refused, unreachable, timed out by the
                               kernel: connect_err, 0 when not known */
    ST_CONN_GAVE_UP,        /* closed while still connecting: the program
                               gave up after closed_ns - connect_ns */
    ST_CONN_COUNT_
};

/* st_rec.flags */
#define ST_SF_PORT_CHOSEN   0x0001u /* the kernel chose the local port */
#define ST_SF_CLOEXEC       0x0002u
#define ST_SF_NONBLOCK      0x0004u
#define ST_SF_CLOSED_UNSEEN 0x0008u /* closed without the tracer seeing it */
#define ST_SF_CLOSED_EXEC   0x0010u /* closed by close-on-exec */
#define ST_SF_TCPINFO       0x0020u /* bytes_*, rtt_us, retrans are valid */
#define ST_SF_LOCAL_DONE    0x0040u /* local address final, no need to ask */
#define ST_SF_NO_PORT       0x0080u /* IP_BIND_ADDRESS_NO_PORT was set */
#define ST_SF_ASKED         0x0100u /* this version is the kernel's answer */
#define ST_SF_SHUT_RD       0x0200u /* shutdown(SHUT_RD) seen */
#define ST_SF_SHUT_WR       0x0400u /* shutdown(SHUT_WR) seen */
#define ST_SF_PEER_LAST     0x0800u /* unconnected datagram socket: `peer` is
                                       the last address it sent to or
                                       received from, not an association */
#define ST_SF_PEERS_MORE    0x1000u /* peers_seen stopped at its bound: at
                                       least that many */
#define ST_SF_SHARED        0x2000u /* other fds (dup) refer to this socket;
                                       they carry the same sock_id. A reader
                                       gives every alias the endpoints of
                                       the version with the latest t_hi. */
#define ST_SF_GONE_AT_EXIT  0x4000u /* with CLOSED_UNSEEN: found closed when
                                       the process exited (its fd held no
                                       such socket then); when it closed is
                                       unknown, closed_ns is the exit's */

/* What every socket record starts with. 64 bytes: a table record of two
 * inet addresses is 144, 152 with its slot (153 measured: the leaves). */
struct st_rec_head {
    uint64_t sock_id;       /* same for all dup aliases of one socket */
    uint64_t opened_ns;     /* monotonic */
    uint64_t t_lo;          /* window of the call that made this version */
    uint64_t t_hi;          /* a closed version in the table (a tombstone)
                               closed at t_hi; history records carry their
                               own closed_ns */
    uint64_t connect_ns;    /* monotonic: start of the last connect; 0: none */
    uint32_t flags;         /* ST_SF_* */
    int32_t  fd;
    uint16_t protocol;      /* IPPROTO_* as the kernel reports it */
    uint16_t peers_seen;    /* distinct peers of an unconnected datagram
                               socket (sendto/sendmsg/recvfrom/recvmsg); it
                               stops at 65535, and ST_SF_PEERS_MORE says
                               there were more than it counts */
    uint8_t  family;        /* AF_* from socket() (AF_MAX is below 64) */
    uint8_t  type;          /* SOCK_STREAM, ... (flags removed) */
    uint8_t  state;         /* enum st_state */
    uint8_t  origin;        /* enum st_origin */
    uint16_t size;          /* ST_REC_SMALL or ST_REC_LARGE */
    uint16_t connect_err;   /* errno the connect failed with (ST_CONN_FAILED;
                               0: failed, the error not known) */
    uint16_t end_err;       /* errno a data call or SO_ERROR reported on the
                               connected socket (ECONNRESET, ...), 0: none */
    uint8_t  outcome;       /* enum st_conn */
    uint8_t  was;           /* closed versions: the state before the close */
};

/* A table record: the head, then two addresses, compact when both fit. */
struct st_rec_small {       /* 144 bytes */
    struct st_rec_head h;
    struct st_caddr local, peer;
};
struct st_rec_large {       /* 304 bytes */
    struct st_rec_head h;
    struct st_addr local, peer;
};
/* Either, as a reader copies one: head.size tells which. */
union st_rec_any {
    struct st_rec_head head;
    struct st_rec_small small;
    struct st_rec_large large;
};
#define ST_REC_SMALL ((uint16_t)sizeof(struct st_rec_small))
#define ST_REC_LARGE ((uint16_t)sizeof(struct st_rec_large))

/* A closed socket in the history ring. 344 bytes. */
struct st_histrec {
    uint64_t word;          /* ring commit word */
    struct st_rec_head h;
    uint64_t closed_ns;     /* monotonic */
    uint64_t bytes_sent;    /* TCP_INFO at close, when ST_SF_TCPINFO */
    uint64_t bytes_received;
    uint32_t rtt_us;
    uint32_t retrans;
    struct st_addr local, peer;
};

/* st_evrec.call */
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
    ST_CALL_RECV,           /* recv, read, write, readv, writev: recorded
                               only when their error tells a connect's
                               outcome or a connection's end */
    ST_CALL_READ, ST_CALL_WRITE, ST_CALL_READV, ST_CALL_WRITEV,
    ST_CALL_COUNT_
};

/* One intercepted call. 128 bytes. */
struct st_evrec {
    uint64_t word;          /* ring commit word */
    uint64_t ns;            /* monotonic */
    uint64_t sock_id;       /* the socket the call was about, or 0 */
    uint16_t call;          /* enum st_call */
    uint16_t reserved;
    int32_t  tid;
    int32_t  fd;            /* the fd the call was about */
    int32_t  fd2;           /* accept: new fd; dup: new fd; socketpair: 2nd */
    int32_t  ret;           /* the call's return value */
    int32_t  err;           /* errno when ret < 0, else 0 */
    struct st_caddr local;  /* of fd (or fd2 when set) after the call */
    struct st_caddr peer;
};

/* One address a name lookup (getaddrinfo, gethostbyname*) returned, with
 * the name the program asked for. 256 bytes. A reader shows `host` beside
 * a peer address equal to `addr`; the newest record for an address wins. */
struct st_namerec {
    uint64_t word;          /* ring commit word */
    uint64_t ns;            /* monotonic */
    uint16_t family;        /* AF_INET (addr[0..3]) or AF_INET6 */
    uint16_t reserved;
    uint32_t reserved2;
    uint8_t  addr[16];
    char     host[ST_HOST_MAX]; /* NUL-terminated, cut at ST_HOST_MAX - 1 */
};

/* A word every writer changes, alone on its cache line: threads on other
 * cores that change other words do not take the line from each other. */
struct st_line {
    uint64_t v;
    uint64_t pad[7];
};

/* st_drops.why[]: why a change or record was not written; there is no
 * other reason. No writer waits for another, and a ring record is given
 * up only when every record of the ring was found held, or its claim was
 * lost three times in a row (ST_DROP_BUSY). */
enum st_drop_why {
    ST_DROP_FILE = 0,   /* the file could not grow: disk full, RLIMIT_FSIZE,
                           or its name out of reach (a chroot, a process
                           that changed user) */
    ST_DROP_ADDR,       /* no address space to map the file's next part:
                           RLIMIT_AS leaves too little room, or mmap failed */
    ST_DROP_BUSY,       /* a ring record: every record of the ring was held
                           by a writer that had not committed (one stopped
                           or killed mid-record holds its record for good),
                           or its claim was lost three times in a row */
    ST_DROP_FD,         /* an fd beyond the table (ST_DIR_ENTRIES *
                           ST_LEAF_SLOTS and up) */
    ST_DROP_WHY_COUNT_
};

/* What was not written, alone on its cache line. Each drop adds 1 to v and
 * to its reason (relaxed, not together: a reader may see one before the
 * other; both are exact once the writers are gone). */
struct st_drops {
    uint64_t v;                         /* all drops */
    uint64_t why[ST_DROP_WHY_COUNT_];   /* by enum st_drop_why */
    uint64_t pad[7 - ST_DROP_WHY_COUNT_];
};

/* A ring's descriptor, in the header. 256 bytes. */
struct st_ring {
    struct st_line head;    /* positions ever reserved */
    uint32_t rec_size;      /* bytes per record: a reader takes records
                               longer than its own and reads their start */
    uint32_t cap;           /* records when fully grown: cap0 << (nsegs-1) */
    uint32_t cap0;          /* records in segment 0 */
    uint32_t nsegs;
    uint64_t seg_off[ST_RING_SEGS];     /* 0 until the segment is reached */
    uint64_t reserved[6];
};

/* The file header: the first page. */
struct st_header {
    char     magic[8];      /* ST_MAGIC */
    uint32_t version;       /* ST_VERSION */
    uint32_t header_size;   /* sizeof(struct st_header): a reader takes a
                               larger one (fields it does not know) */
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
    uint64_t clock_real_ns; /* the two clocks read together */
    uint64_t clock_mono_ns;
    uint64_t run_id;        /* SOCKTRACE_RUN_ID as inherited: the processes
                               one `socktrace run` started, whether or not
                               their parents had a socket (and a file) */
    uint64_t dir_off;
    uint32_t dir_entries;   /* ST_DIR_ENTRIES */
    uint32_t leaf_slots;    /* ST_LEAF_SLOTS */
    uint32_t rec_small;     /* ST_REC_SMALL */
    uint32_t rec_large;     /* ST_REC_LARGE */
    uint32_t cmdline_len;   /* bytes used in cmdline */
    uint32_t argc;          /* the program's argc: more than the strings
                               in cmdline when they did not all fit */
    char     cmdline[ST_CMDLINE_MAX];   /* argv, each NUL-terminated: the
                               first arguments that fit whole */
    /* an exec call under way: see "An exec under way" in trace_protocol.h */
    uint32_t exec_pending;  /* exec calls started that have not returned */
    uint32_t exec_seq;      /* odd while exec_call_ns, exec_path are written */
    uint64_t exec_call_ns;  /* CLOCK_REALTIME when that exec call started */
    char     exec_path[ST_EXEC_PATH_MAX];   /* the path or file it named,
                               NUL-terminated, cut; "" when unreadable */
    uint32_t min_reader;    /* the oldest reader version that can read this
                               file: a later format that only adds (at the
                               header's end, a ring record's end, in
                               reserved space) keeps it at ST_VERSION_READ */
    uint8_t  reserved[12];
    /* written all the time, each word on a line of its own */
    struct st_drops dropped;    /* changes and records not written */
    struct st_line file_end;    /* bytes of the file that exist */
    struct st_line alloc_end;   /* bytes handed out */
    struct st_line free_small;  /* free-list heads: tag << 32 | granule */
    struct st_line free_large;
    struct st_line next_id_block;   /* sock_id blocks handed to threads */
    struct st_ring events;      /* struct st_evrec */
    struct st_ring history;     /* struct st_histrec */
    struct st_ring names;       /* struct st_namerec */
    /* Who the process is to a viewer outside its namespaces (a container).
     * `pid` is the pid its own pid namespace gave it; a viewer in another
     * pid namespace finds the process by the NSpid: line of
     * /proc/PID/status (last entry == pid) whose /proc/PID/ns/pid is
     * pidns_ino, with the start time proc_start. Read once, when the file
     * is made (or reopened by a new image); a child forked into a new pid
     * namespace makes a file of its own. 0: not known (no /proc). */
    uint64_t pidns_ino;     /* inode of /proc/self/ns/pid ("pid:[N]") */
    uint64_t mntns_ino;     /* of /proc/self/ns/mnt: trace_dir is a path
                               in this mount namespace */
    uint64_t netns_ino;     /* of /proc/self/ns/net: whose sockets these
                               are (/proc/PID/net of the process) */
    char     trace_dir[256];    /* the trace directory as this process named
                               it, NUL-terminated; "" when longer */
    uint8_t  reserved2[360];
};

_Static_assert(sizeof(struct st_addr) == 120, "st_addr layout");
_Static_assert(sizeof(struct st_caddr) == 40, "st_caddr layout");
_Static_assert(sizeof(struct st_rec_head) == 64, "st_rec_head layout");
_Static_assert(sizeof(struct st_rec_small) == 144, "st_rec_small layout");
_Static_assert(sizeof(struct st_rec_large) == 304, "st_rec_large layout");
_Static_assert(sizeof(struct st_histrec) == 344, "st_histrec layout");
_Static_assert(sizeof(struct st_evrec) == 128, "st_evrec layout");
_Static_assert(sizeof(struct st_namerec) == 256, "st_namerec layout");
_Static_assert(sizeof(struct st_ring) == 256, "st_ring layout");
_Static_assert(sizeof(struct st_drops) == 64, "st_drops is one cache line");
_Static_assert(offsetof(struct st_header, cmdline) == 128, "header layout");
_Static_assert(offsetof(struct st_header, exec_pending) == 2176, "header layout");
_Static_assert(offsetof(struct st_header, exec_path) == 2192, "header layout");
_Static_assert(offsetof(struct st_header, dropped) == 2304, "header layout");
_Static_assert(offsetof(struct st_header, alloc_end) == 2432, "header layout");
_Static_assert(offsetof(struct st_header, events) == 2688, "header layout");
_Static_assert(offsetof(struct st_header, pidns_ino) == 3456, "header layout");
_Static_assert(offsetof(struct st_header, trace_dir) == 3480, "header layout");
_Static_assert(sizeof(struct st_header) == ST_PAGE, "st_header is one page");
_Static_assert(ST_REC_SMALL % ST_GRANULE == 0 && ST_REC_LARGE % ST_GRANULE == 0,
               "records are whole granules");

#include "trace_protocol.h"

#endif
