/* init.c - starting and stopping the tracer: the constructor (settings,
 * trace directory, trace file, start-up scan), fork handlers, and the exit
 * mark. Any failure leaves the program untraced, with one warning line. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "real.h"
#include "startup.h"
#include "tracedir.h"
#include "tracefile.h"
#include "tracer.h"

#define HISTORY_DEFAULT (2u << 20)

static char trace_dir[ST_PATH_MAX];
static uid_t dir_euid;      /* whose trace_dir is */
static int quiet;
static bool fork_locked;

/* One line, written directly: stdio may not be usable yet, and a warning
 * must never change the program's buffered output. */
static void warn(const char *what, const char *why)
{
    if (quiet)
        return;
    char line[ST_PATH_MAX + 200];
    int n = snprintf(line, sizeof line, "socktrace: not tracing: %s%s%s\n",
                     what, why ? ": " : "", why ? why : "");
    if (n > (int)sizeof line - 1)
        n = (int)sizeof line - 1;
    int saved = errno;
    ssize_t w = write(2, line, (size_t)n);
    (void)w;
    errno = saved;
}

/* "4M", "512K", "1048576": a size in bytes, clamped to something sane. */
static uint64_t history_bytes(void)
{
    const char *v = secure_getenv("SOCKTRACE_HISTORY");
    if (!v || !*v)
        return HISTORY_DEFAULT;
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    if (*end == 'K' || *end == 'k')
        n <<= 10, end++;
    else if (*end == 'M' || *end == 'm')
        n <<= 20, end++;
    else if (*end == 'G' || *end == 'g')
        n <<= 30, end++;
    if (*end || n == 0)
        return HISTORY_DEFAULT;
    if (n < (16u << 10))
        n = 16u << 10;
    if (n > (1ull << 30))
        n = 1ull << 30;
    return n;
}

static void procinfo(struct st_procinfo *p, int argc, char **argv)
{
    p->pid = getpid();
    p->ppid = getppid();
    p->proc_start = 0;
    if (st_proc_stat(0, &p->proc_start, &p->ppid) != 0)
        p->proc_start = 0;
    p->now_ns = st_now();
    p->argc = argc;
    p->argv = argv;
}

static void fork_prepare(void)
{
    fork_locked = st_enter_for_fork();
    if (fork_locked)
        st_trace_fork_prepare();
}

static void fork_parent(void)
{
    if (fork_locked) {
        st_trace_fork_release();
        st_leave();
    }
    fork_locked = false;
}

static void fork_child(void)
{
    st_tracer_after_fork();
    if (!st_on)
        return;
    if (!fork_locked) {
        /* another thread was inside the tracer: its half-done update of
         * the index cannot be trusted, so this child goes untraced */
        st_on = 0;
        return;
    }
    fork_locked = false;

    int saved = errno;
    struct st_procinfo p;
    procinfo(&p, 0, NULL);
    struct st_header *parent = st_hdr();
    int parent_pid = parent->pid;
    /* recorded as the forking process even if it is gone already: `run`
     * follows a tree through these */
    p.ppid = parent_pid;
    /* the child runs the parent's program: keep its command line, copied
     * to the stack first because st_trace_fork drops the parent's mapping */
    char cmd[ST_CMDLINE_MAX];
    uint32_t len = parent->cmdline_len;
    memcpy(cmd, parent->cmdline, len);
    char *argv[64];
    int argc = 0;
    for (uint32_t off = 0; off < len && argc < 63;) {
        argv[argc++] = cmd + off;
        off += (uint32_t)strnlen(cmd + off, len - off) + 1;
    }
    argv[argc] = NULL;
    p.argc = argc;
    p.argv = argv;
    const char *why = NULL;
    int r = 0;
    /* a daemon that dropped root since: its children belong in the new
     * user's directory, if that user has one we may use */
    if (geteuid() != dir_euid) {
        dir_euid = geteuid();
        if (st_dir_path(trace_dir, sizeof trace_dir, NULL) != 0) {
            why = "path too long";
            r = -1;
        } else {
            r = st_dir_prepare(trace_dir, 1, &why);
        }
    }
    if (r == 0)
        r = st_trace_fork(trace_dir, &p, &why);
    if (r != 0) {
        st_on = 0;
        st_trace_close();
        warn(trace_dir, why);
    } else {
        st_emit(ST_CALL_FORK, -1, parent_pid, 0, 0, NULL);
    }
    errno = saved;
}

__attribute__((constructor)) static void st_init(int argc, char **argv,
                                                 char **envp)
{
    (void)envp;
    int saved = errno;
    st_real_resolve();
    /* set-uid programs are not traced: their files would be root's, and
     * their environment is not to be trusted */
    if (getauxval(AT_SECURE))
        goto out;
    const char *q = secure_getenv("SOCKTRACE_QUIET");
    quiet = q && *q && strcmp(q, "0") != 0;
    const char *ti = secure_getenv("SOCKTRACE_TCPINFO");
    st_tcpinfo = !(ti && strcmp(ti, "0") == 0);
    const char *why = NULL;
    dir_euid = geteuid();
    if (st_dir_path(trace_dir, sizeof trace_dir, NULL) != 0) {
        warn("trace directory path too long", NULL);
        goto out;
    }
    if (st_dir_prepare(trace_dir, 1, &why) != 0) {
        char what[ST_PATH_MAX + 32];
        snprintf(what, sizeof what, "trace directory %s", trace_dir);
        warn(what, why);
        goto out;
    }
    struct st_procinfo p;
    procinfo(&p, argc, argv);
    bool reopened = false;
    if (st_trace_open(trace_dir, &p, history_bytes(), &reopened, &why) != 0) {
        char what[ST_PATH_MAX + 32];
        snprintf(what, sizeof what, "trace file in %s", trace_dir);
        warn(what, why);
        goto out;
    }
    if (pthread_atfork(fork_prepare, fork_parent, fork_child) != 0) {
        st_trace_close();
        warn("pthread_atfork failed", NULL);
        goto out;
    }
    st_on = 1;
    if (st_enter()) {
        if (reopened)
            st_emit(ST_CALL_EXEC, -1, -1, 0, 0, NULL);
        st_scan_fds(reopened);
        st_leave();
    }
out:
    errno = saved;
}

__attribute__((destructor)) static void st_fini(void)
{
    if (!st_enter())
        return;
    struct st_header *h = st_hdr();
    h->end_ns = st_now();
    __atomic_or_fetch(&h->flags, ST_HF_EXITED, __ATOMIC_RELEASE);
    st_leave();
}
