/* event_text.h - one recorded call as `events`, `watch` and `events -f`
 * print it: the cells of its text row and the fields of its JSON object. */
#ifndef SOCKTRACE_EVENT_TEXT_H
#define SOCKTRACE_EVENT_TEXT_H

#include <stdbool.h>
#include <stdio.h>

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

#endif
