/* cli.c - what every verb does with its command line: the one-flag verbs'
 * options, a pid and its trace file. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "output.h"
#include "tracedb.h"

int flag_args(int argc, char **argv, const char *usage, const char *name, bool *flag)
{
    const struct option opts[] = {
        {name, no_argument, NULL, name[0]},
        {"wide", no_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    const char shorts[] = {name[0], 'w', 'h', 0};
    int o;
    *flag = false;
    optind = 1;
    while ((o = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
        if (o == 'h') {
            fputs(usage, stdout);
            return 0;
        }
        if (o == 'w') {
            table_wide(true);
            continue;
        }
        if (o != name[0])
            return usage_error(usage, NULL, NULL);
        *flag = true;
    }
    if (optind != argc)
        return usage_error(usage, "unexpected argument: %s", argv[optind]);
    return -1;
}

int parse_pid(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v <= 0 || v > 0x7fffffffL)
        return -1;
    return (int)v;
}

int pid_trace(struct ctx *c, int argc, char **argv, const char *usage,
              struct trace_ref *ref)
{
    if (optind != argc - 1)
        return usage_error(usage, optind >= argc ? "a PID is needed" : "one PID only", NULL);
    int pid = parse_pid(argv[optind]);
    if (pid < 0)
        return usage_error(usage, "not a process id: %s", argv[optind]);
    int r = tracedb_find(c->dir, pid, ref);
    if (r == -2) {
        fprintf(stderr, "%s: pid %d is a pid in more than one container (pid "
                "namespace): give the host's pid\n", c->prog, pid);
        return 1;
    }
    if (r != 0) {
        fprintf(stderr, "%s: no trace file for pid %d in %s\n", c->prog, pid, c->dir);
        return 1;
    }
    return 0;
}
