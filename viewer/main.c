/* main.c - `socktrace`: global options, then one verb. The viewer only
 * reads trace files; it never touches a traced process. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "commands.h"
#include "tracedb.h"

#ifndef ST_VERSION_STRING
#define ST_VERSION_STRING "unknown"
#endif

static const char usage[] =
    "usage: socktrace [-d DIR] VERB [ARGS...] [-d DIR]\n"
    "Shows which addresses and ports the sockets of traced programs really got.\n"
    "\n"
    "Verbs:\n"
    "  show [PID...|NAME] [FILTER] [--all] [--json] [--verify]\n"
    "                              sockets of processes; --verify holds\n"
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
    "                  (before or after the verb)\n"
    "  -h, --help      this text; VERB --help for a verb's options\n"
    "\n"
    "Selection (show, events, ports, export): PIDs, -p PID[,PID], -c NAME,\n"
    "--tree PID, and an ss-style FILTER: 'sport = :80 and not state listening'\n"
    "  -V, --version   the version\n"
    "\n"
    "Trace a program: LD_PRELOAD=libsocktrace.so PROGRAM\n";

/* -d DIR after the verb: taken out of argv, so that no verb needs to know
 * it; up to "--" (and, for run, up to the command it runs). Returns the
 * directory (the last one given) or NULL; *bad set when -d lacks one. */
static const char *dir_after_verb(int *argc, char **argv, bool stop_at_word, bool *bad)
{
    const char *dir = NULL;
    int o = 1;
    *bad = false;
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--") || (stop_at_word && a[0] != '-')) {
            while (i < *argc)
                argv[o++] = argv[i++];
            break;
        }
        if (!strcmp(a, "-d") || !strcmp(a, "--dir")) {
            if (i + 1 >= *argc) {
                *bad = true;
                return NULL;
            }
            dir = argv[++i];
        } else if (!strncmp(a, "--dir=", 6)) {
            dir = a + 6;
        } else {
            argv[o++] = argv[i];
        }
    }
    argv[o] = NULL;
    *argc = o;
    return dir;
}

/* A directory named with -d must be one the viewer can read: a mistyped
 * one is an error, not an empty list. */
static int check_dir(const char *prog, const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        fprintf(stderr, "%s: trace directory %s: %s\n", prog, dir, strerror(errno));
        return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "%s: trace directory %s: not a directory\n", prog, dir);
        return 1;
    }
    if (access(dir, R_OK | X_OK) != 0) {
        fprintf(stderr, "%s: trace directory %s: %s%s\n", prog, dir, strerror(errno),
                st.st_uid != geteuid() ? " (it belongs to another user)" : "");
        return 1;
    }
    return 0;
}

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
    const char *verb = argv[i];
    argc -= i;
    argv += i;
    bool run = !strcmp(verb, "run"), missing;
    const char *later = dir_after_verb(&argc, argv, run, &missing);
    if (missing)
        return usage_error(usage, "-d needs a directory", NULL);
    if (later)
        dir = later;
    if (st_dir_path(c.dir, sizeof c.dir, dir, geteuid()) != 0) {
        fprintf(stderr, "socktrace: trace directory path too long\n");
        return 1;
    }
    /* run hands the directory on to the program, whose tracer creates it */
    if (dir && !run && check_dir(c.prog, c.dir))
        return 1;
    /* root sees every user's traces unless it named a directory; anyone
     * finds a pid's trace in its owner's directory, unless -d said where */
    const char *env = secure_getenv("SOCKTRACE_DIR");
    bool named = dir || (env && *env);
    tracedb_widen(c.dir, !named && geteuid() == 0 && strcmp(verb, "clean") != 0, !dir);
    cli_argv = argv;    /* usage_error names a refused option itself */
    opterr = 0;
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
