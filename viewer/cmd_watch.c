/* cmd_watch.c - `socktrace watch`: the calls of every traced process as
 * they happen (follow.h), chosen by the selection's words, as tcpconnect
 * (--connects) or tcplife (--closes) print them. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "follow.h"
#include "select.h"
#include "since.h"

static const char usage[] =
    "usage: socktrace watch [PID...|NAME] [FILTER] [--json] [--connects | --closes]\n"
    "                       [--since TIME|DURATION] [--count N] [--timeout S]\n"
    "  Prints every intercepted call of every traced process as it happens,\n"
    "  processes started later and forked children included, until Ctrl-C.\n"
    "  PIDs, -p, -c NAME and a FILTER choose processes and calls as for\n"
    "  events (--tree: use events -f PID, which follows the children).\n"
    "  -j, --json      JSON Lines: the object `events --json` prints\n"
    "  --connects      connects and accepts: who connected where, with the\n"
    "                  connect's outcome once it is known (as tcpconnect)\n"
    "  --closes        closed connections: bytes sent and received, duration\n"
    "                  (as tcplife)\n"
    "  --since T       start earlier, from what the rings still hold: 30s, 5m,\n"
    "                  2h, 14:05, 2026-11-24T18:09:11, @EPOCH\n"
    "  --count N       stop after N lines\n"
    "  --timeout S     stop after S seconds\n"
    "  -h, --help      this text\n";

static int take_opt(void *ctx, int o, const char *arg)
{
    struct follow_opts *fo = ctx;
    char *end;
    double sec;
    switch (o) {
    case 'C':
    case 'L':
        if (fo->show != FOLLOW_ALL)
            return usage_error(usage, "--connects and --closes: one or the other", NULL);
        fo->show = o == 'C' ? FOLLOW_CONNECTS : FOLLOW_CLOSES;
        return 0;
    case 's':
        if (since_time(arg, &fo->since_ns) != 0)
            return usage_error(usage, "--since: not a time or a duration: %s", arg);
        return 0;
    case 'n':
        errno = 0;
        fo->count = strtoull(arg, &end, 10);
        if (errno || *end || end == arg || !fo->count || arg[0] == '-')
            return usage_error(usage, "--count: not a number > 0: %s", arg);
        return 0;
    case 't':
        if (since_duration(arg, &sec) != 0 || sec <= 0)
            return usage_error(usage, "--timeout: not a number of seconds: %s", arg);
        fo->timeout = sec;
        return 0;
    case SELECT_OPT_TREE:
        return usage_error(usage, "--tree: use events -f PID, which follows the children", NULL);
    default:
        return 1;
    }
}

int cmd_watch(struct ctx *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"connects", no_argument, NULL, 'C'},
        {"closes", no_argument, NULL, 'L'},
        {"since", required_argument, NULL, 's'},
        {"count", required_argument, NULL, 'n'},
        {"timeout", required_argument, NULL, 't'},
        {0, 0, 0, 0},
    };
    struct follow_opts fo = {0};
    const struct verb_opts own = {opts, "", take_opt, &fo};
    struct verb_args a;
    int status = verb_args(c, argc, argv, usage, VERB_JSON | VERB_SELECT, &own, &a);
    if (status >= 0)
        return status;
    fo.json = a.json;
    fo.sel = select_has_process(a.sel) || select_has_filter(a.sel) ? a.sel : NULL;
    status = follow_run(c, &fo);
    select_free(a.sel);
    return status;
}
