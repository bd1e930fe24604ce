/* select.c - the selection grammar of select.h: PIDs, names and trees
 * choose processes; an ss-style expression, parsed once into a tree,
 * chooses sockets and events; --sort orders rows. */
#define _GNU_SOURCE
#include "select.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <netdb.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "commands.h"
#include "describe.h"

enum node_kind { N_AND, N_OR, N_NOT, N_PORT, N_SPORT, N_DPORT, N_SRC, N_DST,
                 N_STATE, N_PROTO, N_TRUE };
enum cmp { C_EQ, C_NE, C_LT, C_GT, C_LE, C_GE };
enum proto { P_TCP, P_UDP, P_UNIX, P_INET, P_INET6, P_NAME };

/* An address pattern of src/dst: an IP prefix and/or a port, or a unix
 * path (a glob, as fnmatch takes). */
struct addr_pat {
    int family;             /* AF_INET, AF_INET6, AF_UNIX; 0: any (only a port) */
    uint8_t ip[16];
    int prefix;             /* bits; -1: any address */
    int port;               /* -1: any port */
    char *path;             /* AF_UNIX */
};

struct node {
    enum node_kind kind;
    struct node *a, *b;
    enum cmp cmp;
    int port;
    struct addr_pat addr;
    int state;              /* ST_STATE_*, or ST_STATE_COUNT_ for "failed" outcomes */
    enum proto proto;
    char *name;             /* P_NAME: a proto_name() word */
};

struct name_pat {
    char *text;
    regex_t re;
};

struct chosen {
    int pid;
    uint64_t start;
};

struct selection {
    const char *prog;
    int *pids;
    size_t n_pids;
    int *trees;
    size_t n_trees;
    struct name_pat *names;
    size_t n_names;
    struct node *expr;
    enum select_sort sort;
    /* select_resolve: the processes chosen, by pid and start */
    struct chosen *chosen;
    size_t n_chosen;
    bool resolved;
};

static void *grow(void *v, size_t n, size_t size)
{
    void *p = realloc(v, (n + 1) * size);
    if (!p) {
        fputs("socktrace: out of memory\n", stderr);
        exit(1);
    }
    return p;
}

struct selection *select_new(const char *prog)
{
    struct selection *sel = calloc(1, sizeof *sel);
    if (sel)
        sel->prog = prog;
    return sel;
}

static void node_free(struct node *n)
{
    if (!n)
        return;
    node_free(n->a);
    node_free(n->b);
    free(n->addr.path);
    free(n->name);
    free(n);
}

void select_free(struct selection *sel)
{
    if (!sel)
        return;
    for (size_t i = 0; i < sel->n_names; i++) {
        regfree(&sel->names[i].re);
        free(sel->names[i].text);
    }
    free(sel->names);
    free(sel->pids);
    free(sel->trees);
    free(sel->chosen);
    node_free(sel->expr);
    free(sel);
}

static int fail(const struct selection *sel, const char *fmt, const char *arg)
{
    fprintf(stderr, "%s: ", sel->prog);
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    return 2;
}

static int pid_of(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v <= 0 || v > 0x7fffffffL || !isdigit((unsigned char)*s))
        return -1;
    return (int)v;
}

static int add_pid_list(struct selection *sel, const char *arg, int **v, size_t *n)
{
    char *copy = strdup(arg), *save = NULL;
    if (!copy)
        return fail(sel, "out of memory%s", "");
    int r = 0;
    size_t before = *n;
    for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        int pid = pid_of(w);
        if (pid < 0) {
            r = fail(sel, "not a process id: %s", w);
            break;
        }
        *v = grow(*v, *n, sizeof **v);
        (*v)[(*n)++] = pid;
    }
    if (!r && *n == before)
        r = fail(sel, "not a process id: '%s'", arg);
    free(copy);
    return r;
}

static int add_name(struct selection *sel, const char *text)
{
    struct name_pat p = {.text = strdup(text)};
    int e = p.text ? regcomp(&p.re, text, REG_EXTENDED | REG_NOSUB) : REG_ESPACE;
    if (e) {
        char why[128];
        regerror(e, &p.re, why, sizeof why);
        free(p.text);
        fprintf(stderr, "%s: -c %s: %s\n", sel->prog, text, why);
        return 2;
    }
    sel->names = grow(sel->names, sel->n_names, sizeof *sel->names);
    sel->names[sel->n_names++] = p;
    return 0;
}

