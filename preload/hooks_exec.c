/* hooks_exec.c - the exec family. An exec replaces the program image, and
 * a new image that does not load the library (static, set-uid, LD_PRELOAD
 * dropped) never writes the file again, which would go on naming the old
 * command. So each exec call first marks the file (exec under way: when,
 * which path) and takes the mark back if the call returns; a new image
 * that loads the library clears it (init.c). trace_protocol.h has the
 * protocol. Every hook passes the caller's arguments on untouched, but
 * for one case: an orphan (its parent died before this exec) passes the
 * parent it had at its start in SOCKTRACE_PPID, since the new image's
 * getppid() says 1 (or a subreaper), which would cut it from its tree. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hooks.h"
#include "tracedir.h"
#include "tracefile.h"
#include "tracer.h"

extern char **environ;

typedef int (*execve_fn)(const char *, char *const[], char *const[]);
typedef int (*execv_fn)(const char *, char *const[]);
typedef int (*fexecve_fn)(int, char *const[], char *const[]);
typedef int (*execveat_fn)(int, const char *, char *const[], char *const[], int);

/* Not in st_real: nothing but these hooks calls them. */
static execve_fn real_execve, real_execvpe;
static execv_fn real_execv, real_execvp;
static fexecve_fn real_fexecve;
static execveat_fn real_execveat;

/* The real function, looked up on first use; NULL when there is none
 * behind us (then the system call, or the equivalent libc call, serves). */
static void *real(void **field, const char *name, void *self)
{
    void *p = __atomic_load_n(field, __ATOMIC_ACQUIRE);
    if (!p && st_real_resolve_one(field, name, self))
        p = __atomic_load_n(field, __ATOMIC_ACQUIRE);
    return p;
}
#define REAL_EXEC(fn) ((__typeof__(real_##fn))real((void **)&real_##fn, #fn, (void *)&fn))

/* Copies the string at p (at most size - 1 bytes) without trusting it: a
 * program may hand exec a bad pointer and must get EFAULT from the call,
 * not a crash in ours. The kernel tells: faccessat reads the string as
 * exec will, and answers EFAULT where it cannot. It is one of the calls a
 * sandbox that allows exec allows too (process_vm_readv, the other way,
 * is often forbidden, and some filters kill for it). Any answer that does
 * not prove the string readable leaves "". */
static void copy_path(char *out, size_t size, const char *p)
{
    out[0] = 0;
    if (!p)
        return;
    long r = syscall(SYS_faccessat, AT_FDCWD, p, F_OK, 0);
    if (r != 0 && errno != ENOENT && errno != EACCES && errno != ENOTDIR &&
        errno != ENAMETOOLONG && errno != ELOOP)
        return;
    size_t n = strnlen(p, size - 1);
    memcpy(out, p, n);
    out[n] = 0;
}

/* "/proc/self/fd/N" without stdio: exec may be called from a signal
 * handler. buf holds ST_FD_LINK bytes. */
#define ST_FD_LINK 32
static void fd_link(char *buf, int fd)
{
    st_put(buf, ST_FD_LINK, 0, "/proc/self/fd/", (unsigned)fd);
}

#define PPID_VAR "SOCKTRACE_PPID="

/* "SOCKTRACE_PPID=PID:PPID" in var when this process is an orphan: the
 * new image takes PPID as its parent only when PID is its own pid (the
 * variable is inherited further). One getppid() per exec. */
static bool orphan_var(char *var, size_t size)
{
    int saved = errno;
    int pp = st_active() ? st_start_ppid() : 0;
    bool orphan = pp > 1 && getppid() != pp;
    if (orphan)
        snprintf(var, size, PPID_VAR "%d:%d", (int)getpid(), pp);
    errno = saved;
    return orphan;
}

static size_t env_count(char *const *envp)
{
    size_t n = 0;
    while (envp && envp[n])
        n++;
    return n;
}

/* envp without an older SOCKTRACE_PPID, with var, in vec (n + 2 slots) */
static char *const *env_with(char **vec, char *const *envp, size_t n, char *var)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(envp[i], PPID_VAR, sizeof PPID_VAR - 1) != 0)
            vec[o++] = envp[i];
    vec[o++] = var;
    vec[o] = NULL;
    return vec;
}

