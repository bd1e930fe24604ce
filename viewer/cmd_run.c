/* cmd_run.c - `socktrace run -- CMD`: runs CMD with the library preloaded
 * (added to any LD_PRELOAD already set), exits with CMD's status, and
 * prints to stderr a summary of every traced process of its tree. */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "describe.h"
#include "output.h"
#include "peerjoin.h"
#include "tracedb.h"

#ifndef ST_LIBDIR
#define ST_LIBDIR "/usr/local/lib"
#endif

static const char usage[] =
    "usage: socktrace run [--quiet] [--json] -- CMD [ARGS...]\n"
    "  Runs CMD with libsocktrace.so preloaded, following its whole process\n"
    "  tree, exits with its status (128+N if it died of signal N), and then\n"
    "  prints to stderr every socket each traced process had.\n"
    "  -q, --quiet   no summary\n"
    "  -j, --json    the summary as JSON\n"
    "  -h, --help    this text\n";

/* The library next to our own binary (a build tree), else where
 * `make install` put it. Never the current directory. */
static int find_library(char *buf, size_t size)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = 0;
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = 0;
            if (snprintf(buf, size, "%s/libsocktrace.so", self) < (int)size &&
                access(buf, R_OK) == 0)
                return 0;
            if (snprintf(buf, size, "%s/../lib/libsocktrace.so", self) < (int)size &&
                access(buf, R_OK) == 0)
                return 0;
        }
    }
    snprintf(buf, size, "%s/libsocktrace.so", ST_LIBDIR);
    return access(buf, R_OK) == 0 ? 0 : -1;
}

static int find_program(const char *cmd, char *buf, size_t size)
{
    if (strchr(cmd, '/')) {
        snprintf(buf, size, "%s", cmd);
        return access(buf, X_OK);
    }
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path; *p;) {
        const char *e = strchrnul(p, ':');
        snprintf(buf, size, "%.*s/%s", (int)(e - p), e == p ? "." : p, cmd);
        if (access(buf, X_OK) == 0)
            return 0;
        p = *e ? e + 1 : e;
    }
    return -1;
}

/* One line before starting, when the preload cannot reach the program. */
static void warn_unreachable(const char *prog, const char *cmd)
{
    char path[PATH_MAX];
    struct stat st;
    if (find_program(cmd, path, sizeof path) != 0 || stat(path, &st) != 0)
        return;
    if (st.st_mode & (S_ISUID | S_ISGID)) {
        fprintf(stderr, "%s: warning: %s is set-%cid: the loader ignores LD_PRELOAD for it, "
                "so it will not be traced\n", prog, path, st.st_mode & S_ISUID ? 'u' : 'g');
        return;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    Elf64_Ehdr eh;
    bool dynamic = true;
    if (read(fd, &eh, sizeof eh) == (ssize_t)sizeof eh && !memcmp(eh.e_ident, ELFMAG, SELFMAG) &&
        eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_phentsize == sizeof(Elf64_Phdr)) {
        dynamic = false;
        for (int i = 0; i < eh.e_phnum && i < 256; i++) {
            Elf64_Phdr ph;
            if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + (uint64_t)i * sizeof ph)) != sizeof ph)
                break;
            if (ph.p_type == PT_INTERP || ph.p_type == PT_DYNAMIC)
                dynamic = true;
        }
    }
    close(fd);
    if (!dynamic)
        fprintf(stderr, "%s: warning: %s is statically linked: it calls the kernel without "
                "libc's dynamic symbols, so the preload cannot see its sockets\n", prog, path);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct member {
    struct snapshot s;
    bool in_tree;
};

/* The traced processes started by this run: the child and those carrying
 * the run's id, then whatever has a recorded parent among them (a double
 * fork keeps its recorded ppid; a scrubbed environment loses the id). */
static size_t collect_tree(const char *dir, int root, uint64_t run_id,
                           uint64_t since, struct member **out)
{
    size_t n;
    struct trace_ref *refs = tracedb_list(dir, &n);
    struct member *v = calloc(n ? n : 1, sizeof *v);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        char err[256];
        if (snap_load(refs[i].path, SNAP_TABLE | SNAP_HISTORY, &v[m].s, err, sizeof err) != 0)
            continue;
        if (v[m].s.h.start_ns + 1000000000u < since) {
            snap_free(&v[m].s);
            continue;
        }
        v[m].in_tree = v[m].s.h.pid == root || v[m].s.h.run_id == run_id;
        m++;
    }
    free(refs);
    for (bool grew = true; grew;) {
        grew = false;
        for (size_t i = 0; i < m; i++) {
            if (v[i].in_tree)
                continue;
            for (size_t j = 0; j < m; j++)
                if (v[j].in_tree && v[j].s.h.pid == v[i].s.h.ppid &&
                    v[j].s.h.start_ns <= v[i].s.h.start_ns) {
                    v[i].in_tree = grew = true;
                    break;
                }
        }
    }
    *out = v;
    return m;
}

