/* follow.h - the live stream of calls (`watch`, `events -f`): calls
 * printed as they happen, each as `events` prints it (event_text.h). */
#ifndef SOCKTRACE_FOLLOW_H
#define SOCKTRACE_FOLLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "commands.h"

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

#endif