/* Runs CALL with ENV (an lvalue naming the environment it passes) given
 * the orphan's variable when there is one; the copy lives on the stack,
 * as long as the call. */
#define ORPHAN_ENV_MAX 65536
#define WITH_ORPHAN_ENV(ENV, CALL)                                              \
    do {                                                                        \
        char var_[64];                                                          \
        size_t n_ = orphan_var(var_, sizeof var_) ? env_count(ENV) : SIZE_MAX;  \
        if (n_ < ORPHAN_ENV_MAX) {                                              \
            char *vec_[n_ + 2];                                                 \
            ENV = env_with(vec_, ENV, n_, var_);                                \
            CALL;                                                               \
        } else {                                                                \
            CALL;                                                               \
        }                                                                       \
    } while (0)

/* Marks the file before an exec; returns the header to unmark, or NULL
 * when there is nothing to mark: tracing off, no file yet, or a vfork (or
 * raw clone) child, which runs on its parent's memory but is another
 * process, whose exec is not its parent's. */
static struct st_header *exec_mark(const char *path, int dirfd)
{
    if (!st_active())
        return NULL;
    struct st_header *h = st_hdr();
    if (!h)
        return NULL;
    int saved = errno;
    if (h->pid != getpid()) {
        errno = saved;
        return NULL;
    }
    __atomic_add_fetch(&h->exec_pending, 1, __ATOMIC_RELAXED);
    uint32_t seq = __atomic_load_n(&h->exec_seq, __ATOMIC_RELAXED);
    /* odd: another thread, or the code a signal handler interrupted, is
     * writing its path; that one stands for ours, and we do not wait */
    if (!(seq & 1) && __atomic_compare_exchange_n(&h->exec_seq, &seq, seq + 1, false,
                                                  __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
        /* orders the odd exec_seq before the fields (pairs with the
         * reader's acquire fence before its second look at exec_seq) */
        __atomic_thread_fence(__ATOMIC_RELEASE);
        char buf[ST_EXEC_PATH_MAX];
        if (dirfd >= 0 && !(path && path[0] == '/')) {
            /* fexecve, or execveat relative to a directory fd: the fd's name */
            char link[ST_FD_LINK];
            fd_link(link, dirfd);
            ssize_t n = st_sys_readlink(link, buf, sizeof buf - 1);
            buf[n > 0 ? n : 0] = 0;
        } else {
            copy_path(buf, sizeof buf, path);
        }
        __atomic_store_n(&h->exec_call_ns, st_clock_ns(CLOCK_REALTIME), __ATOMIC_RELAXED);
        for (size_t i = 0; i < sizeof buf; i++) {
            __atomic_store_n(&h->exec_path[i], buf[i], __ATOMIC_RELAXED);
            if (!buf[i])
                break;
        }
        __atomic_store_n(&h->exec_seq, seq + 2, __ATOMIC_RELEASE);
    }
    errno = saved;
    return h;
}

/* The exec returned: it failed, and this image runs on. */
static void exec_unmark(struct st_header *h)
{
    if (h)
        __atomic_sub_fetch(&h->exec_pending, 1, __ATOMIC_RELEASE);
}

ST_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    struct st_header *h = exec_mark(path, -1);
    execve_fn fn = REAL_EXEC(execve);
    int r;
    char *const *env = envp;
    WITH_ORPHAN_ENV(env, r = fn ? fn(path, argv, env)
                                : (int)syscall(SYS_execve, path, argv, env));
    int err = errno;
    exec_unmark(h);
    errno = err;
    return r;
}

ST_EXPORT int execv(const char *path, char *const argv[])
{
    struct st_header *h = exec_mark(path, -1);
    int r;
    char *const *env = environ;
    char var[64];
    if (orphan_var(var, sizeof var)) {
        /* execv is execve with environ: that, with the orphan's variable */
        execve_fn fe = REAL_EXEC(execve);
        WITH_ORPHAN_ENV(env, r = fe ? fe(path, argv, env)
                                    : (int)syscall(SYS_execve, path, argv, env));
    } else {
        execv_fn fn = REAL_EXEC(execv);
        r = fn ? fn(path, argv) : (int)syscall(SYS_execve, path, argv, environ);
    }
    int err = errno;
    exec_unmark(h);
    errno = err;
    return r;
}

