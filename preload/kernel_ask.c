/* kernel_ask.c - what the kernel says an fd is, published where the
 * tracer cannot order calls itself (overlapping windows, a socket made or
 * closed by a call no hook saw). */
#define _GNU_SOURCE
#include "tracer.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "real.h"
#include "sockaddr_conv.h"
#include "write_path.h"

/* A socket the table had for fd whose close this call proves: it closed
 * unseen (a raw syscall) unless a close() marked it and records it. */
void st_retire_unseen(int fd, uint64_t w, struct st_sock *old, uint64_t t)
{
    if (w & ST_W_CLOSING)
        return;
    st_set_closed(old);
    old->closed_ns = t;
    old->flags |= ST_SF_CLOSED_UNSEEN;
    st_emit(ST_CALL_UNSEEN, fd, -1, 0, 0, old);
    st_history(old);
}

void st_ask_local(struct st_sock *s, int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (st_sys_getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
        st_addr_from(&s->local, (struct sockaddr *)&ss, len, s->family);
}

void st_ask_peer(struct st_sock *s, int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (st_sys_getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
        st_addr_from(&s->peer, (struct sockaddr *)&ss, len, s->family);
}

/* Whether fd is open now (one fcntl). */
bool st_fd_open(int fd)
{
    int saved = errno;
    bool open = syscall(SYS_fcntl, fd, F_GETFD) >= 0;
    errno = saved;
    return open;
}

/* What the kernel says fd is; false when it is not a socket. */
static bool kernel_view(int fd, struct st_sock *k)
{
    int family = 0, type = 0, protocol = 0, listening = 0;
    socklen_t l = sizeof(int);
    memset(k, 0, sizeof *k);
    if (st_sys_getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l) != 0)
        return false;
    l = sizeof(int);
    st_sys_getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &l);
    l = sizeof(int);
    st_sys_getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &l);
    l = sizeof(int);
    st_sys_getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &l);
    k->fd = fd;
    k->family = (uint16_t)family;
    k->type = (uint16_t)type;
    k->protocol = (uint16_t)protocol;
    st_ask_local(k, fd);
    st_ask_peer(k, fd);
    if (listening)
        k->state = ST_STATE_LISTENING;
    else if (k->peer.kind != ST_ADDR_NONE)
        k->state = ST_STATE_CONNECTED;
    else if (k->local.kind != ST_ADDR_NONE && k->local.kind != ST_ADDR_UNNAMED &&
             !(st_addr_is_wildcard(&k->local) && k->local.port == 0))
        k->state = ST_STATE_BOUND;
    else
        k->state = ST_STATE_CREATED;
    k->flags = ST_SF_LOCAL_DONE;
    int saved = errno;
    int fdflags = (int)syscall(SYS_fcntl, fd, F_GETFD);
    int flflags = (int)syscall(SYS_fcntl, fd, F_GETFL);
    errno = saved;
    if (fdflags > 0 && (fdflags & FD_CLOEXEC))
        k->flags |= ST_SF_CLOEXEC;
    if (flflags > 0 && (flflags & O_NONBLOCK))
        k->flags |= ST_SF_NONBLOCK;
    return true;
}

/* Whether a recorded socket can be the one the kernel described. A
 * connect in progress has no peer in the kernel's answer yet. */
bool st_same_socket(const struct st_sock *a, const struct st_sock *k)
{
    if (a->state == ST_STATE_FREE || a->state == ST_STATE_CLOSED ||
        a->family != k->family || a->type != k->type)
        return false;
    if (!st_addr_same(&a->local, &k->local) && !st_addr_incomplete(&a->local) &&
        a->local.kind != ST_ADDR_NONE)
        return false;
    if (k->peer.kind != ST_ADDR_NONE)
        return a->peer.kind == ST_ADDR_NONE || a->state == ST_STATE_CONNECTING ||
               a->state == ST_STATE_FAILED || (a->flags & ST_SF_PEER_LAST) ||
               st_addr_same(&a->peer, &k->peer);
    return true;
}

/* The kernel's answer k, with what the record a knew of the same socket
 * that the kernel does not say. */
static void merge(struct st_sock *k, const struct st_sock *a)
{
    k->sock_id = a->sock_id;
    k->origin = a->origin;
    k->opened_ns = a->opened_ns;
    k->peers_seen = a->peers_seen;
    k->flags |= a->flags & (ST_SF_PORT_CHOSEN | ST_SF_NO_PORT | ST_SF_SHUT_RD |
                            ST_SF_SHUT_WR | ST_SF_PEERS_MORE | ST_SF_SHARED);
    if (k->peer.kind == ST_ADDR_NONE &&
        (a->state == ST_STATE_CONNECTING || a->state == ST_STATE_FAILED)) {
        k->peer = a->peer;
        k->state = a->state;
    }
    if ((a->flags & ST_SF_PEER_LAST) && k->state != ST_STATE_CONNECTED) {
        k->peer = a->peer;
        k->flags |= ST_SF_PEER_LAST;
    }
}

bool st_ask(int fd, int origin, const struct st_sock *hint_in, struct st_sock *out)
{
    /* callers may pass one record as both */
    struct st_sock hint_copy;
    const struct st_sock *hint = NULL;
    if (hint_in) {
        hint_copy = *hint_in;
        hint = &hint_copy;
    }
    memset(out, 0, sizeof *out);
    uint64_t *slot = st_slot_for(fd);
    if (!slot)
        return false;
    for (int tries = 0; tries < 8; tries++) {
        uint64_t w;
        struct st_sock cur;
        int kind = st_read_slot(slot, &w, &cur);
        uint64_t t_lo = st_now();
        struct st_sock k;
        bool sock = kernel_view(fd, &k);
        uint64_t t_hi = st_now();
        if (!sock) {
            if (kind != ST_K_LIVE)
                return false;
            st_set_closed(&cur);
            cur.closed_ns = t_hi;
            cur.t_lo = t_lo;
            cur.t_hi = t_hi;
            cur.flags |= ST_SF_ASKED | ST_SF_CLOSED_UNSEEN;
            if (!st_publish(slot, w, &cur, ST_W_TOMB))
                continue;
            if (!(w & ST_W_CLOSING)) {
                st_emit(ST_CALL_UNSEEN, fd, -1, 0, 0, &cur);
                st_history(&cur);
            }
            return false;
        }
        /* cur may describe the same socket as the hint: a thread that
         * asked the kernel before the socket's maker published */
        bool cur_same = kind == ST_K_LIVE && st_same_socket(&cur, &k);
        if (hint && st_same_socket(hint, &k)) {
            merge(&k, hint);
        } else if (cur_same) {
            merge(&k, &cur);
        } else {
            k.sock_id = st_new_sock_id();
            k.origin = (uint8_t)origin;
            k.opened_ns = t_hi;
        }
        k.fd = fd;
        k.t_lo = t_lo;
        k.t_hi = t_hi;
        k.flags |= ST_SF_ASKED;
        /* still the socket a close is taking down: the mark stays */
        if (!st_publish(slot, w, &k, cur_same ? (w & ST_W_CLOSING) : 0))
            continue;
        if (kind == ST_K_LIVE && !cur_same)
            st_retire_unseen(fd, w, &cur, t_hi);
        if (!cur_same)
            st_peer_forget(fd);
        *out = k;
        return true;
    }
    /* others kept changing fd all along: what they published stands */
    return st_get(fd, out);
}
