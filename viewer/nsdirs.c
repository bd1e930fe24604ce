/* nsdirs.c - finds the trace directories of processes in other mount
 * namespaces (nsdirs.h). A traced process maps its trace file shared, so
 * /proc/PID/maps names the file by its path in the process's own mount
 * namespace; that is exact where the environment is not (SOCKTRACE_DIR
 * may have changed since exec, the default depends on the euid and
 * XDG_RUNTIME_DIR). Only processes in another mount namespace are looked
 * at: one readlink each, and their maps. */
#define _GNU_SOURCE
#include "nsdirs.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nsmap.h"
#include "tracedir.h"

struct seen {
    dev_t dev;
    ino_t ino;
};

static bool seen_add(struct seen **v, size_t *n, const struct stat *st)
{
    for (size_t i = 0; i < *n; i++)
        if ((*v)[i].dev == st->st_dev && (*v)[i].ino == st->st_ino)
            return false;
    struct seen *p = realloc(*v, (*n + 1) * sizeof **v);
    if (!p)
        return false;
    *v = p;
    p[(*n)++] = (struct seen){st->st_dev, st->st_ino};
    return true;
}

/* The directory of a trace file the process has mapped: a shared
 * writable mapping of a file named PID-START.trace. "" when none. */
static void mapped_dir(int pid, char *dir, size_t size)
{
    char path[64], line[ST_PATH_MAX + 128];
    dir[0] = 0;
    snprintf(path, sizeof path, "/proc/%d/maps", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        char perms[8];
        int off = 0;
        if (sscanf(line, "%*s %7s %*s %*s %*s %n", perms, &off) != 1 || !off ||
            perms[3] != 's')
            continue;
        char *name = line + off;
        name[strcspn(name, "\n")] = 0;
        char *slash = strrchr(name, '/');
        int p;
        uint64_t start;
        if (name[0] != '/' || !slash ||
            st_trace_name_parse(slash + 1, &p, &start) != 0)
            continue;   /* not a trace file, or " (deleted)" */
        *slash = 0;
        if ((size_t)snprintf(dir, size, "%s", slash == name ? "/" : name) >= size)
            dir[0] = 0;
        break;
    }
    fclose(f);
}

size_t nsdirs_find(const char *dir, char ***out)
{
    *out = NULL;
    const char *on = getenv("SOCKTRACE_CONTAINERS");
    if (geteuid() != 0 || (on && strcmp(on, "0") == 0))
        return 0;
    uint64_t self = st_ns_inode(0, "mnt");
    DIR *d = opendir("/proc");
    if (!self || !d) {
        if (d)
            closedir(d);
        return 0;
    }
    struct seen *seen = NULL;
    size_t nseen = 0, n = 0;
    struct stat st;
    if (stat(dir, &st) == 0)
        seen_add(&seen, &nseen, &st);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        int pid = atoi(e->d_name);
        uint64_t mnt = st_ns_inode(pid, "mnt");
        if (!mnt || mnt == self)
            continue;
        char inner[ST_PATH_MAX], path[ST_PATH_MAX + 64];
        mapped_dir(pid, inner, sizeof inner);
        if (!inner[0])
            continue;
        if ((size_t)snprintf(path, sizeof path, "/proc/%d/root%s", pid, inner) >= sizeof path ||
            stat(path, &st) != 0 || !S_ISDIR(st.st_mode) || !seen_add(&seen, &nseen, &st))
            continue;
        char **p = realloc(*out, (n + 1) * sizeof *p);
        if (!p)
            break;
        *out = p;
        if (!(p[n] = strdup(path)))
            break;
        n++;
    }
    closedir(d);
    free(seen);
    return n;
}
