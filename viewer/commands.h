/* commands.h - the viewer's verbs and what they share: the trace
 * directory chosen by -d or the environment. */
#ifndef SOCKTRACE_COMMANDS_H
#define SOCKTRACE_COMMANDS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "snapshot.h"
#include "tracedir.h"

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

/* Usage errors: print the verb's usage to stderr, return 2. */
int usage_error(const char *usage, const char *fmt, const char *arg);

/* The command line of a verb whose only options are one flag (--NAME, or
 * -N by its first letter) and --help, and which takes no argument: sets
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

/* The command line of a header as one string: "curl -s http://x/". */
void cmdline_text(const struct st_header *h, char *buf, size_t size);
/* An argv block (each NUL-terminated) as a JSON array. */
void json_argv(FILE *f, const char *v, uint32_t len);
/* A process that exec'd out of the tracer (snapshot.h): "exec'd into an
 * untraced program (PATH) at TIME"; as JSON, "exec_untraced",
 * "command_now", "exec_path", "exec_at". */
void exec_untraced_text(const struct snapshot *s, char *buf, size_t size);
void json_exec(FILE *f, bool *first, const struct snapshot *s);
/* One socket as a JSON object. */
struct sock_extra;
void json_socket(FILE *f, const struct st_sock *s, const struct sock_extra *x);
/* Of a closed socket: "duration_ms", and from TCP_INFO "bytes_sent",
 * "bytes_received", "rtt_us", "retrans" (each only when known). */
void json_life(FILE *f, bool *first, const struct st_sock *s);
/* connected, connect_outcome, connect_error, connect_ms, end_error, was */
void json_outcome(FILE *f, bool *first, const struct st_sock *s);

#endif
