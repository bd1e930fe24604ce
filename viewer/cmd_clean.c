/* cmd_clean.c - `socktrace clean`: removes the trace files of processes
 * that have ended (--all: every trace file). Only regular files of ours
 * named like trace files are touched; links are never followed. */
#define _GNU_SOURCE
#include <dirent.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "tracedb.h"
#include "resolve.h"

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

/* DIR/.PID links name a process's file for its next program image; one
 * whose file is gone is removed with it. */
static void remove_stale_links(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        if (e->d_name[0] != '.')
            continue;
        strtol(e->d_name + 1, &end, 10);
        if (*end || end == e->d_name + 1)
            continue;
        char p[PATH_MAX];
        struct stat lst, st;
        if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p ||
            lstat(p, &lst) != 0 || !S_ISLNK(lst.st_mode) || lst.st_uid != geteuid())
            continue;
        if (stat(p, &st) != 0)
            unlink(p);
    }
    closedir(d);
}

int cmd_clean(struct ctx *c, int argc, char **argv)
{
    bool all;
    int status = flag_args(argc, argv, usage, "all", &all);
    if (status >= 0)
        return status;
    size_t n, removed = 0, failed = 0;
    struct trace_ref *refs = tracedb_list(c->dir, &n);
    for (size_t i = 0; i < n; i++) {
        bool alive = snap_pid_running(refs[i].pid, refs[i].proc_start);
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
    remove_stale_links(c->dir);
    printf("removed %zu trace file%s from %s\n", removed, removed == 1 ? "" : "s", c->dir);
    return failed ? 1 : 0;
}
