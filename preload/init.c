/* init.c - starting and stopping the tracer: the constructor (settings,
 * trace directory, trace file, start-up scan), fork handlers, and the exit
 * mark. Any failure leaves the program untraced, with one warning line. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "newproc.h"
#include "outcome.h"
#include "portable.h"
#include "next_symbol.h"
#include "real.h"
#include "startup.h"
#include "tracedir.h"
#include "tracefile.h"
#include "file_space.h"
#include "ring.h"
#include "tracer.h"

#define HISTORY_DEFAULT (2u << 20)

static char trace_dir[ST_PATH_MAX];
static uid_t dir_euid;      /* whose trace_dir is */
static int quiet;
static uint64_t hist_bytes;

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
    st_sys_write(2, line, (size_t)n);
    errno = saved;
}

/* A process left untraced because its address-space limit has no room for
 * the file: one line in DIR/untraced.log ("PID COMMAND: not tracing: WHY"),
 * nothing on stderr. Such a program is one that budgets its memory (a
 * vsftpd session), and may have its client's socket for stderr. */
static void note_in_dir(const char *why)
{
    char path[ST_PATH_MAX + 16], comm[64] = "", line[ST_PATH_MAX + 200];
    int saved = errno;
    if (snprintf(path, sizeof path, "%s/untraced.log", trace_dir) >= (int)sizeof path)
        goto out;
    int fd = st_sys_open("/proc/self/comm", O_RDONLY | O_CLOEXEC, 0);
    if (fd >= 0) {
        long n = syscall(SYS_read, fd, comm, sizeof comm - 1);
        st_sys_close(fd);
        comm[n > 0 ? n : 0] = 0;
        comm[strcspn(comm, "\n")] = 0;
    }
    int n = snprintf(line, sizeof line, "%d %s: not tracing: %s\n", (int)syscall(SYS_getpid),
                     comm[0] ? comm : "?", why);
    if (n > (int)sizeof line - 1)
        n = (int)sizeof line - 1;
    fd = st_sys_open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) {
        /* one write on O_APPEND: lines of processes at once do not mix */
        long w = syscall(SYS_write, fd, line, (size_t)n);
        (void)w;
        st_sys_close(fd);
    }
out:
    errno = saved;
}

/* Reports why the process is not traced, the way that reason calls for. */
static void untraced(const char *what, const char *why)
{
    if (why == st_why_no_room)
        note_in_dir(why);
    else
        warn(what, why);
}

/* The settings, read in one walk over the environment at start-up (the
 * constructor returns before it for a secure-execution process, so this
 * is what secure_getenv would say): libc's getenv is a page of its text
 * to fault in, and it would walk the environment once per name. The
 * names are in .data, not .rodata (tracedir.c says why). */
enum { E_QUIET, E_TCPINFO, E_STALL, E_DIR, E_XDG, E_HISTORY, E_PPID, E_RUN_ID, E_COUNT };
static char env_names[E_COUNT][24] ST_IN_DATA = {
    [E_QUIET] = "SOCKTRACE_QUIET", [E_TCPINFO] = "SOCKTRACE_TCPINFO",
    [E_STALL] = "SOCKTRACE_TEST_STALL", [E_DIR] = "SOCKTRACE_DIR",
    [E_XDG] = "XDG_RUNTIME_DIR", [E_HISTORY] = "SOCKTRACE_HISTORY",
    [E_PPID] = "SOCKTRACE_PPID", [E_RUN_ID] = "SOCKTRACE_RUN_ID",
};

/* The value in entry e ("NAME=value") when it is name's, else NULL. */
static const char *value_of(const char *e, const char *name)
{
    while (*name && *e == *name)
        e++, name++;
    return !*name && *e == '=' ? e + 1 : NULL;
}

/* Like getenv, the first entry of a name counts. */
static void read_env(const char *val[E_COUNT])
{
    for (int i = 0; i < E_COUNT; i++)
        val[i] = NULL;
    for (char **e = environ; e && *e; e++)
        for (int i = 0; i < E_COUNT; i++)
            if (!val[i] && (val[i] = value_of(*e, env_names[i])) != NULL)
                break;
}

/* "4M", "512K", "1048576" (v: SOCKTRACE_HISTORY): a size in bytes,
 * clamped to something sane. */