static const struct {
    const char *word;
    enum select_sort key;
} sort_keys[] = {
    {"pid", SORT_PID}, {"fd", SORT_FD}, {"local", SORT_LOCAL}, {"peer", SORT_PEER},
    {"port", SORT_PORT}, {"state", SORT_STATE}, {"opened", SORT_OPENED},
};

int select_opt(struct selection *sel, int o, const char *arg)
{
    switch (o) {
    case 'p':
        return add_pid_list(sel, arg, &sel->pids, &sel->n_pids);
    case 'c':
        return add_name(sel, arg);
    case SELECT_OPT_TREE:
        return add_pid_list(sel, arg, &sel->trees, &sel->n_trees);
    case SELECT_OPT_SORT:
        for (size_t i = 0; i < sizeof sort_keys / sizeof sort_keys[0]; i++)
            if (!strcmp(arg, sort_keys[i].word)) {
                sel->sort = sort_keys[i].key;
                return 0;
            }
        return fail(sel, "--sort %s: the keys are pid, fd, local, peer, port, state, opened", arg);
    default:
        return 1;
    }
}

/* ---- the expression: words split into tokens, then a recursive descent */

struct lexer {
    char **tok;
    size_t n, i;
    const struct selection *sel;
    int err;                /* 2 once an error is printed */
};

static void push(struct lexer *lx, const char *s, size_t len)
{
    lx->tok = grow(lx->tok, lx->n, sizeof *lx->tok);
    lx->tok[lx->n++] = strndup(s, len);
}

/* "(port" "80)" and "( port 80 )" in one quoted word are the same tokens;
 * "sport=:80" is "sport" "=" ":80". */
static void split(struct lexer *lx, const char *w)
{
    while (*w) {
        if (isspace((unsigned char)*w)) {
            w++;
            continue;
        }
        if (*w == '(' || *w == ')') {
            push(lx, w, 1);
            w++;
            continue;
        }
        size_t len = 0;
        while (w[len] && !isspace((unsigned char)w[len]) && w[len] != '(' && w[len] != ')')
            len++;
        size_t k = 0;
        while (k < len && islower((unsigned char)w[k]))
            k++;
        if (k && k < len && strchr("=!<>", w[k])) {
            size_t o = k;
            while (o < len && o < k + 2 && strchr("=!<>", w[o]))
                o++;
            push(lx, w, k);
            push(lx, w + k, o - k);
            if (o < len)
                push(lx, w + o, len - o);
        } else {
            push(lx, w, len);
        }
        w += len;
    }
}

static const char *peek(const struct lexer *lx)
{
    return lx->i < lx->n ? lx->tok[lx->i] : NULL;
}

static bool take(struct lexer *lx, const char *a, const char *b)
{
    const char *t = peek(lx);
    if (t && (!strcmp(t, a) || (b && !strcmp(t, b)))) {
        lx->i++;
        return true;
    }
    return false;
}

static struct node *perr(struct lexer *lx, const char *fmt, const char *arg)
{
    if (!lx->err) {
        fprintf(stderr, "%s: filter: ", lx->sel->prog);
        fprintf(stderr, fmt, arg ? arg : "the end");
        fputc('\n', stderr);
        lx->err = 2;
    }
    return NULL;
}

static struct node *new_node(enum node_kind k)
{
    struct node *n = calloc(1, sizeof *n);
    if (!n) {
        fputs("socktrace: out of memory\n", stderr);
        exit(1);
    }
    n->kind = k;
    n->addr.prefix = -1;
    n->addr.port = -1;
    n->port = -1;
    return n;
}

static bool read_cmp(struct lexer *lx, enum cmp *c)
{
    static const struct {
        const char *w;
        enum cmp c;
    } ops[] = {
        {"=", C_EQ}, {"==", C_EQ}, {"eq", C_EQ}, {"!=", C_NE}, {"ne", C_NE},
        {"neq", C_NE}, {"<", C_LT}, {"lt", C_LT}, {">", C_GT}, {"gt", C_GT},
        {"<=", C_LE}, {"le", C_LE}, {">=", C_GE}, {"ge", C_GE},
    };
    const char *t = peek(lx);
    *c = C_EQ;
    for (size_t i = 0; t && i < sizeof ops / sizeof ops[0]; i++)
        if (!strcmp(t, ops[i].w)) {
            *c = ops[i].c;
            lx->i++;
            return true;
        }
    return false;
}

