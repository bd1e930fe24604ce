/* cmd_run.c - `socktrace run -- CMD`: runs CMD with the library preloaded
 * (added to any LD_PRELOAD already set), exits with CMD's status, and
 * prints a summary of every traced process of its tree: text on stderr,
 * JSON on stdout, either into a file with -o. */
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
#include "json_out.h"
#include "peerjoin.h"
#include "run_wait.h"
#include "tracedb.h"
#include "resolve.h"

#ifndef ST_LIBDIR
#define ST_LIBDIR "/usr/local/lib"
#endif

static const char usage[] =
    "usage: socktrace run [--quiet] [--json] [-o FILE] [--wait] [--wide] -- CMD [ARGS...]\n"
    "  Runs CMD with libsocktrace.so preloaded, following its whole process\n"
    "  tree, exits with its status (128+N if it died of signal N), and then\n"
    "  prints to stderr every socket each traced process had. Processes of\n"
    "  the run still running when CMD exits are named.\n"
    "  -q, --quiet   no summary\n"
    "  -j, --json    the summary as JSON, on stdout after CMD's own output\n"
    "  -o, --output FILE  the summary (text or JSON) into FILE instead\n"
    "  -W, --wait    wait for the run's processes still running when CMD exits\n"
    "  -w, --wide    every cell of the summary whole, however wide the terminal\n"
    "  -h, --help    this text\n";

/* The library next to our own binary (a build tree), else where
 * `make install` put it. Never the current directory. */
