/* cmd_graph.c - `socktrace graph`: the connections between traced
 * processes (both ends joined) and to outside addresses, as Graphviz DOT;
 * --svg pipes it through `dot -Tsvg`. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uthash.h>

#include "commands.h"
#include "describe.h"
#include "sockaddr_conv.h"
#include "tracedb.h"
#include "resolve.h"

static const char usage[] =
    "usage: socktrace graph [--all] [--svg]\n"
    "  Prints the connections of the running traced processes as a Graphviz\n"
    "  graph (DOT): processes and outside addresses as nodes, each connection\n"
    "  an edge from the side that connected to the side that accepted, with\n"
    "  its ports and, once closed, the bytes each way.\n"
    "  -a, --all   ended processes and closed connections too\n"
    "  --svg       SVG, drawn by Graphviz's dot (which must be installed)\n"
    "  -h, --help  this text\n";

/* Ends of one connection share the key: its two endpoints in order. */
struct ckey {
    uint8_t ip[2][16];          /* IPv4 as v4-mapped IPv6 */
    uint16_t port[2];
    uint16_t type;
};

struct cend {
    const struct snapshot *s;
    const struct st_sock *so;
    int side;                   /* which key endpoint is its local one */
    bool open;                  /* open now in a running process */
};

struct cgroup {
    struct ckey key;
    struct cend *ends;
    size_t n, cap;
    UT_hash_handle hh;
};

/* A 4-tuple is not used again within TIME_WAIT: ends further apart in
 * time are other connections (peerjoin.c's rule). */
#define SAME_CONN_GAP_NS (60ull * 1000000000ull)

static int ep_cmp(const uint8_t *ia, uint16_t pa, const uint8_t *ib, uint16_t pb)
{
    int c = memcmp(ia, ib, 16);
    return c ? c : (pa > pb) - (pa < pb);
}

static void add_end(struct cgroup **groups, const struct snapshot *s,
                    const struct st_sock *so, bool open)
{
    uint8_t l[16], p[16];
    if ((so->flags & ST_SF_PEER_LAST) || !st_addr_ip16(&so->local, l) ||
        !st_addr_ip16(&so->peer, p) || !so->local.port || !so->peer.port)
        return;
    struct ckey k;
    memset(&k, 0, sizeof k);
    int side = ep_cmp(l, so->local.port, p, so->peer.port) <= 0 ? 0 : 1;
    memcpy(k.ip[side], l, 16);
    k.port[side] = so->local.port;
    memcpy(k.ip[!side], p, 16);
    k.port[!side] = so->peer.port;
    k.type = so->type;
    struct cgroup *g;
    HASH_FIND(hh, *groups, &k, sizeof k, g);
    if (!g) {
        if (!(g = calloc(1, sizeof *g)))
            return;
        g->key = k;
        HASH_ADD(hh, *groups, key, sizeof k, g);
    }
    if (g->n == g->cap) {
        size_t ncap = g->cap ? g->cap * 2 : 4;
        void *q = realloc(g->ends, ncap * sizeof *g->ends);
        if (!q)
            return;
        g->ends = q;
        g->cap = ncap;
    }
    g->ends[g->n++] = (struct cend){s, so, side, open};
}

static int by_opened(const void *a, const void *b)
{
    const struct cend *x = a, *y = b;
    return (x->so->opened_ns > y->so->opened_ns) - (x->so->opened_ns < y->so->opened_ns);
}

static uint64_t end_of(const struct cend *e)
{
    return e->open || !e->so->closed_ns ? UINT64_MAX : e->so->closed_ns;
}

/* DOT string contents: quotes and backslashes escaped, controls dropped */
static void dot_str(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        if ((unsigned char)*s >= 0x20)
            fputc(*s, f);
    }
}

static const char *comm_of(const struct snapshot *s)
{
    const char *c = s->h.cmdline_len ? s->h.cmdline : "?";
    const char *slash = strrchr(c, '/');
    return slash ? slash + 1 : c;
}

/* An address without its port: "127.0.0.1", "::1" */
static void ip_text(const struct st_addr *a, char *buf, size_t size)
{
    struct st_addr x = *a;
    x.port = 0;
    char t[ADDR_TEXT_MAX];
    if (!addr_text(&x, t, sizeof t)) {
        snprintf(buf, size, "?");
        return;
    }
    size_t l = strlen(t);
    if (l > 2 && !strcmp(t + l - 2, ":0"))
        t[l -= 2] = 0;
    if (t[0] == '[' && l > 2 && t[l - 1] == ']') {
        t[l - 1] = 0;
        snprintf(buf, size, "%s", t + 1);
    } else {
        snprintf(buf, size, "%s", t);
    }
}

struct graph {
    FILE *f;
    const struct snapshot *snaps;
    size_t n;
    bool all;
    bool *drawn;                /* per snapshot: its node is needed */
    char **outside;             /* outside address nodes printed */
    size_t n_outside;
};

static size_t idx_of(const struct graph *G, const struct snapshot *s)
{
    return (size_t)(s - G->snaps);
}