static uint64_t history_bytes(const char *v)
{
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

/* The child connects to what its parent looked up: the names come along. */
static void copy_names(struct st_header *ph)
{
    struct st_ring *r = &ph->names;
    uint64_t head = __atomic_load_n(&r->head.v, __ATOMIC_ACQUIRE);
    uint64_t first = head > r->cap ? head - r->cap : 0;
    struct st_view v = st_view_of(ph);
    for (uint64_t i = first; i < head; i++) {
        struct st_namerec rec;
        if (st_ring_copy(&v, r, i, &rec, sizeof rec) != ST_RING_REC_OK)
            continue;   /* the parent runs on: written over meanwhile */
        rec.host[ST_HOST_MAX - 1] = 0;
        st_name_push(rec.family, rec.addr, rec.host, rec.ns);
    }
}

/* pp, run: SOCKTRACE_PPID and SOCKTRACE_RUN_ID */
static void procinfo(struct st_procinfo *p, int argc, char **argv, const char *pp,
                     const char *run)
{
    /* the start time in /proc names the file; reading it costs more than
     * the rest of start-up, so it waits until a file is made */
    p->pid = (int)syscall(SYS_getpid);     /* raw: no libc text to fault in */
    p->ppid = (int)syscall(SYS_getppid);
    /* an orphan's exec hook passed on the parent it had at its start:
     * getppid() now names whoever adopted it */
    char *end;
    if (pp && strtol(pp, &end, 10) == p->pid && *end == ':' && atoi(end + 1) > 1)
        p->ppid = atoi(end + 1);
    p->proc_start = 0;
    p->now_ns = st_clock_ns_sys(CLOCK_REALTIME);
    p->argc = argc;
    p->argv = argv;
    p->run_id = run ? strtoull(run, NULL, 10) : 0;
    p->pidns = p->mntns = p->netns = 0;    /* asked with the start time */
}

/* The forked child's command line: its parent's, from the parent's file. */
char st_child_cmd[ST_CMDLINE_MAX] ST_BSS_LAST;
char *st_child_argv[64] ST_BSS_LAST;

/* A forked child is a process of its own: it gets a file of its own, made
 * from what the kernel says of the sockets it inherited, with the parent's
 * records kept where the kernel agrees. Other threads of the parent may
 * have been changing the table at the moment of fork; asking the kernel
 * makes that harmless, and nobody here waits for them. Reached through
 * st_newproc_child (newproc.c), once per child, however it was made. */
static void child_start(void)
{
    st_tracer_after_fork();
    if (!st_on)
        return;
    int saved = errno;
    /* the parent's mapping stays while a put of ours still writes there:
     * it finishes the record the parent holds too (the same bytes) */
    bool mid_record = st_ring_forget();
    st_space_forget();
    struct st_header *parent = st_trace_forget();
    struct st_procinfo p;
    if (!parent) {
        /* nothing to carry over: who we are is asked when a file is
         * made, if ever (most such children exec at once) */
        st_trace_setup_child();
        errno = saved;
        return;
    }
    procinfo(&p, 0, NULL, secure_getenv("SOCKTRACE_PPID"), secure_getenv("SOCKTRACE_RUN_ID"));
    {
        /* recorded as the forking process even if it is gone already:
         * `run` follows a tree through these */
        p.ppid = parent->pid;
        uint32_t len = parent->cmdline_len < ST_CMDLINE_MAX ? parent->cmdline_len
                                                            : ST_CMDLINE_MAX;
        memcpy(st_child_cmd, parent->cmdline, len);
        int argc = 0;
        for (uint32_t off = 0; off < len && argc < 63;) {
            st_child_argv[argc++] = st_child_cmd + off;
            off += (uint32_t)strnlen(st_child_cmd + off, len - off) + 1;
        }
        st_child_argv[argc] = NULL;
        /* the parent's count: a cut command line stays marked cut (the
         * copy stops at the NULL above) */
        p.argc = parent->argc > (uint32_t)argc && parent->argc < INT32_MAX ? (int)parent->argc : argc;
        p.argv = st_child_argv;
    }
    const char *why = NULL;
    int r = 0;
    /* a daemon that dropped root since: its children belong in the new
     * user's directory */
    uid_t euid = (uid_t)syscall(SYS_geteuid);
    if (euid != dir_euid) {
        dir_euid = euid;
        if (st_dir_path(trace_dir, sizeof trace_dir, NULL, euid) != 0) {
            why = "path too long";
            r = -1;
        }
    }
    if (r == 0 && st_trace_setup(trace_dir, dir_euid, &p, hist_bytes) != 0) {
        why = "path too long";
        r = -1;
    }
    if (r != 0) {
        st_on = 0;
        if (!mid_record)
            st_trace_unmap(parent);
        warn(trace_dir, why);
        errno = saved;
        return;
    }
    if (parent) {
        struct st_header *h = st_trace_create(&why);
        if (!h) {
            st_on = 0;
            untraced(trace_dir, why);
        } else {
            h->next_id_block.v = __atomic_load_n(&parent->next_id_block.v, __ATOMIC_RELAXED);
            copy_names(parent);
            st_emit(ST_CALL_FORK, -1, parent->pid, 0, 0, NULL);
            st_scan_fds(ST_ORIGIN_FOUND, parent, false);
        }
        if (!mid_record)
            st_trace_unmap(parent);
    }
    errno = saved;
}

static void warn_untraced(const char *why)
{
    static int warned;
    if (__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
        return;
    char what[ST_PATH_MAX + 32];
    snprintf(what, sizeof what, "trace file in %s", trace_dir);
    untraced(what, why);
}

__attribute__((constructor)) static void st_init(int argc, char **argv,
                                                 char **envp)
{
    (void)envp;
    int saved = errno;
    st_real_resolve_close();
    /* the objects the real functions are looked up in, read now, while no
     * other thread can hold the loader's list lock: fork does not reset
     * it, and a child forked while another thread held it would wait for
     * it for ever at its first lookup (a fork handler's prepare step could
     * read the list later, but would then wait for the holder: a deadlock
     * when the holder waits for the forking thread) */
    st_next_symbol_init();
    /* set-uid programs are not traced: their files would be root's, and
     * their environment is not to be trusted */
    if (getauxval(AT_SECURE))
        goto out;
    const char *env[E_COUNT];
    read_env(env);
    const char *q = env[E_QUIET], *ti = env[E_TCPINFO];
    quiet = q && *q && !(q[0] == '0' && !q[1]);
    st_tcpinfo = !(ti && ti[0] == '0' && !ti[1]);
    if (env[E_STALL])
        st_test_stall_setup(env[E_STALL]);
    /* asked once, and raw: libc's geteuid is a page of text to fault in */
    dir_euid = (uid_t)syscall(SYS_geteuid);
    if (st_dir_path_of(trace_dir, sizeof trace_dir, env[E_DIR], env[E_XDG], dir_euid) != 0) {
        warn("trace directory path too long", NULL);
        goto out;
    }
    struct st_procinfo p;
    procinfo(&p, argc, argv, env[E_PPID], env[E_RUN_ID]);
    hist_bytes = history_bytes(env[E_HISTORY]);
    if (st_trace_setup(trace_dir, dir_euid, &p, hist_bytes) != 0) {
        warn("trace directory path too long", NULL);
        goto out;
    }
    st_newproc_arm(child_start);
    st_on_untraced(warn_untraced);
    st_on_close(st_outcome_closing, st_outcome_closed);
    if (pthread_atfork(NULL, NULL, st_newproc_child) != 0) {
        warn("pthread_atfork failed", NULL);
        goto out;
    }
    st_on = 1;
    /* after exec this process has a file already: the new image carries
     * on its record; otherwise a file is made only once a socket shows */
    bool reopened = st_trace_reopen() == 0;
    if (reopened) {
        /* the exec that brought us here is over: this image traces itself
         * (trace_protocol.h: "An exec under way") */
        struct st_header *h = st_hdr();
        uint32_t seq = __atomic_load_n(&h->exec_seq, __ATOMIC_RELAXED);
        __atomic_store_n(&h->exec_seq, (seq + 1) & ~1u, __ATOMIC_RELAXED);
        __atomic_store_n(&h->exec_pending, 0, __ATOMIC_RELEASE);
        st_emit(ST_CALL_EXEC, -1, -1, 0, 0, NULL);
        st_exec_sweep();
    }
    /* after an exec the file already holds what this process had when it
     * started (the first image's scan): a socket it does not know was made
     * since, by a call no hook saw (a raw syscall), so it is found, not
     * inherited */
    st_scan_fds(reopened ? ST_ORIGIN_FOUND : ST_ORIGIN_INHERITED, NULL, !reopened);
out:
    errno = saved;
}

/* The exit mark, after the entries the exit is about to close were
 * checked (st_exit_sweep): what is left in the table was open at the end. */
__attribute__((destructor)) static void st_fini(void)
{
    struct st_header *h = st_hdr();
    if (!h || !st_on || !st_exit_sweep())
        return;
    __atomic_store_n(&h->end_ns, st_clock_ns(CLOCK_REALTIME), __ATOMIC_RELAXED);
    __atomic_or_fetch(&h->flags, ST_HF_EXITED, __ATOMIC_RELEASE);
}