/* "80", ":80", "*:80", ":http" */
static int port_word(const char *t)
{
    if (t[0] == '*' && t[1] == ':')
        t++;
    if (t[0] == ':')
        t++;
    if (!*t)
        return -1;
    char *end;
    errno = 0;
    long v = strtol(t, &end, 10);
    if (!*end && !errno && end != t && v >= 0 && v <= 65535)
        return (int)v;
    if (isdigit((unsigned char)*t))
        return -1;
    struct servent *se = getservbyname(t, NULL);
    return se ? ntohs((uint16_t)se->s_port) : -1;
}

/* "10.0.0.0/8", "127.0.0.1:80", "[::1]:443", "::1", "fe80::/10", "*:80",
 * ":80", "*", "/run/x.sock", "@abstract*" */
static bool addr_word(const char *t, struct addr_pat *p)
{
    char buf[128];
    if (t[0] == '/' || t[0] == '@') {
        p->family = AF_UNIX;
        p->path = strdup(t);
        return p->path != NULL;
    }
    if (strlen(t) >= sizeof buf)
        return false;
    strcpy(buf, t);
    char *host = buf, *port = NULL;
    if (buf[0] == '[') {
        char *close = strchr(buf, ']');
        if (!close)
            return false;
        *close = 0;
        host = buf + 1;
        if (close[1] == '/') {          /* "[fe80::]/10:80" */
            char *c = strchr(close + 2, ':');
            if (c) {
                *c = 0;
                port = c + 1;
            }
            memmove(close, close + 1, strlen(close + 1) + 1);
        } else if (close[1] == ':') {
            port = close + 2;
        } else if (close[1]) {
            return false;
        }
    } else {
        char *c = strchr(buf, ':');
        if (c && !strchr(c + 1, ':')) {  /* one colon: v4 (or *) with a port */
            *c = 0;
            port = c + 1;
        }
    }
    if (port) {
        if (!*port || !strcmp(port, "*"))
            p->port = -1;
        else if ((p->port = port_word(port)) < 0)
            return false;
    }
    if (!*host || !strcmp(host, "*"))
        return true;
    char *slash = strchr(host, '/');
    if (slash)
        *slash = 0;
    if (inet_pton(AF_INET, host, p->ip) == 1)
        p->family = AF_INET;
    else if (inet_pton(AF_INET6, host, p->ip) == 1)
        p->family = AF_INET6;
    else
        return false;
    int max = p->family == AF_INET ? 32 : 128;
    p->prefix = max;
    if (slash) {
        char *end;
        long v = strtol(slash + 1, &end, 10);
        if (*end || end == slash + 1 || v < 0 || v > max)
            return false;
        p->prefix = (int)v;
    }
    return true;
}

static struct node *parse_or(struct lexer *lx);

static const struct {
    const char *w;
    int state;
} state_words[] = {
    {"created", ST_STATE_CREATED}, {"bound", ST_STATE_BOUND},
    {"listening", ST_STATE_LISTENING}, {"listen", ST_STATE_LISTENING},
    {"connecting", ST_STATE_CONNECTING}, {"syn-sent", ST_STATE_CONNECTING},
    {"connected", ST_STATE_CONNECTED}, {"established", ST_STATE_CONNECTED},
    {"failed", ST_STATE_COUNT_}, {"closed", ST_STATE_CLOSED},
    {"unknown", ST_STATE_UNKNOWN},
};

static const struct {
    const char *w;
    enum proto p;
} proto_words[] = {
    {"tcp", P_TCP}, {"udp", P_UDP}, {"unix", P_UNIX}, {"inet", P_INET},
    {"inet6", P_INET6},
};

static bool proto_word(const char *t, struct node *n)
{
    for (size_t i = 0; i < sizeof proto_words / sizeof proto_words[0]; i++)
        if (!strcmp(t, proto_words[i].w)) {
            n->proto = proto_words[i].p;
            return true;
        }
    static const char *const other[] = {"tcp6", "udp6", "unix-dgram", "unix-seqpacket",
                                        "sctp", "sctp6", "udplite", "udplite6", "mptcp",
                                        "mptcp6", "raw", "raw6", "icmp", "icmp6"};
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
        if (!strcmp(t, other[i])) {
            n->proto = P_NAME;
            n->name = strdup(t);
            return n->name != NULL;
        }
    return false;
}