static void outside_node(struct graph *G, const struct snapshot *s, const struct st_addr *a)
{
    char ip[ADDR_TEXT_MAX];
    ip_text(a, ip, sizeof ip);
    for (size_t i = 0; i < G->n_outside; i++)
        if (!strcmp(G->outside[i], ip))
            return;
    char **p = realloc(G->outside, (G->n_outside + 1) * sizeof *p);
    if (!p)
        return;
    G->outside = p;
    if (!(G->outside[G->n_outside] = strdup(ip)))
        return;
    G->n_outside++;
    const char *host = snap_host_of(s, a);
    fputs("  \"ip:", G->f);
    dot_str(G->f, ip);
    fputs("\" [shape=box, label=\"", G->f);
    dot_str(G->f, ip);
    if (host) {
        fputs("\\n", G->f);
        dot_str(G->f, host);
    }
    fputs("\"];\n", G->f);
}

/* One connection: from the end that connected to the one that accepted.
 * Of several holders of one side (a server that forks per connection:
 * the parent accepts, the child serves), the one that held it last: its
 * close saw the connection's whole byte count. */
static void connection(struct graph *G, const struct cend *ends, size_t n)
{
    const struct cend *hold[2] = {NULL, NULL};
    bool open = false, accepted[2] = {false, false};
    for (size_t i = 0; i < n; i++) {
        const struct cend *e = &ends[i];
        open |= e->open;
        accepted[e->side] |= e->so->origin == ST_ORIGIN_ACCEPT;
        if (!hold[e->side] || end_of(e) > end_of(hold[e->side]))
            hold[e->side] = e;
    }
    if (!open && !G->all)
        return;
    /* the client: the side that did not accept, else one that connected */
    int cl = accepted[0] && !accepted[1] ? 1 : accepted[1] && !accepted[0] ? 0 :
             hold[1] && hold[1]->so->outcome != ST_CONN_NONE &&
             !(hold[0] && hold[0]->so->outcome != ST_CONN_NONE) ? 1 : 0;
    const struct cend *from = hold[cl], *to = hold[!cl];
    const struct cend *known = from ? from : to;    /* one side is traced */
    char label[160], tail[64] = "", head[64] = "";
    uint16_t cport = known == from ? known->so->local.port : known->so->peer.port;
    uint16_t sport = known == from ? known->so->peer.port : known->so->local.port;
    snprintf(label, sizeof label, "%u → %u", cport, sport);
    /* bytes, as the client counted them (else the server, swapped) */
    const struct st_sock *b = from && (from->so->flags & ST_SF_TCPINFO) ? from->so :
                              to && (to->so->flags & ST_SF_TCPINFO) ? to->so : NULL;
    if (b) {
        bool swap = !from || b != from->so;
        snprintf(label + strlen(label), sizeof label - strlen(label),
                 "\\n%" PRIu64 " B → / ← %" PRIu64 " B",
                 swap ? b->bytes_received : b->bytes_sent,
                 swap ? b->bytes_sent : b->bytes_received);
    }
    bool failed = from && (from->so->outcome == ST_CONN_FAILED ||
                           from->so->outcome == ST_CONN_GAVE_UP);
    if (failed) {
        char e[16];
        snprintf(label + strlen(label), sizeof label - strlen(label), "\\n%s %s",
                 outcome_name(from->so->outcome),
                 from->so->connect_err ? errno_name(from->so->connect_err, e, sizeof e) : "");
    }
    if (from) {
        snprintf(tail, sizeof tail, "p%zu", idx_of(G, from->s));
        G->drawn[idx_of(G, from->s)] = true;
    } else {
        outside_node(G, to->s, &to->so->peer);
        char ip[ADDR_TEXT_MAX];
        ip_text(&to->so->peer, ip, sizeof ip);
        snprintf(tail, sizeof tail, "ip:%.55s", ip);
    }
    if (to) {
        snprintf(head, sizeof head, "p%zu", idx_of(G, to->s));
        G->drawn[idx_of(G, to->s)] = true;
    } else {
        outside_node(G, from->s, &from->so->peer);
        char ip[ADDR_TEXT_MAX];
        ip_text(&from->so->peer, ip, sizeof ip);
        snprintf(head, sizeof head, "ip:%.55s", ip);
    }
    fputs("  \"", G->f);
    dot_str(G->f, tail);
    fputs("\" -> \"", G->f);
    dot_str(G->f, head);
    fprintf(G->f, "\" [label=\"%s%s\"%s%s];\n", known->so->type == SOCK_DGRAM ? "udp " : "",
            label, open ? "" : ", style=dashed", failed ? ", color=red" : "");
}

static void process_node(struct graph *G, size_t i)
{
    const struct snapshot *s = &G->snaps[i];
    fprintf(G->f, "  \"p%zu\" [label=\"%d\\n", i, s->h.pid);
    dot_str(G->f, comm_of(s));
    fprintf(G->f, "%s\"%s];\n", s->alive ? "" : "\\n(ended)", s->alive ? "" : ", style=dashed");
}

