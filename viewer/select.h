/* select.h - which processes, sockets and events a verb shows: PIDs,
 * -p, -c NAME, --tree PID and a filter expression in the grammar of
 * iproute2's ss ("sport = :80 and not state listening"), plus --sort.
 * One grammar for every verb: a verb adds SELECT_OPTIONS to its getopt
 * table, hands its options to select_opt and its words to select_words. */
#ifndef SOCKTRACE_SELECT_H
#define SOCKTRACE_SELECT_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include "snapshot.h"

/* getopt codes of the long-only options */
enum { SELECT_OPT_TREE = 0x1001, SELECT_OPT_SORT };

#define SELECT_SHORT "p:c:"
#define SELECT_OPTIONS                                          \
    {"pid", required_argument, NULL, 'p'},                      \
    {"command", required_argument, NULL, 'c'},                  \
    {"tree", required_argument, NULL, SELECT_OPT_TREE},         \
    {"sort", required_argument, NULL, SELECT_OPT_SORT}

/* The usage lines of those options and of the words, for a verb's --help. */
#define SELECT_USAGE                                                          \
    "  -p, --pid PID[,PID]  these processes (also: PIDs as words)\n"          \
    "  -c, --command NAME   processes whose name matches NAME, a regular\n"   \
    "                       expression as pgrep takes (also: a bare word)\n"  \
    "      --tree PID       the process and its traced descendants\n"         \
    "  FILTER               ss-style: port 80, sport = :80, dst 10.0.0.0/8,\n" \
    "                       state listening, proto udp, unix; and, or, not,\n" \
    "                       ( ) (see socktrace(1), SELECTION)\n"

#define SELECT_SORT_USAGE \
    "      --sort KEY       order rows by pid, fd, local, peer, port, state\n" \
    "                       or opened\n"

enum select_sort { SORT_NONE, SORT_PID, SORT_FD, SORT_LOCAL, SORT_PEER, SORT_PORT,
                   SORT_STATE, SORT_OPENED };

struct selection;

/* A new, empty selection (selects everything); NULL when out of memory. */
struct selection *select_new(const char *prog);
void select_free(struct selection *sel);

/* Option o of getopt (with its optarg). Returns 0 when it was a selection
 * option and taken, 1 when it is not one, 2 after a usage error (one line
 * on stderr). */
int select_opt(struct selection *sel, int o, const char *arg);

/* select_opt for a verb's getopt default case: an option that is none of
 * the selection's is a usage error (one line, 2). Returns 0 when taken. */
int select_take(struct selection *sel, int o, const char *arg, const char *usage);

/* The words left after the options: PIDs, then (or mixed with them) the
 * filter expression; a bare word that is neither is a command name, as
 * with -c. Returns 0, or 2 after a usage error (one line on stderr). */
int select_words(struct selection *sel, int n, char *const *words);

/* Whether any process criterion (PIDs, names, tree) or filter was given. */
bool select_has_process(const struct selection *sel);
bool select_has_filter(const struct selection *sel);
/* Processes chosen by PID alone (no -c, no --tree): a verb may look each
 * up by pid rather than load the whole directory. */
bool select_only_pids(const struct selection *sel);
/* The PIDs named as words or with -p, in order (for a verb that looks a
 * process up by pid, such as show for an untraced one). */
const int *select_pids(const struct selection *sel, size_t *n);
enum select_sort select_sort_key(const struct selection *sel);
/* What the loads that select_resolve is given need beyond a verb's own
 * SNAP_* bits: SNAP_COMM when -c compares names. */
unsigned select_what(const struct selection *sel);

/* Resolves the process criteria against every loaded snapshot: --tree
 * follows ppid links (a child started after its parent), -c compares
 * the names (the command line's, and the comm of snapshots loaded with
 * select_what). Call once after loading, before select_process; a selection of
 * PIDs alone may skip it (each file then found by tracedb_find). */
void select_resolve(struct selection *sel, const struct snapshot *snaps, size_t n);
/* When criteria were given and nothing matched: the one-line complaint
 * ("no traced process matches -c nginx"), else NULL. */
const char *select_nothing(const struct selection *sel, char *buf, size_t size);

bool select_process(const struct selection *sel, const struct snapshot *s);
/* The process is selected and the socket passes the filter. */
bool select_socket(const struct selection *sel, const struct snapshot *s,
                   const struct st_sock *so);
/* The same for an event: its addresses, with what its socket (found by
 * sock_id) tells of protocol and state. */
bool select_event(const struct selection *sel, const struct snapshot *s,
                  const struct st_event *e);

/* A socket of a process, as a row of a table. */
struct sel_row {
    const struct snapshot *snap;
    const struct st_sock *sock;
};
/* Orders rows by the --sort key (stable: equal keys keep their order). */
void select_sort_rows(const struct selection *sel, struct sel_row *rows, size_t n);
/* Orders the processes by pid when the key is pid; else leaves them. */
void select_sort_snaps(const struct selection *sel, struct snapshot *snaps, size_t n);

#endif