static struct node *parse_term(struct lexer *lx)
{
    const char *t = peek(lx);
    if (!t)
        return perr(lx, "expected a condition, got %s", NULL);
    if (take(lx, "(", NULL)) {
        struct node *n = parse_or(lx);
        if (n && !take(lx, ")", NULL)) {
            node_free(n);
            return perr(lx, "expected ')', got %s", peek(lx));
        }
        return n;
    }
    lx->i++;
    struct node *n;
    if (!strcmp(t, "port") || !strcmp(t, "sport") || !strcmp(t, "dport")) {
        n = new_node(t[0] == 's' ? N_SPORT : t[0] == 'd' ? N_DPORT : N_PORT);
        read_cmp(lx, &n->cmp);
        const char *v = peek(lx);
        if (!v || (n->port = port_word(v)) < 0) {
            node_free(n);
            return perr(lx, "expected a port (80, :80 or a service name), got %s", v);
        }
        lx->i++;
        return n;
    }
    if (!strcmp(t, "src") || !strcmp(t, "dst")) {
        n = new_node(t[0] == 's' ? N_SRC : N_DST);
        read_cmp(lx, &n->cmp);
        if (n->cmp != C_EQ && n->cmp != C_NE) {
            node_free(n);
            return perr(lx, "%s takes = or != only", t);
        }
        const char *v = peek(lx);
        if (!v || !addr_word(v, &n->addr)) {
            node_free(n);
            return perr(lx, "expected an address (10.0.0.0/8, [::1]:443, /path), got %s", v);
        }
        lx->i++;
        return n;
    }
    if (!strcmp(t, "state")) {
        const char *v = peek(lx);
        for (size_t i = 0; v && i < sizeof state_words / sizeof state_words[0]; i++)
            if (!strcmp(v, state_words[i].w)) {
                lx->i++;
                n = new_node(N_STATE);
                n->state = state_words[i].state;
                return n;
            }
        return perr(lx, "expected a state (created, bound, listening, connecting, "
                    "connected, failed, closed, unknown), got %s", v);
    }
    if (!strcmp(t, "proto")) {
        const char *v = peek(lx);
        n = new_node(N_PROTO);
        if (!v || !proto_word(v, n)) {
            node_free(n);
            return perr(lx, "expected a protocol (tcp, udp, unix, inet, inet6, tcp6, ...), "
                        "got %s", v);
        }
        lx->i++;
        return n;
    }
    n = new_node(N_PROTO);
    if (proto_word(t, n))
        return n;
    node_free(n);
    lx->i--;
    return perr(lx, "unexpected '%s' (the conditions are port, sport, dport, src, dst, "
                "state, proto, tcp, udp, unix)", t);
}

static struct node *parse_not(struct lexer *lx)
{
    if (take(lx, "not", "!")) {
        struct node *a = parse_not(lx);
        if (!a)
            return NULL;
        struct node *n = new_node(N_NOT);
        n->a = a;
        return n;
    }
    return parse_term(lx);
}

static bool ends_and(const char *t)
{
    return !t || !strcmp(t, ")") || !strcmp(t, "or") || !strcmp(t, "||");
}

/* "a and b", "a && b" and, as in ss, "a b" */
static struct node *parse_and(struct lexer *lx)
{
    struct node *l = parse_not(lx);
    while (l && !ends_and(peek(lx))) {
        if (take(lx, "and", "&&") && ends_and(peek(lx))) {
            node_free(l);
            return perr(lx, "expected a condition after 'and', got %s", peek(lx));
        }
        struct node *r = parse_not(lx);
        if (!r) {
            node_free(l);
            return NULL;
        }
        struct node *n = new_node(N_AND);
        n->a = l;
        n->b = r;
        l = n;
    }
    return l;
}

static struct node *parse_or(struct lexer *lx)
{
    struct node *l = parse_and(lx);
    while (l && take(lx, "or", "||")) {
        struct node *r = parse_and(lx);
        if (!r) {
            node_free(l);
            return NULL;
        }
        struct node *n = new_node(N_OR);
        n->a = l;
        n->b = r;
        l = n;
    }
    return l;
}

