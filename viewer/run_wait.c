/* run_wait.c - finding the processes a run left running, by the id every
 * process of the run inherits in its environment (SOCKTRACE_RUN_ID): a
 * trace file exists only once a process has had a socket, and an orphan's
 * parent is init, so neither the files nor the tree find them all. */
#define _GNU_SOURCE
#include "run_wait.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tracedir.h"

/* The whole of a small /proc file; NULL when unreadable. */
static char *slurp(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    for (ssize_t r; buf; n += (size_t)r) {
        if (n == cap) {
            char *p = cap < (1u << 22) ? realloc(buf, 2 * cap + 1) : NULL;
            if (!p)
                break;
            buf = p;
            cap *= 2;
        }
        r = read(fd, buf + n, cap - n);
        if (r <= 0)
            break;
    }
    close(fd);
    if (buf)
        buf[n] = 0;
    *len = n;
    return buf;
}

/* Alive and not a zombie: a zombie has done all it will do. */
static bool running(int pid)
{
    uint64_t start;
    int ppid, ended;
    return st_proc_read(pid, &start, &ppid, &ended) == 0 && !ended;
}

enum member { NOT_IN_RUN, IN_RUN, UNKNOWN };

static enum member look(int pid, const char *want, size_t wlen)
{
    char path[64];
    size_t len;
    snprintf(path, sizeof path, "/proc/%d/environ", pid);
    char *env = slurp(path, &len);
    if (!env)
        return NOT_IN_RUN;
    enum member m = len ? NOT_IN_RUN : UNKNOWN;
    for (size_t o = 0; o < len && m != IN_RUN; o += strnlen(env + o, len - o) + 1)
        if (len - o >= wlen && !memcmp(env + o, want, wlen) &&
            (o + wlen == len || env[o + wlen] == 0))
            m = IN_RUN;
    free(env);
    return m;
}

/* env_start and env_end of /proc/PID/stat (fields 50 and 51): both 0
 * from the start of an execve until the new image's environment is being
 * set up (and in a kernel thread, which has no image); equal and not 0
 * for an environment that is really empty, and also while the execve
 * lays the new one out (it sets both to the start, then moves env_end
 * past each string). *state: field 3 (R running, S sleeping, ...). -1:
 * gone or unreadable. */
static int env_span(int pid, unsigned long *start, unsigned long *end, char *state)
{
    char path[64];
    size_t len;
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    char *st = slurp(path, &len);
    char *p = st ? strrchr(st, ')') : NULL;
    *state = p && p[1] == ' ' ? p[2] : 0;
    int field = 2;      /* comm may hold spaces: count from its end */
    for (; p && *p && field < 50; p++)
        if (*p == ' ')
            field++;
    int ok = p && sscanf(p, "%lu %lu", start, end) == 2 ? 0 : -1;
    free(st);
    return ok;
}

/* A process in the middle of execve reads as an empty environment: the
 * old image's is gone, the new one's not laid out yet (/proc/PID/stat
 * then shows no environment at all, or, while it is laid out, one of no
 * length, as a really empty one). Such a process is read again until its
 * new image has one, or for 10 s at most (an exec stuck that long is not
 * waited for). An environment of no length is taken for a really empty
 * one at once from a process asleep or stopped (an execve laying its
 * strings out is running, or waiting for a page: R or D), else when it
 * stays so for 100 ms (a preempted execve lays out the rest as soon as
 * it runs again). */
static bool in_run(int pid, const char *want, size_t wlen)
{
    char path[64], exe[8];
    snprintf(path, sizeof path, "/proc/%d/exe", pid);
    int no_length = 0;
    for (int i = 0;; i++) {
        enum member m = look(pid, want, wlen);
        unsigned long start, end;
        char state;
        if (m != UNKNOWN)
            return m == IN_RUN;
        if (env_span(pid, &start, &end, &state) != 0 ||
            (end && start == end && ((state != 'R' && state != 'D') || ++no_length > 50)) ||
            (!end && readlink(path, exe, sizeof exe) < 0) || i == 5000)
            return false;   /* gone, really empty, a kernel thread */
        nanosleep(&(struct timespec){.tv_nsec = 2 * 1000000}, NULL);
    }
}

static void cmdline_of(int pid, char *buf, size_t size)
{
    char path[64];
    size_t len;
    snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
    char *c = slurp(path, &len);
    buf[0] = 0;
    if (!c)
        return;
    while (len && !c[len - 1])
        len--;
    for (size_t i = 0; i < len; i++)
        if (!c[i] || (unsigned char)c[i] < 0x20)
            c[i] = ' ';
    snprintf(buf, size, "%.*s", (int)len, c);
    free(c);
}

static int by_pid(const void *a, const void *b)
{
    return ((const struct run_left *)a)->pid - ((const struct run_left *)b)->pid;
}

size_t run_left_find(uint64_t run_id, struct run_left **out)
{
    char want[48];
    int wlen = snprintf(want, sizeof want, "SOCKTRACE_RUN_ID=%llu", (unsigned long long)run_id);
    *out = NULL;
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    size_t n = 0;
    int self = getpid();
    for (struct dirent *e; (e = readdir(d));) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0 || pid == self || !in_run((int)pid, want, (size_t)wlen) ||
            !running((int)pid))
            continue;
        void *p = realloc(*out, (n + 1) * sizeof **out);
        if (!p)
            break;
        *out = p;
        (*out)[n].pid = (int)pid;
        cmdline_of((int)pid, (*out)[n].cmd, sizeof (*out)[n].cmd);
        n++;
    }
    closedir(d);
    if (n)
        qsort(*out, n, sizeof **out, by_pid);
    return n;
}

void run_left_wait(uint64_t run_id)
{
    for (;;) {
        struct run_left *v;
        size_t n = run_left_find(run_id, &v);
        free(v);
        if (!n)
            return;
        nanosleep(&(struct timespec){.tv_nsec = 50 * 1000000}, NULL);
    }
}