static void write_dot(FILE *f, struct snapshot *snaps, size_t n, bool all)
{
    struct graph G = {f, snaps, n, all, calloc(n + 1, sizeof(bool)), NULL, 0};
    if (!G.drawn)
        return;
    struct cgroup *groups = NULL, *g, *tmp;
    for (size_t i = 0; i < n; i++) {
        struct snapshot *s = &snaps[i];
        snap_check_live(s);
        G.drawn[i] = s->alive || all;
        for (size_t k = 0; k < s->n_open; k++)
            add_end(&groups, s, &s->open[k], s->alive && !snap_gone(&s->open[k]));
        for (size_t k = 0; k < s->n_closed; k++)
            add_end(&groups, s, &s->closed[k], false);
    }
    fputs("digraph socktrace {\n  rankdir=LR;\n  node [shape=ellipse, fontname=\"monospace\"];\n"
          "  edge [fontname=\"monospace\", fontsize=10];\n", f);
    HASH_ITER(hh, groups, g, tmp) {
        qsort(g->ends, g->n, sizeof *g->ends, by_opened);
        /* a 4-tuple reused later is another connection */
        size_t first = 0;
        uint64_t until = end_of(&g->ends[0]);
        for (size_t i = 1; i <= g->n; i++) {
            if (i == g->n || (until != UINT64_MAX &&
                              g->ends[i].so->opened_ns > until + SAME_CONN_GAP_NS)) {
                connection(&G, &g->ends[first], i - first);
                first = i;
                if (i < g->n)
                    until = end_of(&g->ends[i]);
            } else if (end_of(&g->ends[i]) > until) {
                until = end_of(&g->ends[i]);
            }
        }
        HASH_DEL(groups, g);
        free(g->ends);
        free(g);
    }
    for (size_t i = 0; i < n; i++)
        if (G.drawn[i])
            process_node(&G, i);
    fputs("}\n", f);
    for (size_t i = 0; i < G.n_outside; i++)
        free(G.outside[i]);
    free(G.outside);
    free(G.drawn);
}

/* Graphviz's dot, from PATH; false when it is not there. */
static bool find_dot(char *out, size_t size)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/bin:/bin";
    while (*path) {
        size_t l = strcspn(path, ":");
        snprintf(out, size, "%.*s/dot", (int)l, path);
        if (l && access(out, X_OK) == 0)
            return true;
        path += l + (path[l] == ':');
    }
    return false;
}

static int run_dot(const char *prog, const char *dot, const char *text, size_t len)
{
    int p[2];
    if (pipe(p) != 0) {
        fprintf(stderr, "%s: pipe: %s\n", prog, strerror(errno));
        return 1;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "%s: fork: %s\n", prog, strerror(errno));
        return 1;
    }
    if (pid == 0) {
        dup2(p[0], 0);
        close(p[0]);
        close(p[1]);
        execl(dot, "dot", "-Tsvg", (char *)NULL);
        fprintf(stderr, "%s: %s: %s\n", prog, dot, strerror(errno));
        _exit(127);
    }
    close(p[0]);
    signal(SIGPIPE, SIG_IGN);
    for (size_t off = 0; off < len;) {
        ssize_t w = write(p[1], text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    close(p[1]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "%s: dot -Tsvg failed\n", prog);
        return 1;
    }
    return 0;
}

struct graph_opts {
    bool all, svg;
};

static int take_opt(void *ctx, int o, const char *arg)
{
    (void)arg;
    struct graph_opts *g = ctx;
    if (o == 'a')
        g->all = true;
    else if (o == 's')
        g->svg = true;
    else
        return 1;
    return 0;
}

int cmd_graph(struct ctx *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"all", no_argument, NULL, 'a'},
        {"svg", no_argument, NULL, 's'},
        {0, 0, 0, 0},
    };
    struct graph_opts g = {0};
    const struct verb_opts own = {opts, "a", take_opt, &g};
    struct verb_args a;
    int status = verb_args(c, argc, argv, usage, 0, &own, &a);
    if (status >= 0)
        return status;
    bool all = g.all, svg = g.svg;
    char dot[4096];
    if (svg && !find_dot(dot, sizeof dot)) {
        fprintf(stderr, "%s: --svg needs Graphviz's dot, which is not in PATH "
                "(Debian: apt-get install graphviz); without --svg the graph is DOT\n", c->prog);
        return 1;
    }
    size_t n, bad;
    struct snapshot *snaps = tracedb_load_all(c->dir, SNAP_TABLE | SNAP_HISTORY, c->prog,
                                              &n, &bad);
    char *text = NULL;
    size_t len = 0;
    FILE *f = svg ? open_memstream(&text, &len) : stdout;
    if (!f) {
        fprintf(stderr, "%s: out of memory\n", c->prog);
        return 1;
    }
    write_dot(f, snaps, n, all);
    for (size_t i = 0; i < n; i++)
        snap_free(&snaps[i]);
    free(snaps);
    status = 0;
    if (svg) {
        fclose(f);
        status = run_dot(c->prog, dot, text, len);
        free(text);
    }
    return status ? status : bad ? 1 : 0;
}
