/* outcome.h - what became of a socket's connect, learned from whatever
 * tells the program (the connect's return, getsockopt(SO_ERROR), a data
 * call's error, getpeername) or, when it never asks, from its close. */
#ifndef SOCKTRACE_OUTCOME_H
#define SOCKTRACE_OUTCOME_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "codec.h"

/* Errors that end a connection, or tell a connect's failure. Only these
 * make a failed call look at the table: every other failure costs the
 * comparison. */
static inline bool st_conn_err(int e)
{
    return e == ECONNREFUSED || e == ECONNRESET || e == ETIMEDOUT ||
           e == EHOSTUNREACH || e == ENETUNREACH || e == ECONNABORTED ||
           e == EPIPE;
}

/* What the program was just told about fd's socket. */
enum st_told {
    ST_TOLD_CONNECTED,  /* a success only a connected socket gives */
    ST_TOLD_ERROR,      /* err: an SO_ERROR value or a call's errno */
    ST_TOLD_NOTHING,    /* SO_ERROR 0 or getpeername's ENOTCONN while the
                           connect was pending: the TCP state decides */
};

/* Records it (base: the slot word before the call). *out is the entry
 * afterwards; true when it changed. */
bool st_told(int fd, uint64_t base, uint64_t t_lo, enum st_told what, int err,
             struct st_sock *out);

/* A data call on fd failed with err: the outcome of a pending connect,
 * or the end of a connected socket. Records an event of `call` when the
 * entry changed. Inline: EAGAIN, an event loop's every other read, costs
 * the comparison and no call. */
void st_conn_failed(int call, int fd, int err);
static inline void st_data_failed(int call, int fd, int err)
{
    if (st_conn_err(err))
        st_conn_failed(call, fd, err);
}

/* Before the real close of s (fd): a connect still pending is settled by
 * the TCP state (one TCP_INFO read, only then). */
void st_outcome_closing(struct st_sock *s, int fd);
/* At the close: a connect still pending was given up. */
void st_outcome_closed(struct st_sock *s);

#endif