/* execvp and execvpe search PATH inside libc; the mark names the file as
 * the caller gave it. */
ST_EXPORT int execvp(const char *file, char *const argv[])
{
    struct st_header *h = exec_mark(file, -1);
    int r = -1;
    char *const *env = environ;
    char var[64];
    execve_fn fe = orphan_var(var, sizeof var) ? REAL_EXEC(execvpe) : NULL;
    execv_fn fn = fe ? NULL : REAL_EXEC(execvp);
    if (fe)     /* execvp is execvpe with environ */
        WITH_ORPHAN_ENV(env, r = fe(file, argv, env));
    else if (fn)
        r = fn(file, argv);
    else
        errno = ENOSYS;     /* no libc behind us: cannot happen in a process */
    int err = errno;
    exec_unmark(h);
    errno = err;
    return r;
}

ST_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    struct st_header *h = exec_mark(file, -1);
    execve_fn fn = REAL_EXEC(execvpe);
    int r = -1;
    char *const *env = envp;
    if (fn)
        WITH_ORPHAN_ENV(env, r = fn(file, argv, env));
    else
        errno = ENOSYS;
    int err = errno;
    exec_unmark(h);
    errno = err;
    return r;
}

ST_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
    struct st_header *h = exec_mark(NULL, fd);
    fexecve_fn fn = REAL_EXEC(fexecve);
    int r;
    char *const *env = envp;
    WITH_ORPHAN_ENV(env, r = fn ? fn(fd, argv, env)
                                : (int)syscall(SYS_execveat, fd, "", argv, env, AT_EMPTY_PATH));
    int err = errno;
    exec_unmark(h);
    errno = err;
    return r;
}

ST_EXPORT int execveat(int dirfd, const char *path, char *const argv[],
                       char *const envp[], int flags)
{
    struct st_header *h = exec_mark(path, dirfd == AT_FDCWD ? -1 : dirfd);
    execveat_fn fn = REAL_EXEC(execveat);
    int r;
    char *const *env = envp;
    WITH_ORPHAN_ENV(env, r = fn ? fn(dirfd, path, argv, env, flags)
                                : (int)syscall(SYS_execveat, dirfd, path, argv, env, flags));
    int err = errno;
    exec_unmark(h);
    errno = err;
    return r;
}

/* The execl* forms are variadic, and there is no real execl taking a
 * va_list: as glibc's own do, they gather argv on the stack and go on as
 * execv, execve or execvp, which are hooked above and mark the file. */
#define GATHER_ARGV(arg, last)                                              \
    ptrdiff_t argc = 1;                                                     \
    va_list ap;                                                             \
    va_start(ap, arg);                                                      \
    while (va_arg(ap, char *) && argc < INT_MAX)                            \
        argc++;                                                             \
    va_end(ap);                                                             \
    if (argc >= INT_MAX) {                                                  \
        errno = E2BIG;                                                      \
        return -1;                                                          \
    }                                                                       \
    char *argv[argc + 1];                                                   \
    argv[0] = (char *)(arg);                                                \
    va_start(ap, arg);                                                      \
    for (ptrdiff_t i = 1; i <= argc; i++)                                   \
        argv[i] = va_arg(ap, char *);                                       \
    last;                                                                   \
    va_end(ap)

ST_EXPORT int execl(const char *path, const char *arg, ...)
{
    GATHER_ARGV(arg, (void)0);
    return execv(path, argv);
}

ST_EXPORT int execle(const char *path, const char *arg, ...)
{
    char *const *envp;
    GATHER_ARGV(arg, envp = va_arg(ap, char *const *));
    return execve(path, argv, envp);
}

ST_EXPORT int execlp(const char *file, const char *arg, ...)
{
    GATHER_ARGV(arg, (void)0);
    return execvp(file, argv);
}
