/* cmd_export.c - `socktrace export`: every socket of every traced process
 * (open, and with --all closed), one JSON object per line, for a log
 * shipper to collect. Each line carries a stable "id", so a store that
 * receives the same socket in two exports keeps one document. */
#define _GNU_SOURCE
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "describe.h"
#include "output.h"
#include "json_out.h"
#include "peerjoin.h"
#include "select.h"
#include "tracedb.h"
#include "resolve.h"

static const char usage[] =
    "usage: socktrace export [PID...|NAME] [FILTER] [--all]\n"
    "  Prints every socket of every traced process as JSON Lines: one object\n"
    "  per socket with the machine, the process and a stable \"id\".\n"
    "  The machine is named by SOCKTRACE_HOSTNAME if set, else gethostname().\n"
    "  -a, --all     add closed sockets (from each process's history)\n"
    SELECT_USAGE
    "  -h, --help    this text\n";

static void line(const char *hostname, const struct snapshot *s,
                 const struct st_sock *so, const struct conn_index *ci)
{
    char id[160];
    struct sock_extra x;
    bool first = true;
    snprintf(id, sizeof id, "%s-%d-%" PRIu64 "-%" PRIu64 "-%d", hostname, s->h.pid,
             s->h.proc_start, so->sock_id, so->fd);
    conn_index_extra(ci, s, so, &x);
    fputc('{', stdout);
    json_schema_version(stdout, &first);
    json_key(stdout, &first, "id");
    json_str(stdout, id);
    json_key(stdout, &first, "hostname");
    json_str(stdout, hostname);
    json_key(stdout, &first, "process");
    json_process(stdout, s);
    json_key(stdout, &first, "socket");
    /* a process that ended took its sockets with it: a store that keeps
     * the last line it got must not keep them connected */
    if (s->alive)
        json_socket(stdout, so, &x);
    else
        json_socket_at_exit(stdout, so, &x, s->h.end_ns);
    fputs("}\n", stdout);
}

int cmd_export(struct ctx *c, int argc, char **argv)
{
    static const struct option opts[] = {{"all", no_argument, NULL, 'a'}, {0, 0, 0, 0}};
    bool all = false;
    const struct verb_opts own = {opts, "a", verb_take_flag, &(struct verb_flag){'a', &all}};
    struct verb_args a;
    int status = verb_args(c, argc, argv, usage, VERB_SELECT, &own, &a);
    if (status >= 0)
        return status;
    struct selection *sel = a.sel;
    char hostname[128] = "";
    const char *named = getenv("SOCKTRACE_HOSTNAME");  /* a container, a test */
    if (named && *named)
        snprintf(hostname, sizeof hostname, "%s", named);
    else if (gethostname(hostname, sizeof hostname - 1) != 0)
        strcpy(hostname, "unknown");
    size_t loaded, bad;
    struct snapshot *snaps = tracedb_load_all(c->dir, SNAP_TABLE | (all ? SNAP_HISTORY : 0) | select_what(sel),
                                              c->prog, &loaded, &bad);
    select_resolve(sel, snaps, loaded);
    char why[256];
    const char *none = select_nothing(sel, why, sizeof why);
    if (none)
        fprintf(stderr, "%s: %s\n", c->prog, none);
    struct conn_index *ci = conn_index_new();
    for (size_t i = 0; i < loaded; i++) {
        snap_check_live(&snaps[i]);
        conn_index_add(ci, &snaps[i]);
    }
    for (size_t i = 0; i < loaded; i++) {
        const struct snapshot *s = &snaps[i];
        for (size_t k = 0; k < s->n_open; k++)
            if (select_socket(sel, s, &s->open[k]))
                line(hostname, s, &s->open[k], ci);
        for (size_t k = 0; all && k < s->n_closed; k++)
            if (select_socket(sel, s, &s->closed[k]))
                line(hostname, s, &s->closed[k], ci);
    }
    /* the index points into every process's sockets until its last use */
    conn_index_free(ci);
    for (size_t i = 0; i < loaded; i++)
        snap_free(&snaps[i]);
    free(snaps);
    select_free(sel);
    return (bad && !loaded) || none ? 1 : 0;
}