static int find_library(char *buf, size_t size)
{
    char self[PATH_MAX];
    if (proc_self_dir(self, sizeof self) == 0) {
        if (snprintf(buf, size, "%s/libsocktrace.so", self) < (int)size &&
            access(buf, R_OK) == 0)
            return 0;
        if (snprintf(buf, size, "%s/../lib/libsocktrace.so", self) < (int)size &&
            access(buf, R_OK) == 0)
            return 0;
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

/* Whether the ELF file at fd is a Go program: its build id note (a
 * ".note.go.buildid" section, or a PT_NOTE with owner "Go" once section
 * headers are stripped), ".go.buildinfo", or the runtime's ".gopclntab".
 * Every count and offset is bounded: the file is anyone's. */
static bool is_go(int fd, const Elf64_Ehdr *eh)
{
    static const char *const names[] = {".note.go.buildid", ".go.buildinfo", ".gopclntab"};
    if (eh->e_shentsize == sizeof(Elf64_Shdr) && eh->e_shnum > 0 && eh->e_shnum < 4096 &&
        eh->e_shstrndx < eh->e_shnum) {
        Elf64_Shdr strs;
        if (pread(fd, &strs, sizeof strs, (off_t)(eh->e_shoff + (uint64_t)eh->e_shstrndx *
                                                  sizeof strs)) == sizeof strs &&
            strs.sh_size > 0 && strs.sh_size < (1u << 20)) {
            char *tab = malloc(strs.sh_size + 1);
            bool go = false;
            if (tab && pread(fd, tab, strs.sh_size, (off_t)strs.sh_offset) == (ssize_t)strs.sh_size) {
                tab[strs.sh_size] = 0;
                for (int i = 0; i < eh->e_shnum && !go; i++) {
                    Elf64_Shdr sh;
                    if (pread(fd, &sh, sizeof sh, (off_t)(eh->e_shoff + (uint64_t)i * sizeof sh)) !=
                        sizeof sh)
                        break;
                    for (size_t n = 0; n < sizeof names / sizeof *names && !go; n++)
                        go = sh.sh_name < strs.sh_size && !strcmp(tab + sh.sh_name, names[n]);
                }
            }
            free(tab);
            if (go)
                return true;
        }
    }
    for (int i = 0; i < eh->e_phnum && i < 256; i++) {
        Elf64_Phdr ph;
        if (pread(fd, &ph, sizeof ph, (off_t)(eh->e_phoff + (uint64_t)i * sizeof ph)) != sizeof ph)
            break;
        if (ph.p_type != PT_NOTE || ph.p_filesz > 4096)
            continue;
        char note[4096];
        if (pread(fd, note, ph.p_filesz, (off_t)ph.p_offset) != (ssize_t)ph.p_filesz)
            continue;
        for (uint64_t o = 0; o + sizeof(Elf64_Nhdr) <= ph.p_filesz;) {
            Elf64_Nhdr nh;
            memcpy(&nh, note + o, sizeof nh);
            uint64_t name = o + sizeof nh, desc = name + ((nh.n_namesz + 3u) & ~3u);
            if (nh.n_namesz == 3 && name + 3 <= ph.p_filesz && !memcmp(note + name, "Go", 3) &&
                nh.n_type == 4)     /* the Go build id */
                return true;
            o = desc + ((nh.n_descsz + 3u) & ~3u);
        }
    }
    return false;
}

/* One line before starting, when the preload cannot reach the program.
 * True when it is a Go program (the summary then says why it shows no
 * sockets). */
static bool warn_unreachable(const char *prog, const char *cmd)
{
    char path[PATH_MAX];
    struct stat st;
    if (find_program(cmd, path, sizeof path) != 0 || stat(path, &st) != 0)
        return false;
    /* the loader drops LD_PRELOAD only for a secure execution: one that
     * changes the real ids' privilege (AT_SECURE); root running a set-uid
     * root program is not one */
    if ((st.st_mode & S_ISUID && st.st_uid != getuid()) ||
        (st.st_mode & S_ISGID && st.st_gid != getgid())) {
        fprintf(stderr, "%s: warning: %s is set-%cid: the loader ignores LD_PRELOAD for it, "
                "so it will not be traced\n", prog, path,
                st.st_mode & S_ISUID && st.st_uid != getuid() ? 'u' : 'g');
        return false;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    Elf64_Ehdr eh;
    bool dynamic = true, go = false;
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
        go = is_go(fd, &eh);
    }
    close(fd);
    /* linked with cgo a Go program is dynamic and loads the preload, but
     * its runtime makes every socket call as a system call of its own */
    if (go)
        fprintf(stderr, "%s: warning: %s is a Go program%s: Go makes its socket calls as raw "
                "system calls, not through libc, so the preload cannot see its sockets\n",
                prog, path, dynamic ? "" : " (statically linked)");
    else if (!dynamic)
        fprintf(stderr, "%s: warning: %s is statically linked: it calls the kernel without "
                "libc's dynamic symbols, so the preload cannot see its sockets\n", prog, path);
    return go;
}

/* Why a program shows no sockets, or "": the Go runtime's raw calls. */
static void no_sockets_reason(const char *cmd, bool go, char *buf, size_t size)
{
    buf[0] = 0;
    if (go)
        snprintf(buf, size, "%s is a Go program; its sockets are made by raw system calls "
                 "the tracer cannot see", cmd);
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

/* Sockets the tracer saw in the run's own process (all its images). */
static size_t root_sockets(const struct member *v, size_t m, int root)
{
    size_t n = 0;
    for (size_t i = 0; i < m; i++)
        if (v[i].in_tree && v[i].s.h.pid == root)
            n += v[i].s.n_open + v[i].s.n_closed;
    return n;
}

/* The lines after the summary's first: why the command showed no sockets,
 * and each process that exec'd into a program the tracer does not reach
 * (its sockets from then on are not in the summary). */
static void summary_notes(FILE *out, struct member *v, size_t m, const char *note,
                          bool own_line)
{
    if (note[0] && own_line)
        fprintf(out, "  %s%s%s\n", color(C_YELLOW), note, color("0"));
    for (size_t i = 0; i < m; i++) {
        if (!v[i].in_tree || !v[i].s.exec_untraced)
            continue;
        char what[ST_CMDLINE_MAX + 200];
        exec_untraced_text(&v[i].s, what, sizeof what);
        fprintf(out, "  %spid %d %s: what it did from then on is not traced%s\n",
                color(C_YELLOW), v[i].s.h.pid, what, color("0"));
    }
}

static void summary_text(FILE *out, struct member *v, size_t m, const struct conn_index *ci,
                         const char *note)
{
    static const char *const hdr[] = {"PID", "FD", "PROTO", "STATE", "LOCAL", "PEER", "ORIGIN",
                                      "TCP", "COMMAND"};
    struct table *t = table_new(9, hdr);
    size_t procs = 0, socks = 0, failed = 0;
    bool chosen = false;
    for (size_t i = 0; i < m; i++) {
        if (!v[i].in_tree)
            continue;
        procs++;
        struct snapshot *s = &v[i].s;
        char pid[16], cmd[ST_CMDLINE_MAX];
        snprintf(pid, sizeof pid, "%d", s->h.pid);
        cmdline_text(&s->h, cmd, sizeof cmd);
        for (size_t pass = 0; pass < 2; pass++) {
            size_t cnt = pass ? s->n_closed : s->n_open;
            for (size_t k = 0; k < cnt; k++) {
                const struct st_sock *so = pass ? &s->closed[k] : &s->open[k];
                char fd[16], local[ADDR_TEXT_MAX], peer[ADDR_TEXT_MAX], state[80], tcp[128];
                snprintf(fd, sizeof fd, "%d", so->fd);
                tcp_text(so, tcp, sizeof tcp);
                chosen |= (so->flags & ST_SF_PORT_CHOSEN) != 0;    /* the " *" */
                state_text(so, state, sizeof state);
                failed += so->outcome == ST_CONN_FAILED || so->outcome == ST_CONN_GAVE_UP;
                struct sock_extra x;
                conn_index_extra(ci, s, so, &x);
                sock_addr_cells(so, &x, local, peer);
                const char *cells[] = {pid, fd, proto_name(so),
                                       state, local, peer,
                                       origin_name(so->origin), tcp, cmd};
                table_add(t, cells, NULL);
                socks++;
            }
        }
    }
    char fails[48] = "";
    if (failed)
        snprintf(fails, sizeof fails, ", %zu connect%s failed", failed, failed == 1 ? "" : "s");
    fprintf(out, "%ssocktrace: %zu traced process%s, %zu socket%s%s%s%s%s\n", color(C_BOLD),
            procs, procs == 1 ? "" : "es", socks, socks == 1 ? "" : "s", fails,
            !socks && note[0] ? ": " : "", !socks ? note : "", color("0"));
    if (socks)
        table_print(t, out);
    if (chosen)
        fprintf(out, "  * port chosen by the kernel\n");
    summary_notes(out, v, m, note, socks > 0);
    table_free(t);
}

static void summary_json(FILE *f, struct member *v, size_t m, int status,
                         const struct conn_index *ci, const char *note)
{
    bool first = true;
    fputc('{', f);
    json_schema_version(f, &first);
    json_key(f, &first, "status");
    fprintf(f, "%d", status);
    json_key(f, &first, "note");
    json_str(f, note[0] ? note : NULL);
    json_key(f, &first, "processes");
    fputc('[', f);
    bool first_p = true;
    for (size_t i = 0; i < m; i++) {
        if (!v[i].in_tree)
            continue;
        struct snapshot *s = &v[i].s;
        bool first_f = true;
        fputs(first_p ? "{" : ",{", f);
        json_process_fields(f, &first_f, s);
        json_key(f, &first_f, "sockets");
        fputc('[', f);
        for (size_t k = 0; k < s->n_open + s->n_closed; k++) {
            if (k)
                fputc(',', f);
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

/* The library preloaded and the trace directory for the command's
 * processes, and the id every process of the run carries into its file,
 * also one whose parent never had a socket and so has no file to link it. */
static int run_env(struct ctx *c, const char *lib, uint64_t start, uint64_t *run_id)
{
    const char *old = getenv("LD_PRELOAD");
    char *preload;
    if (asprintf(&preload, "%s%s%s", lib, old && *old ? " " : "", old ? old : "") < 0)
        return -1;
    setenv("LD_PRELOAD", preload, 1);
    setenv("SOCKTRACE_DIR", c->dir, 1);
    free(preload);
    *run_id = start ^ ((uint64_t)getpid() << 40);
    char idbuf[24];
    snprintf(idbuf, sizeof idbuf, "%llu", (unsigned long long)*run_id);
    setenv("SOCKTRACE_RUN_ID", idbuf, 1);
    return 0;
}

/* Runs cmd and waits for it: its exit status (128 + signal), with
 * *started false when it could not start; -1 when no child was made. */
static int run_child(const char *prog, char **cmd, pid_t *pid, bool *started)
{
    /* like system(): the terminal's Ctrl-C is for the command, not for us */
    struct sigaction ign = {.sa_handler = SIG_IGN}, old_int, old_quit;
    sigaction(SIGINT, &ign, &old_int);
    sigaction(SIGQUIT, &ign, &old_quit);
    /* a command that could not start has no summary: the child says so
     * through this pipe, which a successful exec closes unwritten */
    int ep[2];
    if (pipe2(ep, O_CLOEXEC) != 0) {
        fprintf(stderr, "%s: pipe: %s\n", prog, strerror(errno));
        return -1;
    }
    *pid = fork();
    if (*pid < 0) {
        fprintf(stderr, "%s: fork: %s\n", prog, strerror(errno));
        return -1;
    }
    if (*pid == 0) {
        close(ep[0]);
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGQUIT, &old_quit, NULL);
        execvp(cmd[0], cmd);
        int err = errno;
        fprintf(stderr, "%s: %s: %s\n", prog, cmd[0], strerror(err));
        ssize_t w = write(ep[1], &err, sizeof err);
        (void)w;
        _exit(err == ENOENT ? 127 : 126);
    }
    close(ep[1]);
    int exec_err = 0;
    ssize_t got;
    while ((got = read(ep[0], &exec_err, sizeof exec_err)) < 0 && errno == EINTR)
        ;
    close(ep[0]);
    int st;
    while (waitpid(*pid, &st, 0) < 0 && errno == EINTR)
        ;
    *started = got != (ssize_t)sizeof exec_err;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The run's processes and their sockets, both ends of a connection inside
 * the tree named. */
static void summary(struct ctx *c, FILE *out, bool json, pid_t pid, uint64_t run_id,
                    uint64_t start, const char *cmd0, bool go, int status)
{
    struct member *v;
    size_t m = collect_tree(c->dir, pid, run_id, start, &v);
    struct conn_index *ci = conn_index_new();
    for (size_t i = 0; i < m; i++)
        if (v[i].in_tree)
            conn_index_add(ci, &v[i].s);
    char note[PATH_MAX + 128] = "";
    if (root_sockets(v, m, pid) == 0)
        no_sockets_reason(cmd0, go, note, sizeof note);
    if (json)
        summary_json(out, v, m, status, ci, note);
    else
        summary_text(out, v, m, ci, note);
    conn_index_free(ci);
    for (size_t i = 0; i < m; i++)
        snap_free(&v[i].s);
    free(v);
}

struct run_opts {
    bool quiet, wait_all;
    const char *outpath;
};

static int take_opt(void *ctx, int o, const char *arg)
{
    struct run_opts *r = ctx;
    switch (o) {
    case 'q': r->quiet = true; return 0;
    case 'o': r->outpath = arg; return 0;
    case 'W': r->wait_all = true; return 0;
    default: return 1;
    }
}

int cmd_run(struct ctx *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"quiet", no_argument, NULL, 'q'},
        {"output", required_argument, NULL, 'o'},
        {"wait", no_argument, NULL, 'W'},
        {0, 0, 0, 0},
    };
    struct run_opts r = {0};
    const struct verb_opts own = {opts, "qo:W", take_opt, &r};
    struct verb_args a;
    int status = verb_args(c, argc, argv, usage, VERB_JSON | VERB_WIDE | VERB_COMMAND, &own, &a);
    if (status >= 0)
        return status;
    if (a.words >= argc)
        return usage_error(usage, "a command is needed", NULL);
    /* JSON is for a program to read: stdout, after the command's own
     * output (-o keeps the two apart). The human summary goes with the
     * command's diagnostics on stderr. -o is opened before the command
     * runs, so a bad path costs no run; close-on-exec keeps it ours. */
    FILE *out = a.json ? stdout : stderr;
    if (r.outpath && !r.quiet && !(out = fopen(r.outpath, "we"))) {
        fprintf(stderr, "%s: %s: %s\n", c->prog, r.outpath, strerror(errno));
        return 1;
    }
    char lib[PATH_MAX];
    if (find_library(lib, sizeof lib) != 0) {
        fprintf(stderr, "%s: libsocktrace.so is neither next to this program nor in %s\n",
                c->prog, ST_LIBDIR);
        return 1;
    }
    char **cmd = argv + a.words;
    bool go = warn_unreachable(c->prog, cmd[0]), started;
    uint64_t start = now_ns(), run_id;
    if (run_env(c, lib, start, &run_id) != 0)
        return 1;
    color_init(out, a.json);
    pid_t pid;
    if ((status = run_child(c->prog, cmd, &pid, &started)) < 0)
        return 1;
    if (!started)
        return status;
    if (r.wait_all) {
        run_left_wait(run_id);
    } else if (!r.quiet) {
        struct run_left *left;
        size_t nleft = run_left_find(run_id, &left);
        run_left_report(stderr, c->prog, left, nleft);
        free(left);
    }
    if (!r.quiet)
        summary(c, out, a.json, pid, run_id, start, cmd[0], go, status);
    if (r.outpath && !r.quiet && fclose(out) != 0) {
        fprintf(stderr, "%s: %s: %s\n", c->prog, r.outpath, strerror(errno));
        return status ? status : 1;
    }
    return status;
}