static bool is_keyword(const char *t)
{
    static const char *const k[] = {"port", "sport", "dport", "src", "dst", "state", "proto",
                                    "not", "!", "(", "tcp", "udp", "unix", "inet", "inet6",
                                    "tcp6", "udp6"};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        if (!strcmp(t, k[i]))
            return true;
    return false;
}

/* a word that can only be meant as a command name: pgrep's kind of word */
static bool name_like(const char *t)
{
    if (!isalpha((unsigned char)*t) && *t != '_')
        return false;
    for (; *t; t++)
        if (!isalnum((unsigned char)*t) && !strchr("_.+-@:", *t))
            return false;
    return true;
}

int select_take(struct selection *sel, int o, const char *arg, const char *usage)
{
    int status = select_opt(sel, o, arg);
    return status == 1 ? usage_error(usage, NULL, NULL) : status;
}

int select_words(struct selection *sel, int n, char *const *words)
{
    struct lexer lx = {.sel = sel};
    for (int i = 0; i < n; i++)
        split(&lx, words[i]);
    int r = 0;
    /* PIDs and names first; the first keyword starts the expression */
    for (; lx.i < lx.n && !is_keyword(lx.tok[lx.i]); lx.i++) {
        const char *t = lx.tok[lx.i];
        int pid = pid_of(t);
        if (pid > 0) {
            sel->pids = grow(sel->pids, sel->n_pids, sizeof *sel->pids);
            sel->pids[sel->n_pids++] = pid;
        } else if (name_like(t)) {
            if ((r = add_name(sel, t)))
                goto out;
        } else {
            r = fail(sel, "not a process id, a command name or a filter: %s", t);
            goto out;
        }
    }
    if (lx.i < lx.n) {
        struct node *e = parse_or(&lx);
        if (e && lx.i < lx.n) {
            node_free(e);
            e = perr(&lx, "unexpected '%s'", lx.tok[lx.i]);
        }
        if (!e) {
            r = lx.err ? lx.err : 2;
            goto out;
        }
        if (sel->expr) {
            struct node *both = new_node(N_AND);
            both->a = sel->expr;
            both->b = e;
            e = both;
        }
        sel->expr = e;
    }
out:
    for (size_t i = 0; i < lx.n; i++)
        free(lx.tok[i]);
    free(lx.tok);
    return r;
}

bool select_has_process(const struct selection *sel)
{
    return sel->n_pids || sel->n_names || sel->n_trees;
}

bool select_has_filter(const struct selection *sel)
{
    return sel->expr != NULL;
}

bool select_only_pids(const struct selection *sel)
{
    return sel->n_pids && !sel->n_names && !sel->n_trees;
}

const int *select_pids(const struct selection *sel, size_t *n)
{
    *n = sel->n_pids;
    return sel->pids;
}

enum select_sort select_sort_key(const struct selection *sel)
{
    return sel->sort;
}

/* ---- processes */

static const char *base(const char *p, size_t len, char *buf, size_t size)
{
    size_t l = strnlen(p, len);
    if (l >= size)
        l = size - 1;
    memcpy(buf, p, l);
    buf[l] = 0;
    const char *s = strrchr(buf, '/');
    return s ? s + 1 : buf;
}

static bool name_matches(const struct selection *sel, const struct snapshot *s)
{
    char a0[256], now[256], comm[64] = "";
    const char *cand[3] = {
        base(s->h.cmdline, s->h.cmdline_len, a0, sizeof a0),
        s->exec_untraced ? base(s->command_now, s->command_now_len, now, sizeof now) : NULL,
        NULL,
    };
    if (s->alive) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/comm", s->h.pid);
        FILE *f = fopen(path, "re");
        if (f) {
            if (fgets(comm, sizeof comm, f))
                comm[strcspn(comm, "\n")] = 0;
            fclose(f);
            cand[2] = comm;
        }
    }
    for (size_t i = 0; i < sel->n_names; i++)
        for (size_t k = 0; k < 3; k++)
            if (cand[k] && *cand[k] && regexec(&sel->names[i].re, cand[k], 0, NULL, 0) == 0)
                return true;
    return false;
}

/* Of several files with one pid (the pid was reused), the process a pid
 * names: the running one, else the one that started last. */
