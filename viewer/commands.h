/* commands.h - the viewer's verbs and what they share: the trace
 * directory chosen by -d or the environment. */
#ifndef SOCKTRACE_COMMANDS_H
#define SOCKTRACE_COMMANDS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "snapshot.h"
#include "tracedir.h"
#include "json_out.h"
#include "proc_text.h"
#include "usage.h"

struct ctx {
    char dir[ST_PATH_MAX];
    const char *prog;
};

/* Each returns the exit status: 0 ok, 1 failure, 2 usage error. */
int cmd_show(struct ctx *c, int argc, char **argv);
int cmd_ps(struct ctx *c, int argc, char **argv);
int cmd_events(struct ctx *c, int argc, char **argv);
int cmd_ports(struct ctx *c, int argc, char **argv);
int cmd_clean(struct ctx *c, int argc, char **argv);
int cmd_run(struct ctx *c, int argc, char **argv);
int cmd_export(struct ctx *c, int argc, char **argv);
int cmd_watch(struct ctx *c, int argc, char **argv);
int cmd_graph(struct ctx *c, int argc, char **argv);

/* The command line of a verb whose only options are one flag (--NAME, or
 * -N by its first letter), -w/--wide and --help, and which takes no argument: sets
 * *flag. Returns -1 to go on, else the exit status (0 after --help, 2
 * after a usage error). */
int flag_args(int argc, char **argv, const char *usage, const char *name, bool *flag);

/* A pid argument: returns it, or -1 when it is not a number > 0. */
int parse_pid(const char *s);

struct trace_ref;
/* The single PID argument left after a verb's options, and its trace file
 * in *ref. Returns 0, or the exit status for the verb to return: 2 after a
 * usage error, 1 when the pid has no trace file (one line on stderr). */
int pid_trace(struct ctx *c, int argc, char **argv, const char *usage,
              struct trace_ref *ref);

#endif
