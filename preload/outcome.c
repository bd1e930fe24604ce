/* outcome.c - settles a socket's connect (connected, failed with which
 * error, given up) from what the program's own calls were told, so that a
 * refused non-blocking connect never reads like one that worked. */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <linux/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "outcome.h"
#include "real.h"
#include "tracer.h"

/* The kernel's TCP states (include/net/tcp_states.h), not exported. */
enum {
    TS_ESTABLISHED = 1, TS_SYN_SENT = 2, TS_SYN_RECV = 3, TS_CLOSE = 7,
};

static bool is_tcp(const struct st_sock *s)
{
    return s->type == SOCK_STREAM && s->protocol == IPPROTO_TCP;
}

static bool pending(const struct st_sock *s)
{
    return s->outcome == ST_CONN_PENDING || s->state == ST_STATE_CONNECTING;
}

/* TCP_INFO's state, which (unlike SO_ERROR) reading does not change; -1
 * when it cannot be read. */
static int tcp_state(int fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    memset(&ti, 0, sizeof ti);
    if (st_sys_getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 || len < 1)
        return -1;
    return ti.tcpi_state;
}

static void set_ok(struct st_sock *s)
{
    s->state = ST_STATE_CONNECTED;
    s->outcome = ST_CONN_OK;
}

static void set_failed(struct st_sock *s, int err)
{
    s->state = ST_STATE_FAILED;
    s->outcome = ST_CONN_FAILED;
    s->connect_err = (uint16_t)err;
}

/* A pending connect the TCP state settles; false while it still runs. */
static bool settle_by_state(struct st_sock *s, int fd)
{
    if (!is_tcp(s))
        return false;
    int ts = tcp_state(fd);
    if (ts < 0 || ts == TS_SYN_SENT || ts == TS_SYN_RECV)
        return false;
    if (ts == TS_CLOSE)
        set_failed(s, 0);   /* the error went to someone else's SO_ERROR */
    else
        set_ok(s);
    return true;
}

struct told {
    enum st_told what;
    int err;
};

static bool told_apply(struct st_sock *s, int fd, void *arg)
{
    const struct told *t = arg;
    switch (t->what) {
    case ST_TOLD_CONNECTED:
        if (!pending(s))
            return false;
        set_ok(s);
        return true;
    case ST_TOLD_NOTHING:
        if (!pending(s))
            return false;
        if (!is_tcp(s)) {   /* SO_ERROR 0 is the answer for these */
            set_ok(s);
            return true;
        }
        return settle_by_state(s, fd);
    case ST_TOLD_ERROR:
        if (pending(s)) {
            /* a reset or a broken pipe needs a connection first */
            if (t->err == ECONNRESET || t->err == EPIPE || t->err == ECONNABORTED) {
                set_ok(s);
                s->end_err = (uint16_t)t->err;
            } else {
                set_failed(s, t->err);
            }
            return true;
        }
        if (s->outcome == ST_CONN_FAILED && !s->connect_err) {
            s->connect_err = (uint16_t)t->err;
            return true;
        }
        if (s->state == ST_STATE_CONNECTED && !s->end_err &&
            (s->type == SOCK_STREAM || s->type == SOCK_SEQPACKET)) {
            s->end_err = (uint16_t)t->err;  /* the first is the cause */
            return true;
        }
        return false;
    }
    return false;
}

bool st_told(int fd, uint64_t base, uint64_t t_lo, enum st_told what, int err,
             struct st_sock *out)
{
    struct told t = {what, err};
    return st_change(fd, base, t_lo, told_apply, &t, out);
}

void st_conn_failed(int call, int fd, int err)
{
    if (!st_active())
        return;
    uint64_t base = st_word(fd), t_lo = st_before_loose();
    struct st_sock s;
    if (!base || !st_get(fd, &s) ||
        (s.type != SOCK_STREAM && s.type != SOCK_SEQPACKET) ||
        !(pending(&s) || (s.state == ST_STATE_CONNECTED && !s.end_err) ||
          (s.outcome == ST_CONN_FAILED && !s.connect_err)))
        return;
    if (st_told(fd, base, t_lo, ST_TOLD_ERROR, err, &s))
        st_emit(call, fd, -1, -1, err, &s);
}

void st_outcome_closing(struct st_sock *s, int fd)
{
    if (pending(s))
        settle_by_state(s, fd);
}

void st_outcome_closed(struct st_sock *s)
{
    if (pending(s)) {
        s->outcome = ST_CONN_GAVE_UP;
        s->state = ST_STATE_CONNECTING;     /* kept as `was` */
    }
}