static bool is_current(const struct snapshot *snaps, size_t n, size_t k)
{
    for (size_t i = 0; i < n; i++) {
        if (i == k || snaps[i].h.pid != snaps[k].h.pid)
            continue;
        if (snaps[i].alive != snaps[k].alive) {
            if (snaps[i].alive)
                return false;
            continue;
        }
        if (snaps[i].h.proc_start > snaps[k].h.proc_start)
            return false;
    }
    return true;
}

static bool has_int(const int *v, size_t n, int x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x)
            return true;
    return false;
}

/* A PID names the process by the viewer's pid or, for a process in
 * another pid namespace (a container), by its own. */
static bool named_pid(const struct selection *sel, const struct snapshot *s)
{
    return has_int(sel->pids, sel->n_pids, s->h.pid) ||
           (s->ns_pid > 0 && s->ns_pid != s->h.pid && has_int(sel->pids, sel->n_pids, s->ns_pid));
}

void select_resolve(struct selection *sel, const struct snapshot *snaps, size_t n)
{
    sel->resolved = true;
    sel->n_chosen = 0;
    if (!select_has_process(sel))
        return;
    bool *in = calloc(n ? n : 1, sizeof *in);
    bool *tree = calloc(n ? n : 1, sizeof *tree);
    if (!in || !tree) {
        fputs("socktrace: out of memory\n", stderr);
        exit(1);
    }
    /* --tree: the roots, then children (ppid, started after the parent
     * and, when the parent ended, before it ended) until nothing is added */
    for (size_t i = 0; i < n; i++)
        tree[i] = has_int(sel->trees, sel->n_trees, snaps[i].h.pid) && is_current(snaps, n, i);
    for (bool more = sel->n_trees > 0; more;) {
        more = false;
        for (size_t c = 0; c < n; c++) {
            for (size_t p = 0; p < n && !tree[c]; p++) {
                const struct st_header *ph = &snaps[p].h, *ch = &snaps[c].h;
                if (!tree[p] || ch->ppid != ph->pid || ch->start_ns < ph->start_ns ||
                    (!snaps[p].alive && ph->end_ns && ch->start_ns > ph->end_ns))
                    continue;
                tree[c] = more = true;
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        in[i] = true;
        if (sel->n_pids)
            in[i] = named_pid(sel, &snaps[i]) && is_current(snaps, n, i);
        if (in[i] && sel->n_trees)
            in[i] = tree[i];
        if (in[i] && sel->n_names)
            in[i] = name_matches(sel, &snaps[i]);
        if (!in[i])
            continue;
        sel->chosen = grow(sel->chosen, sel->n_chosen, sizeof *sel->chosen);
        sel->chosen[sel->n_chosen++] = (struct chosen){snaps[i].h.pid, snaps[i].h.proc_start};
    }
    free(in);
    free(tree);
}

const char *select_nothing(const struct selection *sel, char *buf, size_t size)
{
    if (!select_has_process(sel) || sel->n_chosen)
        return NULL;
    size_t o = (size_t)snprintf(buf, size, "no traced process");
    if (sel->n_pids && o < size)
        o += (size_t)snprintf(buf + o, size - o, " with pid %d%s", sel->pids[0],
                              sel->n_pids > 1 ? " (or the others named)" : "");
    if (sel->n_names && o < size)
        o += (size_t)snprintf(buf + o, size - o, "%s named %s%s", sel->n_pids ? "," : "",
                              sel->names[0].text, sel->n_names > 1 ? " (or the others)" : "");
    if (sel->n_trees && o < size)
        snprintf(buf + o, size - o, "%s under pid %d", sel->n_pids || sel->n_names ? "," : "",
                 sel->trees[0]);
    return buf;
}

bool select_process(const struct selection *sel, const struct snapshot *s)
{
    if (!select_has_process(sel))
        return true;
    if (!sel->resolved)     /* PIDs alone, looked up one by one */
        return select_only_pids(sel) && named_pid(sel, s);
    for (size_t i = 0; i < sel->n_chosen; i++)
        if (sel->chosen[i].pid == s->h.pid && sel->chosen[i].start == s->h.proc_start)
            return true;
    return false;
}

/* ---- sockets and events */

/* The IP bytes of an inet address, v4-mapped IPv6 as IPv4. */
static int ip_of(const struct st_addr *a, const uint8_t **ip)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (a->kind == ST_ADDR_INET) {
        *ip = a->data;
        return AF_INET;
    }
    if (a->kind == ST_ADDR_INET6) {
        if (!memcmp(a->data, mapped, 12)) {
            *ip = a->data + 12;
            return AF_INET;
        }
        *ip = a->data;
        return AF_INET6;
    }
    return 0;
}

static bool has_port(const struct st_addr *a)
{
    return a->kind == ST_ADDR_INET || a->kind == ST_ADDR_INET6;
}

static bool cmp_port(enum cmp c, int have, int want)
{
    switch (c) {
    case C_EQ: return have == want;
    case C_NE: return have != want;
    case C_LT: return have < want;
    case C_GT: return have > want;
    case C_LE: return have <= want;
    case C_GE: return have >= want;
    }
    return false;
}

static bool port_is(const struct node *n, const struct st_addr *a)
{
    return has_port(a) && cmp_port(n->cmp, a->port, n->port);
}

static bool addr_is(const struct addr_pat *p, const struct st_addr *a)
{
    if (p->family == AF_UNIX) {
        char text[ADDR_TEXT_MAX];
        return (a->kind == ST_ADDR_UNIX) && addr_text(a, text, sizeof text) &&
               fnmatch(p->path, text, 0) == 0;
    }
    if (!has_port(a))
        return false;
    if (p->port >= 0 && a->port != p->port)
        return false;
    if (p->prefix < 0)
        return true;
    const uint8_t *ip;
    if (ip_of(a, &ip) != p->family)
        return false;
    int bits = p->prefix;
    size_t full = (size_t)bits / 8;
    if (memcmp(ip, p->ip, full))
        return false;
    if (bits % 8) {
        uint8_t mask = (uint8_t)(0xff << (8 - bits % 8));
        if ((ip[full] & mask) != (p->ip[full] & mask))
            return false;
    }
    return true;
}

/* What a condition looks at: a socket's, or an event's with its socket's. */
struct subject {
    const struct st_addr *local, *peer;
    const struct st_sock *so;   /* NULL: an event whose socket is not known */
};

static bool proto_is(const struct node *n, const struct subject *x)
{
    const struct st_sock *so = x->so;
    if (!so) {
        /* an event alone tells only the address family */
        int k = x->local->kind ? x->local->kind : x->peer->kind;
        if (n->proto == P_UNIX)
            return k == ST_ADDR_UNIX || k == ST_ADDR_UNNAMED;
        if (n->proto == P_INET)
            return k == ST_ADDR_INET;
        if (n->proto == P_INET6)
            return k == ST_ADDR_INET6;
        return false;
    }
    bool inet = so->family == AF_INET || so->family == AF_INET6;
    switch (n->proto) {
    case P_TCP: return inet && so->type == SOCK_STREAM && (so->protocol == 6 || !so->protocol);
    case P_UDP: return inet && so->type == SOCK_DGRAM && (so->protocol == 17 || !so->protocol);
    case P_UNIX: return so->family == AF_UNIX;
    case P_INET: return so->family == AF_INET;
    case P_INET6: return so->family == AF_INET6;
    case P_NAME: return !strcmp(proto_name(so), n->name);
    }
    return false;
}

static bool state_is(const struct node *n, const struct st_sock *so)
{
    if (!so)
        return false;
    if (n->state == ST_STATE_COUNT_)       /* failed, then closed or not */
        return so->state == ST_STATE_FAILED || so->outcome == ST_CONN_FAILED ||
               so->outcome == ST_CONN_GAVE_UP;
    return so->state == n->state;
}

static bool eval(const struct node *n, const struct subject *x)
{
    switch (n->kind) {
    case N_AND: return eval(n->a, x) && eval(n->b, x);
    case N_OR: return eval(n->a, x) || eval(n->b, x);
    case N_NOT: return !eval(n->a, x);
    case N_PORT: return port_is(n, x->local) || port_is(n, x->peer);
    case N_SPORT: return port_is(n, x->local);
    case N_DPORT: return port_is(n, x->peer);
    case N_SRC: return addr_is(&n->addr, x->local) == (n->cmp == C_EQ);
    case N_DST: return addr_is(&n->addr, x->peer) == (n->cmp == C_EQ);
    case N_STATE: return state_is(n, x->so);
    case N_PROTO: return proto_is(n, x);
    case N_TRUE: return true;
    }
    return false;
}

static const struct st_addr no_addr;

/* An unconnected datagram socket's peer is the last one it talked to: not
 * an association, so not a destination (ss shows *:* there too). */
static const struct st_addr *peer_of(const struct st_sock *so)
{
    return so->flags & ST_SF_PEER_LAST ? &no_addr : &so->peer;
}

bool select_socket(const struct selection *sel, const struct snapshot *s,
                   const struct st_sock *so)
{
    if (!select_process(sel, s))
        return false;
    if (!sel->expr)
        return true;
    struct subject x = {&so->local, peer_of(so), so};
    return eval(sel->expr, &x);
}

bool select_event(const struct selection *sel, const struct snapshot *s,
                  const struct st_event *e)
{
    if (!select_process(sel, s))
        return false;
    if (!sel->expr)
        return true;
    struct subject x = {&e->local, &e->peer, NULL};
    for (size_t i = 0; e->sock_id && !x.so && i < s->n_open; i++)
        if (s->open[i].sock_id == e->sock_id)
            x.so = &s->open[i];
    for (size_t i = 0; e->sock_id && !x.so && i < s->n_closed; i++)
        if (s->closed[i].sock_id == e->sock_id)
            x.so = &s->closed[i];
    return eval(sel->expr, &x);
}

/* ---- order */

static int cmp_addr(const struct st_addr *a, const struct st_addr *b)
{
    const uint8_t *ia, *ib;
    int fa = ip_of(a, &ia), fb = ip_of(b, &ib);
    if (fa != fb || !fa) {
        if (fa && fb)
            return fa == AF_INET ? -1 : 1;
        if (fa || fb)
            return fa ? -1 : 1;
        char ta[ADDR_TEXT_MAX], tb[ADDR_TEXT_MAX];
        addr_text(a, ta, sizeof ta);
        addr_text(b, tb, sizeof tb);
        return strcmp(ta, tb);
    }
    int c = memcmp(ia, ib, fa == AF_INET ? 4 : 16);
    return c ? c : (int)a->port - (int)b->port;
}

struct keyed {
    struct sel_row r;
    size_t i;
};

static int cmp_rows(const void *pa, const void *pb, void *arg)
{
    const struct keyed *a = pa, *b = pb;
    const struct st_sock *x = a->r.sock, *y = b->r.sock;
    int c = 0;
    switch (*(const enum select_sort *)arg) {
    case SORT_NONE: break;
    case SORT_PID: c = a->r.snap->h.pid - b->r.snap->h.pid; break;
    case SORT_FD: c = x->fd - y->fd; break;
    case SORT_LOCAL: c = cmp_addr(&x->local, &y->local); break;
    case SORT_PEER: c = cmp_addr(peer_of(x), peer_of(y)); break;
    case SORT_PORT:
        c = (has_port(&x->local) ? x->local.port : 65536) -
            (has_port(&y->local) ? y->local.port : 65536);
        break;
    case SORT_STATE: c = strcmp(state_name(x->state), state_name(y->state)); break;
    case SORT_OPENED: c = x->opened_ns < y->opened_ns ? -1 : x->opened_ns > y->opened_ns; break;
    }
    return c ? c : a->i < b->i ? -1 : a->i > b->i;
}

void select_sort_rows(const struct selection *sel, struct sel_row *rows, size_t n)
{
    if (sel->sort == SORT_NONE || n < 2)
        return;
    struct keyed *k = malloc(n * sizeof *k);
    if (!k)
        return;         /* left in file order */
    for (size_t i = 0; i < n; i++)
        k[i] = (struct keyed){rows[i], i};
    enum select_sort key = sel->sort;
    qsort_r(k, n, sizeof *k, cmp_rows, &key);
    for (size_t i = 0; i < n; i++)
        rows[i] = k[i].r;
    free(k);
}

static int cmp_snaps(const void *pa, const void *pb)
{
    const struct snapshot *a = pa, *b = pb;
    if (a->h.pid != b->h.pid)
        return a->h.pid < b->h.pid ? -1 : 1;
    return a->h.proc_start < b->h.proc_start ? -1 : a->h.proc_start > b->h.proc_start;
}

void select_sort_snaps(const struct selection *sel, struct snapshot *snaps, size_t n)
{
    if (sel->sort == SORT_PID && n > 1)
        qsort(snaps, n, sizeof *snaps, cmp_snaps);
}
