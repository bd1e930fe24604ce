/* proc_exec.c - whether a live traced process whose file says an exec was
 * under way now runs a program that does not load the tracer (see
 * snapshot.h), from what /proc shows any reader of the same user:
 * auxv, maps, environ, cmdline. */
#define _GNU_SOURCE
#include "proc_exec.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Reads all of /proc/PID/WHAT into a fresh buffer (NUL added); NULL with
 * errno set when it cannot be read. */
static char *slurp(int pid, const char *what, size_t *len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", pid, what);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 8192, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0) {
            int e = errno;
            free(buf);
            close(fd);
            errno = e;
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n == cap) {
            char *p = cap < (64u << 20) ? realloc(buf, cap * 2 + 1) : NULL;
            if (!p)
                break;      /* enough to decide on */
            buf = p;
            cap *= 2;
        }
    }
    close(fd);
    if (!buf) {
        errno = ENOMEM;
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

/* What the process is at one moment. */
enum look { LOOK_TRACED, LOOK_UNTRACED, LOOK_LOADING, LOOK_GONE };

static enum look look(int pid)
{
    size_t len;
    char *auxv = slurp(pid, "auxv", &len);
    if (!auxv) {
        /* the file is ours, so the process was ours to look at: one we may
         * no longer read took other credentials, as a set-uid or set-gid
         * program does at exec (the loader then ignores LD_PRELOAD) */
        return errno == EACCES || errno == EPERM ? LOOK_UNTRACED : LOOK_GONE;
    }
    uint64_t at_base = 0, at_secure = 0;
    for (size_t o = 0; o + sizeof(Elf64_auxv_t) <= len; o += sizeof(Elf64_auxv_t)) {
        Elf64_auxv_t a;
        memcpy(&a, auxv + o, sizeof a);
        if (a.a_type == AT_BASE)
            at_base = a.a_un.a_val;
        else if (a.a_type == AT_SECURE)
            at_secure = a.a_un.a_val;
        else if (a.a_type == AT_NULL)
            break;
    }
    free(auxv);
    if (at_secure)
        return LOOK_UNTRACED;      /* the library, if loaded, stays off */
    char *maps = slurp(pid, "maps", &len);
    if (!maps)
        return errno == EACCES || errno == EPERM ? LOOK_UNTRACED : LOOK_GONE;
    /* the old image maps it (its exec hook set the mark); a new one does
     * once its loader has got to the preloads */
    bool mapped = strstr(maps, "/libsocktrace") != NULL;
    free(maps);
    if (mapped)
        return LOOK_TRACED;
    if (at_base == 0)
        return LOOK_UNTRACED;      /* no loader: a static program */
    char *env = slurp(pid, "environ", &len);
    if (!env)
        return errno == EACCES || errno == EPERM ? LOOK_UNTRACED : LOOK_GONE;
    bool preload = false;
    for (size_t o = 0; o < len; o += strlen(env + o) + 1)
        if (strncmp(env + o, "LD_PRELOAD=", 11) == 0 && strstr(env + o, "libsocktrace"))
            preload = true;
    free(env);
    /* a loader that will map the library has not yet got to it */
    return preload ? LOOK_LOADING : LOOK_UNTRACED;
}

#define LOADING_WAIT_MS 500     /* a loader maps its preloads in a few ms */

int proc_exec_check(int pid, const uint32_t *live_pending, bool *untraced)
{
    *untraced = false;
    for (int waited = 0;; waited += 10) {
        enum look l = look(pid);
        if (l == LOOK_GONE)
            return -1;
        if (__atomic_load_n(live_pending, __ATOMIC_ACQUIRE) == 0)
            return 1;       /* the new image reopened the file meanwhile */
        if (l == LOOK_UNTRACED || waited >= LOADING_WAIT_MS) {
            /* still not mapped after the wait: the loader did not take it
             * (another ELF class, a path that does not exist there); still
             * mapped and marked: a new image that did not reopen the file
             * (another trace directory), traced elsewhere */
            *untraced = l != LOOK_TRACED;
            return 0;
        }
        /* mapped, and marked: the old image inside its exec call, or the
         * new one between mapping the library and its constructor; either
         * clears the mark in a moment. Or not mapped yet: loading. */
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
}

uint32_t proc_cmdline(int pid, char *buf, size_t size)
{
    size_t len;
    char *c = slurp(pid, "cmdline", &len);
    if (!c)
        return 0;
    if (len > size)
        len = size;
    memcpy(buf, c, len);
    free(c);
    return (uint32_t)len;
}
