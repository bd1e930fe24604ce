/* cmd_clean.c - `socktrace clean`: removes the trace files of processes
 * that have ended (--all: every trace file). Only regular files of ours
 * named like trace files are touched; links are never followed. */
#define _GNU_SOURCE
#include <dirent.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "tracedb.h"

static const char usage[] =
    "usage: socktrace clean [--all]\n"
    "  Removes the trace files of processes that have ended.\n"
    "  -a, --all     remove every trace file, running processes' too\n"
    "  -h, --help    this text\n";

static bool ours(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid();
}

int cmd_clean(struct ctx *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"all", no_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    bool all = false;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "ah", opts, NULL)) != -1) {
        switch (o) {
        case 'a': all = true; break;
        case 'h': fputs(usage, stdout); return 0;
        default: return usage_error(usage, NULL, NULL);
        }
    }
    if (optind != argc)
        return usage_error(usage, "unexpected argument: %s", argv[optind]);
    size_t n, removed = 0, failed = 0;
    struct trace_ref *refs = tracedb_list(c->dir, &n);
    for (size_t i = 0; i < n; i++) {
        uint64_t start;
        int ppid;
        bool alive = st_proc_stat(refs[i].pid, &start, &ppid) == 0 &&
                     (refs[i].proc_start == 0 || start == refs[i].proc_start);
        if ((alive && !all) || !ours(refs[i].path))
            continue;
        if (unlink(refs[i].path) == 0) {
            removed++;
        } else {
            perror(refs[i].path);
            failed++;
        }
    }
    free(refs);
    printf("removed %zu trace file%s from %s\n", removed, removed == 1 ? "" : "s", c->dir);
    return failed ? 1 : 0;
}
