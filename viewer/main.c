/* main.c - `socktrace`: global options, then one verb. The viewer only
 * reads trace files; it never touches a traced process. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

#ifndef ST_VERSION_STRING
#define ST_VERSION_STRING "unknown"
#endif

static const char usage[] =
    "usage: socktrace [-d DIR] VERB [ARGS...]\n"
    "Shows which addresses and ports the sockets of traced programs really got.\n"
    "\n"
    "Verbs:\n"
    "  show PID [--all] [--json] [--verify]\n"
    "                              sockets of one process; --verify holds\n"
    "                              them against the kernel's view\n"
    "  ps [--json]                 traced processes, children under parents\n"
    "  events PID [--json] [-f]    every recorded call, in order; -f follows\n"
    "  watch [--connects|--closes] [--json] [-p PID]\n"
    "                              every call of every traced process, live\n"
    "  graph [--all] [--svg]       connections between processes, as DOT\n"
    "  ports [--json] [--all]      listening and bound ports of all traced\n"
    "                              processes, exposure, ephemeral ports used\n"
    "  run [--quiet] [--json] -- CMD [ARGS...]\n"
    "                              runs CMD traced, then summarises its sockets\n"
    "  export [--all]              every socket of every process, JSON Lines\n"
    "  clean [--all]               removes trace files of ended processes\n"
    "\n"
    "Options:\n"
    "  -d, --dir DIR   trace directory (default: $SOCKTRACE_DIR, else\n"
    "                  $XDG_RUNTIME_DIR/socktrace, else /tmp/socktrace-UID)\n"
    "  -h, --help      this text; VERB --help for a verb's options\n"
    "  -V, --version   the version\n"
    "\n"
    "Trace a program: LD_PRELOAD=libsocktrace.so PROGRAM\n";

int main(int argc, char **argv)
{
    struct ctx c = {.prog = "socktrace"};
    const char *dir = NULL;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage, stdout);
            return 0;
        } else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
            printf("socktrace %s (trace format %u)\n", ST_VERSION_STRING, ST_VERSION);
            return 0;
        } else if (!strcmp(a, "-d") || !strcmp(a, "--dir")) {
            if (++i >= argc)
                return usage_error(usage, "%s needs a directory", a);
            dir = argv[i];
        } else if (!strncmp(a, "--dir=", 6)) {
            dir = a + 6;
        } else {
            return usage_error(usage, "unknown option: %s", a);
        }
    }
    if (i >= argc)
        return usage_error(usage, "a verb is needed", NULL);
    if (st_dir_path(c.dir, sizeof c.dir, dir) != 0) {
        fprintf(stderr, "socktrace: trace directory path too long\n");
        return 1;
    }
    const char *verb = argv[i];
    argc -= i;
    argv += i;
    if (!strcmp(verb, "show"))
        return cmd_show(&c, argc, argv);
    if (!strcmp(verb, "ps"))
        return cmd_ps(&c, argc, argv);
    if (!strcmp(verb, "events"))
        return cmd_events(&c, argc, argv);
    if (!strcmp(verb, "ports"))
        return cmd_ports(&c, argc, argv);
    if (!strcmp(verb, "export"))
        return cmd_export(&c, argc, argv);
    if (!strcmp(verb, "clean"))
        return cmd_clean(&c, argc, argv);
    if (!strcmp(verb, "run"))
        return cmd_run(&c, argc, argv);
    if (!strcmp(verb, "watch"))
        return cmd_watch(&c, argc, argv);
    if (!strcmp(verb, "graph"))
        return cmd_graph(&c, argc, argv);
    return usage_error(usage, "unknown verb: %s", verb);
}
