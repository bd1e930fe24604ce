/* describe.c - turns the trace file's numbers into the words people read.
 * Kept free of output so both the table and the JSON writer use it. */
#define _GNU_SOURCE
#include "describe.h"
#include "snapshot.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static void escape_unix(const uint8_t *p, size_t n, char *buf, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < size; i++) {
        uint8_t c = p[i];
        if (i == 0 && c == 0)
            buf[o++] = '@';
        else if (c == 0)
            buf[o++] = '@';     /* as ss shows embedded NULs */
        else if (c < 0x20 || c >= 0x7f || c == '\\')
            o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
        else
            buf[o++] = (char)c;
    }
    buf[o] = 0;
}

bool addr_text(const struct st_addr *a, char *buf, size_t size)
{
    char ip[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
    buf[0] = 0;
    switch (a->kind) {
    case ST_ADDR_INET:
        if (a->port == 0 && addr_is_wildcard(a))
            return false;
        inet_ntop(AF_INET, a->data, ip, sizeof ip);
        snprintf(buf, size, "%s:%u", ip, a->port);
        return true;
    case ST_ADDR_INET6:
        if (a->port == 0 && addr_is_wildcard(a))
            return false;
        if (memcmp(a->data, v4mapped, 12) == 0) {
            inet_ntop(AF_INET, a->data + 12, ip, sizeof ip);
            snprintf(buf, size, "%s:%u", ip, a->port);
            return true;
        }
        inet_ntop(AF_INET6, a->data, ip, sizeof ip);
        if (a->scope) {
            char ifn[IF_NAMESIZE];
            size_t l = strlen(ip);
            if (if_indextoname(a->scope, ifn))
                snprintf(ip + l, sizeof ip - l, "%%%s", ifn);
            else
                snprintf(ip + l, sizeof ip - l, "%%%u", a->scope);
        }
        snprintf(buf, size, "[%s]:%u", ip, a->port);
        return true;
    case ST_ADDR_UNIX:
        escape_unix(a->data, a->len < ST_ADDR_DATA ? a->len : ST_ADDR_DATA, buf, size);
        return true;
    case ST_ADDR_OTHER: {
        size_t o = (size_t)snprintf(buf, size, "%s:", family_name(a->family));
        for (size_t i = 0; i < a->len && i < ST_ADDR_DATA && o + 3 < size; i++)
            o += (size_t)snprintf(buf + o, size - o, "%02x", a->data[i]);
        return true;
    }
    default:
        return false;
    }
}

static void addr_cell(const struct st_addr *a, char *buf)
{
    if (!addr_text(a, buf, ADDR_TEXT_MAX))
        snprintf(buf, ADDR_TEXT_MAX, "%s", a->kind == ST_ADDR_UNNAMED ? "(unnamed)" : "-");
}

void sock_addr_cells(const struct st_sock *s, const struct sock_extra *x,
                     char *local, char *peer)
{
    addr_cell(&s->local, local);
    addr_cell(&s->peer, peer);
    if (s->flags & ST_SF_PORT_CHOSEN) {
        size_t l = strlen(local);
        snprintf(local + l, ADDR_TEXT_MAX - l, " *");
    }
    size_t l = strlen(peer);
    if (x && x->host)
        l += (size_t)snprintf(peer + l, ADDR_TEXT_MAX - l, " (%.*s)", 200, x->host);
    if ((s->flags & ST_SF_PEER_LAST) && l < ADDR_TEXT_MAX)
        l += (size_t)snprintf(peer + l, ADDR_TEXT_MAX - l, " [last of %u%s peer%s]",
                              s->peers_seen, s->flags & ST_SF_PEERS_MORE ? "+" : "",
                              s->peers_seen == 1 ? "" : "s");
    if (x && x->peer_pid && l < ADDR_TEXT_MAX)
        snprintf(peer + l, ADDR_TEXT_MAX - l, " [pid %d %.32s fd %d]", x->peer_pid,
                 x->peer_comm ? x->peer_comm : "?", x->peer_fd);
}

bool addr_is_wildcard(const struct st_addr *a)
{
    static const uint8_t zero[16];
    if (a->kind == ST_ADDR_INET)
        return memcmp(a->data, zero, 4) == 0;
    if (a->kind == ST_ADDR_INET6)
        return memcmp(a->data, zero, 16) == 0 ||
               (memcmp(a->data, v4mapped, 12) == 0 && memcmp(a->data + 12, zero, 4) == 0);
    return false;
}

bool addr_is_loopback(const struct st_addr *a)
{
    static const uint8_t lo6[16] = {[15] = 1};
    if (a->kind == ST_ADDR_INET)
        return a->data[0] == 127;
    if (a->kind == ST_ADDR_INET6)
        return memcmp(a->data, lo6, 16) == 0 ||
               (memcmp(a->data, v4mapped, 12) == 0 && a->data[12] == 127);
    return false;
}

const char *family_name(int family)
{
    switch (family) {
    case AF_INET: return "inet";
    case AF_INET6: return "inet6";
    case AF_UNIX: return "unix";
    case AF_NETLINK: return "netlink";
    case AF_PACKET: return "packet";
    case AF_UNSPEC: return "unspec";
    case AF_BLUETOOTH: return "bluetooth";
    case AF_VSOCK: return "vsock";
    case AF_CAN: return "can";
    case AF_TIPC: return "tipc";
    case AF_ALG: return "alg";
    case AF_XDP: return "xdp";
    default: {
        static char buf[16];
        snprintf(buf, sizeof buf, "af%d", family);
        return buf;
    }
    }
}

const char *type_name(int type)
{
    switch (type) {
    case SOCK_STREAM: return "stream";
    case SOCK_DGRAM: return "dgram";
    case SOCK_SEQPACKET: return "seqpacket";
    case SOCK_RAW: return "raw";
    case SOCK_RDM: return "rdm";
    default: return "other";
    }
}

const char *proto_name(const struct st_sock *s)
{
    if (s->family == AF_INET || s->family == AF_INET6) {
        bool v6 = s->family == AF_INET6;
        switch (s->protocol) {
        case 6: return v6 ? "tcp6" : "tcp";
        case 17: return v6 ? "udp6" : "udp";
        case 136: return v6 ? "udplite6" : "udplite";
        case 132: return v6 ? "sctp6" : "sctp";
        case 262: return v6 ? "mptcp6" : "mptcp";
        case 1: return "icmp";
        case 58: return "icmp6";
        default: return s->type == SOCK_RAW ? (v6 ? "raw6" : "raw") : (v6 ? "ip6" : "ip");
        }
    }
    if (s->family == AF_UNIX)
        return s->type == SOCK_DGRAM ? "unix-dgram" :
               s->type == SOCK_SEQPACKET ? "unix-seqpacket" : "unix";
    return family_name(s->family);
}

const char *state_name(int state)
{
    static const char *n[] = {
        [ST_STATE_FREE] = "free", [ST_STATE_CREATED] = "created",
        [ST_STATE_BOUND] = "bound", [ST_STATE_LISTENING] = "listening",
        [ST_STATE_CONNECTING] = "connecting", [ST_STATE_CONNECTED] = "connected",
        [ST_STATE_FAILED] = "failed", [ST_STATE_CLOSED] = "closed",
        [ST_STATE_UNKNOWN] = "unknown",
    };
    return state >= 0 && state < ST_STATE_COUNT_ && n[state] ? n[state] : "unknown";
}

const char *origin_name(int origin)
{
    static const char *n[] = {
        [ST_ORIGIN_SOCKET] = "socket", [ST_ORIGIN_ACCEPT] = "accept",
        [ST_ORIGIN_SOCKETPAIR] = "socketpair", [ST_ORIGIN_INHERITED] = "inherited",
        [ST_ORIGIN_DUP] = "dup", [ST_ORIGIN_RECEIVED] = "received",
        [ST_ORIGIN_FOUND] = "found",
    };
    return origin >= 0 && origin < ST_ORIGIN_COUNT_ && n[origin] ? n[origin] : "unknown";
}

const char *outcome_name(int outcome)
{
    static const char *n[] = {
        [ST_CONN_PENDING] = "pending", [ST_CONN_OK] = "connected",
        [ST_CONN_FAILED] = "failed", [ST_CONN_GAVE_UP] = "timed_out",
    };
    return outcome > 0 && outcome < ST_CONN_COUNT_ ? n[outcome] : NULL;
}

static const char *const drop_names[][2] = {
    [ST_DROP_FILE] = {"file_could_not_grow", "the file could not grow"},
    [ST_DROP_ADDR] = {"address_space", "no room under RLIMIT_AS"},
    [ST_DROP_BUSY] = {"ring_busy", "every ring record held by other writers"},
    [ST_DROP_FD] = {"fd_beyond_table", "fd beyond the table"},
    [DROP_UNREADABLE] = {"unreadable", "unreadable"},
};

const char *drop_key(unsigned why)
{
    return why <= DROP_UNREADABLE ? drop_names[why][0] : "unknown";
}

const char *drop_words(unsigned why)
{
    return why <= DROP_UNREADABLE ? drop_names[why][1] : "unknown";
}

void ms_text(uint64_t ns, char *buf, size_t size)
{
    char d[32];
    int n = snprintf(d, sizeof d, "%llu", (unsigned long long)(ns / 1000000u));
    size_t o = 0;
    for (int i = 0; i < n && o + 1 < size; i++) {
        if (i && (n - i) % 3 == 0 && o + 2 < size)
            buf[o++] = ',';
        buf[o++] = d[i];
    }
    buf[o] = 0;
}

void state_text(const struct st_sock *s, char *buf, size_t size)
{
    char e[16], ms[32];
    const char *unseen = s->flags & ST_SF_GONE_AT_EXIT ? "unknown at exit" :
                         s->flags & ST_SF_CLOSED_UNSEEN ? "unseen" :
                         s->flags & ST_SF_CLOSED_EXEC ? "exec" : NULL;
    if (s->flags & SNAP_SF_NO_ACCESS) {
        /* the trace's state may still hold; the kernel could not say */
        snprintf(buf, size, "unknown (no access)");
        return;
    }
    if (s->outcome == ST_CONN_FAILED) {
        snprintf(buf, size, "failed%s%s%s%s", s->connect_err ? " " : "",
                 s->connect_err ? errno_name(s->connect_err, e, sizeof e) : "",
                 unseen ? ", " : "", unseen ? unseen : "");
        return;
    }
    if (s->outcome == ST_CONN_GAVE_UP && s->closed_ns > s->connect_ns && s->connect_ns) {
        ms_text(s->closed_ns - s->connect_ns, ms, sizeof ms);
        snprintf(buf, size, "timed out after %s ms", ms);
        return;
    }
    /* the state, then in brackets what it was before a close, the error
     * its connection ended with, and how the close was learned */
    bool closed = s->state == ST_STATE_CLOSED;
    const char *parts[3];
    char was[32];
    int n = 0;
    if (closed && s->was != ST_STATE_FREE) {
        snprintf(was, sizeof was, "was %s", state_name(s->was));
        parts[n++] = was;
    }
    if (s->end_err)
        parts[n++] = errno_name(s->end_err, e, sizeof e);
    if (unseen)
        parts[n++] = unseen;
    size_t o = (size_t)snprintf(buf, size, "%s", state_name(s->state));
    for (int i = 0; i < n && o < size; i++)
        o += (size_t)snprintf(buf + o, size - o, "%s%s%s", i ? ", " : " (", parts[i],
                              i == n - 1 ? ")" : "");
}

const char *call_name(int call)
{
    static const char *n[] = {
        [ST_CALL_SOCKET] = "socket", [ST_CALL_SOCKETPAIR] = "socketpair",
        [ST_CALL_BIND] = "bind", [ST_CALL_LISTEN] = "listen",
        [ST_CALL_CONNECT] = "connect", [ST_CALL_ACCEPT] = "accept",
        [ST_CALL_ACCEPT4] = "accept4", [ST_CALL_GETSOCKNAME] = "getsockname",
        [ST_CALL_GETPEERNAME] = "getpeername", [ST_CALL_CLOSE] = "close",
        [ST_CALL_SHUTDOWN] = "shutdown", [ST_CALL_DUP] = "dup",
        [ST_CALL_DUP2] = "dup2", [ST_CALL_DUP3] = "dup3",
        [ST_CALL_FCNTL] = "fcntl", [ST_CALL_CLOSE_RANGE] = "close_range",
        [ST_CALL_SENDTO] = "sendto", [ST_CALL_SENDMSG] = "sendmsg",
        [ST_CALL_SENDMMSG] = "sendmmsg", [ST_CALL_RECVFROM] = "recvfrom",
        [ST_CALL_RECVMSG] = "recvmsg", [ST_CALL_GETSOCKOPT] = "getsockopt",
        [ST_CALL_SETSOCKOPT] = "setsockopt", [ST_CALL_INHERIT] = "inherited",
        [ST_CALL_EXEC] = "exec", [ST_CALL_FORK] = "fork",
        [ST_CALL_UNSEEN] = "closed-unseen", [ST_CALL_RECVMMSG] = "recvmmsg",
        [ST_CALL_GETADDRINFO] = "getaddrinfo",
        [ST_CALL_GETHOSTBYNAME] = "gethostbyname", [ST_CALL_SEND] = "send",
        [ST_CALL_RECV] = "recv", [ST_CALL_READ] = "read", [ST_CALL_WRITE] = "write",
        [ST_CALL_READV] = "readv", [ST_CALL_WRITEV] = "writev",
    };
    return call > 0 && call < ST_CALL_COUNT_ && n[call] ? n[call] : "unknown";
}

static void bytes_text(uint64_t n, char *buf, size_t size)
{
    if (n < 1024)
        snprintf(buf, size, "%" PRIu64 " B", n);
    else if (n < 1024 * 1024)
        snprintf(buf, size, "%.1f KiB", (double)n / 1024);
    else if (n < 1024ull * 1024 * 1024)
        snprintf(buf, size, "%.1f MiB", (double)n / (1024 * 1024));
    else
        snprintf(buf, size, "%.1f GiB", (double)n / (1024.0 * 1024 * 1024));
}

bool tcp_text(const struct st_sock *s, char *buf, size_t size)
{
    buf[0] = 0;
    if (!(s->flags & ST_SF_TCPINFO))
        return false;
    char sent[32], recv[32], re[32] = "";
    bytes_text(s->bytes_sent, sent, sizeof sent);
    bytes_text(s->bytes_received, recv, sizeof recv);
    if (s->retrans)
        snprintf(re, sizeof re, ", %u retrans", s->retrans);
    snprintf(buf, size, "sent %s, received %s, rtt %u us%s", sent, recv, s->rtt_us, re);
    return true;
}

const char *errno_name(int err, char *buf, size_t size)
{
    const char *n = strerrorname_np(err);
    if (n)
        return n;
    snprintf(buf, size, "E%d", err);
    return buf;
}

void time_text(uint64_t ns, char *buf, size_t size)
{
    time_t t = (time_t)(ns / 1000000000u);
    struct tm tm;
    if (!ns || !localtime_r(&t, &tm)) {
        snprintf(buf, size, "-");
        return;
    }
    char date[32], zone[8];
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    strftime(zone, sizeof zone, "%z", &tm);   /* +0100 -> +01:00 */
    snprintf(buf, size, "%s.%03u%.3s:%.2s", date,
             (unsigned)(ns / 1000000u % 1000u), zone, zone + 3);
}

void duration_text(uint64_t ns, char *buf, size_t size)
{
    uint64_t ms = ns / 1000000u;
    if (ms < 1000)
        snprintf(buf, size, "%llums", (unsigned long long)ms);
    else if (ms < 60000)
        snprintf(buf, size, "%.1fs", (double)ms / 1000.0);
    else if (ms < 3600000)
        snprintf(buf, size, "%llum%02llus", (unsigned long long)(ms / 60000),
                 (unsigned long long)(ms / 1000 % 60));
    else
        snprintf(buf, size, "%lluh%02llum", (unsigned long long)(ms / 3600000),
                 (unsigned long long)(ms / 60000 % 60));
}