static void summary_text(struct member *v, size_t m, const struct conn_index *ci)
{
    static const char *const hdr[] = {"PID", "FD", "PROTO", "STATE", "LOCAL", "PEER", "ORIGIN", "COMMAND"};
    struct table *t = table_new(8, hdr);
    size_t procs = 0, socks = 0, failed = 0;
    for (size_t i = 0; i < m; i++) {
        if (!v[i].in_tree)
            continue;
        procs++;
        struct snapshot *s = &v[i].s;
        char pid[16], cmd[ST_CMDLINE_MAX];
        snprintf(pid, sizeof pid, "%d", s->h.pid);
        cmdline_text(&s->h, cmd, sizeof cmd);
        if (strlen(cmd) > 60)
            strcpy(cmd + 57, "...");
        for (size_t pass = 0; pass < 2; pass++) {
            size_t cnt = pass ? s->n_closed : s->n_open;
            for (size_t k = 0; k < cnt; k++) {
                const struct st_sock *so = pass ? &s->closed[k] : &s->open[k];
                char fd[16], local[ADDR_TEXT_MAX], peer[ADDR_TEXT_MAX], state[80];
                snprintf(fd, sizeof fd, "%d", so->fd);
                state_text(so, state, sizeof state);
                failed += so->outcome == ST_CONN_FAILED || so->outcome == ST_CONN_GAVE_UP;
                struct sock_extra x;
                conn_index_extra(ci, s, so, &x);
                sock_addr_cells(so, &x, local, peer);
                const char *cells[] = {pid, fd, proto_name(so),
                                       state, local, peer,
                                       origin_name(so->origin), cmd};
                table_add(t, cells, NULL);
                socks++;
            }
        }
    }
    char fails[48] = "";
    if (failed)
        snprintf(fails, sizeof fails, ", %zu connect%s failed", failed, failed == 1 ? "" : "s");
    fprintf(stderr, "%ssocktrace: %zu traced process%s, %zu socket%s%s%s\n", color(C_BOLD), procs,
            procs == 1 ? "" : "es", socks, socks == 1 ? "" : "s", fails, color("0"));
    if (socks)
        table_print(t, stderr);
    if (socks)
        fprintf(stderr, "  * port chosen by the kernel\n");
    table_free(t);
}

static void summary_json(struct member *v, size_t m, int status,
                         const struct conn_index *ci)
{
    FILE *f = stderr;
    fprintf(f, "{\"status\":%d,\"processes\":[", status);
    bool first_p = true;
    for (size_t i = 0; i < m; i++) {
        if (!v[i].in_tree)
            continue;
        struct snapshot *s = &v[i].s;
        char cmd[ST_CMDLINE_MAX];
        cmdline_text(&s->h, cmd, sizeof cmd);
        fprintf(f, "%s{\"pid\":%d,\"ppid\":%d,\"command\":", first_p ? "" : ",", s->h.pid, s->h.ppid);
        json_str(f, cmd);
        fputs(",\"sockets\":[", f);
        bool first = true;
        for (size_t k = 0; k < s->n_open + s->n_closed; k++) {
            if (!first)
                fputc(',', f);
            first = false;
            const struct st_sock *so = k < s->n_open ? &s->open[k] : &s->closed[k - s->n_open];
            struct sock_extra x;
            conn_index_extra(ci, s, so, &x);
            json_socket(f, so, &x);
        }
        fputs("]}", f);
        first_p = false;
    }
    fputs("]}\n", f);
}

int cmd_run(struct ctx *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"quiet", no_argument, NULL, 'q'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    bool quiet = false, json = false;
    int o;
    optind = 1;
    /* '+': options stop at the command, so its own options stay its own */
    while ((o = getopt_long(argc, argv, "+qjh", opts, NULL)) != -1) {
        switch (o) {
        case 'q': quiet = true; break;
        case 'j': json = true; break;
        case 'h': fputs(usage, stdout); return 0;
        default: return usage_error(usage, NULL, NULL);
        }
    }
    if (optind >= argc)
        return usage_error(usage, "a command is needed", NULL);
    char lib[PATH_MAX];
    if (find_library(lib, sizeof lib) != 0) {
        fprintf(stderr, "%s: libsocktrace.so is neither next to this program nor in %s\n",
                c->prog, ST_LIBDIR);
        return 1;
    }
    char **cmd = argv + optind;
    warn_unreachable(c->prog, cmd[0]);
    const char *old = getenv("LD_PRELOAD");
    char *preload;
    if (asprintf(&preload, "%s%s%s", lib, old && *old ? " " : "", old ? old : "") < 0)
        return 1;
    setenv("LD_PRELOAD", preload, 1);
    setenv("SOCKTRACE_DIR", c->dir, 1);
    free(preload);
    color_init(stderr, json);
    uint64_t start = now_ns();
    /* every process of the run carries this id into its file, also one
     * whose parent never had a socket and so has no file to link it */
    uint64_t run_id = start ^ ((uint64_t)getpid() << 40);
    char idbuf[24];
    snprintf(idbuf, sizeof idbuf, "%llu", (unsigned long long)run_id);
    setenv("SOCKTRACE_RUN_ID", idbuf, 1);
    /* like system(): the terminal's Ctrl-C is for the command, not for us */
    struct sigaction ign = {.sa_handler = SIG_IGN}, old_int, old_quit;
    sigaction(SIGINT, &ign, &old_int);
    sigaction(SIGQUIT, &ign, &old_quit);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "%s: fork: %s\n", c->prog, strerror(errno));
        return 1;
    }
    if (pid == 0) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGQUIT, &old_quit, NULL);
        execvp(cmd[0], cmd);
        fprintf(stderr, "%s: %s: %s\n", c->prog, cmd[0], strerror(errno));
        _exit(errno == ENOENT ? 127 : 126);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    int status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (!quiet) {
        struct member *v;
        size_t m = collect_tree(c->dir, pid, run_id, start, &v);
        /* both ends of a connection inside the tree are named */
        struct conn_index *ci = conn_index_new();
        for (size_t i = 0; i < m; i++)
            if (v[i].in_tree)
                conn_index_add(ci, &v[i].s);
        if (json)
            summary_json(v, m, status, ci);
        else
            summary_text(v, m, ci);
        conn_index_free(ci);
        for (size_t i = 0; i < m; i++)
            snap_free(&v[i].s);
        free(v);
    }
    return status;
}
