/* json_out.h - the one writer per JSON object kind: process, socket,
 * event, port, destination. Every verb prints these, so an object has the
 * same fields wherever it appears (docs/socktrace.schema.json). */
#ifndef SOCKTRACE_JSON_OUT_H
#define SOCKTRACE_JSON_OUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "describe.h"
#include "snapshot.h"

/* Bumped when a field changes meaning or goes away (not when one is added). */
#define JSON_SCHEMA_VERSION 1

/* "schema_version": first key of every top-level object and JSON Line. */
void json_schema_version(FILE *f, bool *first);

/* An argv block (each NUL-terminated) as a JSON array. */
void json_argv(FILE *f, const char *v, uint32_t len);
/* ISO-8601 text, or null for 0. */
void json_time(FILE *f, bool *first, const char *key, uint64_t ns);

/* The process fields, into an object the caller opened: pid, ppid,
 * command, command_truncated, state, exec_untraced, command_now,
 * exec_path, exec_at, source, started, ended, dropped. */
void json_process_fields(FILE *f, bool *first, const struct snapshot *s);
/* The same as a whole object. */
void json_process(FILE *f, const struct snapshot *s);

/* One socket as a JSON object. at_exit: the socket was still in the
 * table of a process that has ended, so the kernel closed it then; it is
 * written as closed ("close_seen":"exit", "was" its last state). */
void json_socket(FILE *f, const struct st_sock *s, const struct sock_extra *x);
void json_socket_at_exit(FILE *f, const struct st_sock *s, const struct sock_extra *x,
                         uint64_t end_ns);

/* A socket as the kernel shows it (/proc, ss): no history, no origin. */
void json_kernel_socket(FILE *f, int fd, unsigned long long inode, bool listed,
                        const struct st_sock *s);

/* One recorded call. peer_text: the event's peer as the verb shows it
 * (an IP alone for a lookup); host: the name it was looked up by; closed:
 * the history entry a close closed (its byte counts), or NULL. */
/* A socket's connect outcome: "connected", "connect_outcome",
 * "connect_error", "connect_ms", "end_error", "was". */
void json_outcome(FILE *f, bool *first, const struct st_sock *s);

void json_event(FILE *f, int pid, const struct st_event *e, const char *peer_text,
                const char *host, const struct sock_extra *x, const struct st_sock *closed);
/* The same fields without the braces, schema_version first: a caller may
 * add its own before closing the object (watch --connects). */
void json_event_fields(FILE *f, bool *first, int pid, const struct st_event *e,
                       const char *peer_text, const char *host,
                       const struct sock_extra *x, const struct st_sock *closed);

/* A listening or bound port of `ports`: the socket, its process, and
 * whether other hosts can reach it. */
void json_port(FILE *f, const struct snapshot *s, const struct st_sock *so,
               const struct sock_extra *x, bool reachable, const char *exposure);

/* One destination of a process's outgoing connections. */
struct json_dest {
    const struct st_addr *peer;
    const char *host;
    int peer_pid;
    const char *peer_comm;
    unsigned connections, connecting, failed;
    const int *err;             /* nerr errors (-1: timed out) ... */
    const unsigned *err_n;      /* ... and how many of each */
    size_t nerr;
    uint64_t bytes_sent, bytes_received;
};
void json_destination(FILE *f, const struct json_dest *d);

#endif
