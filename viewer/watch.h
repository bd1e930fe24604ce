/* watch.h - the live stream of calls (`watch`, `events -f`): the follow
 * engine in cmd_watch.c, and the writers of one event it shares with
 * `events` (cmd_events.c), so a streamed call prints as `events` prints it. */
#ifndef SOCKTRACE_WATCH_H
#define SOCKTRACE_WATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "commands.h"
#include "describe.h"
#include "snapshot.h"

struct conn_index;

/* The fields of an event's JSON object (without the braces): "pid", "seq",
 * "time", ..., "peer_pid", and for a close the closed socket's life. */
void event_json_fields(FILE *f, bool *first, const struct snapshot *s,
                       const struct conn_index *ci, const struct st_event *e);

/* The cells of an event's text row. */
struct event_cells {
    char time[64], tid[16], fd[32], result[48];
    char local[ADDR_TEXT_MAX], peer[ADDR_TEXT_MAX], tcp[128];
    const char *call;
    bool failed;
};
void event_cells(const struct snapshot *s, const struct conn_index *ci,
                 const struct st_event *e, struct event_cells *c);

/* The history entry a close event closed (bytes, lifetime), or NULL: it
 * is written just after the event, so a reader may see the event first. */
const struct st_sock *event_closed(const struct snapshot *s, const struct st_event *e);

enum follow_show {
    FOLLOW_ALL,         /* every call */
    FOLLOW_CONNECTS,    /* connect and accept, with the connect's outcome */
    FOLLOW_CLOSES,      /* closes of connections: bytes and duration */
};

struct selection;

struct follow_opts {
    int pid;                /* 0: every traced process */
    struct selection *sel;  /* PIDs, -c NAME, a FILTER (select.h); NULL: all */
    bool tree;              /* with pid: the children it forks too */
    char root_path[600];    /* with tree: pid's trace file */
    bool json;
    enum follow_show show;
    uint64_t since_ns;      /* CLOCK_REALTIME; 0: from now */
    uint64_t count;         /* stop after this many lines; 0: never */
    double timeout;         /* stop after this many seconds; 0: never */
};

/* Streams calls as they happen until Ctrl-C, SIGTERM, count or timeout
 * (with tree: until the process and its children have ended). Returns
 * the exit status. */
int follow_run(struct ctx *c, const struct follow_opts *o);

/* --since: "30s", "1.5m", "2h", "1d", "500ms", "14:05[:30]" (today),
 * "2026-11-24T18:09:11[.123]" (local time), "@EPOCH". Returns 0 with
 * *ns (CLOCK_REALTIME), or -1. */
int follow_since(const char *arg, uint64_t *ns);

#endif
