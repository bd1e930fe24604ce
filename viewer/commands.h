/* commands.h - the viewer's verbs and what they share: the trace
 * directory chosen by -d or the environment. */
#ifndef SOCKTRACE_COMMANDS_H
#define SOCKTRACE_COMMANDS_H

#include <stdbool.h>
#include <stdint.h>
#include <getopt.h>
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

/* What verb_args takes beside --help. */
enum { VERB_JSON = 1, VERB_WIDE = 2, VERB_SELECT = 4,
       VERB_COMMAND = 8 /* options end at the first word: a command and its own */ };

/* A verb's own options: getopt_long entries (ending in {0}), their short
 * letters, and take, called with each option getopt returns before the
 * shared ones are looked at: 0 taken, 1 not the verb's, else the exit
 * status (2 after a usage error, one line on stderr). */
struct verb_opts {
    const struct option *opts;
    const char *shorts;
    int (*take)(void *ctx, int o, const char *arg);
    void *ctx;
};

/* The take of a verb whose one option is a flag: ctx is a verb_flag. */
struct verb_flag {
    int letter;                 /* what getopt returns for it */
    bool *on;
};
int verb_take_flag(void *ctx, int o, const char *arg);

struct selection;
struct verb_args {
    bool json;                  /* -j, --json (VERB_JSON) */
    struct selection *sel;      /* VERB_SELECT: its options and words */
    int words;                  /* argv index of the first word */
};

/* A verb's command line: --help; with flags, -j/--json, -w/--wide (for
 * every table) and the selection's options and words (select.h), of
 * which there is one selection for the verb to free (select_free); the
 * verb's own options (own, may be NULL). Without VERB_SELECT or
 * VERB_COMMAND no word may follow the options. Returns -1 to go on, else the exit status (0
 * after --help, 2 after a usage error). c may be NULL without
 * VERB_SELECT. */
int verb_args(struct ctx *c, int argc, char **argv, const char *usage, unsigned flags,
              const struct verb_opts *own, struct verb_args *a);

/* The command line of a verb whose only options are one flag (--NAME, or
 * -N by its first letter), -w/--wide and --help, and which takes no argument: sets
 * *flag. Returns -1 to go on, else the exit status (0 after --help, 2
 * after a usage error). */
int flag_args(int argc, char **argv, const char *usage, const char *name, bool *flag);

#endif
