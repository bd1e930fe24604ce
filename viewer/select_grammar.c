/* select_grammar.c - the filter words (ss's grammar: "sport = :80 and
 * not state listening") split into tokens and parsed once, by recursive
 * descent, into the tree of select_tree.h. */
#define _GNU_SOURCE
#include "select_tree.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>

#include "describe.h"

void sel_node_free(struct node *n)
{
    if (!n)
        return;
    sel_node_free(n->a);
    sel_node_free(n->b);
    free(n->addr.path);
    free(n->name);
    free(n);
}

static void push(struct lexer *lx, const char *s, size_t len)
{
    lx->tok = sel_grow(lx->tok, lx->n, sizeof *lx->tok);
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
        fprintf(stderr, "%s: filter: ", lx->prog);
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

/* l and r under one node; NULL (l freed) when r failed to parse. */
static struct node *join(enum node_kind k, struct node *l, struct node *r)
{
    if (!r) {
        sel_node_free(l);
        return NULL;
    }
    struct node *n = new_node(k);
    n->a = l;
    n->b = r;
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
            sel_node_free(n);
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
            sel_node_free(n);
            return perr(lx, "expected a port (80, :80 or a service name), got %s", v);
        }
        lx->i++;
        return n;
    }
    if (!strcmp(t, "src") || !strcmp(t, "dst")) {
        n = new_node(t[0] == 's' ? N_SRC : N_DST);
        read_cmp(lx, &n->cmp);
        if (n->cmp != C_EQ && n->cmp != C_NE) {
            sel_node_free(n);
            return perr(lx, "%s takes = or != only", t);
        }
        const char *v = peek(lx);
        if (!v || !addr_word(v, &n->addr)) {
            sel_node_free(n);
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
            sel_node_free(n);
            return perr(lx, "expected a protocol (tcp, udp, unix, inet, inet6, tcp6, ...), "
                        "got %s", v);
        }
        lx->i++;
        return n;
    }
    n = new_node(N_PROTO);
    if (proto_word(t, n))
        return n;
    sel_node_free(n);
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
            sel_node_free(l);
            return perr(lx, "expected a condition after 'and', got %s", peek(lx));
        }
        l = join(N_AND, l, parse_not(lx));
    }
    return l;
}

static struct node *parse_or(struct lexer *lx)
{
    struct node *l = parse_and(lx);
    while (l && take(lx, "or", "||"))
        l = join(N_OR, l, parse_and(lx));
    return l;
}

void sel_lex(struct lexer *lx, const char *word)
{
    split(lx, word);
}

void sel_lex_free(struct lexer *lx)
{
    for (size_t i = 0; i < lx->n; i++)
        free(lx->tok[i]);
    free(lx->tok);
}

struct node *sel_parse(struct lexer *lx)
{
    struct node *e = parse_or(lx);
    if (e && lx->i < lx->n) {
        sel_node_free(e);
        e = perr(lx, "unexpected '%s'", lx->tok[lx->i]);
    }
    return e;
}

struct node *sel_and(struct node *a, struct node *b)
{
    return join(N_AND, a, b);
}

bool sel_is_keyword(const char *t)
{
    static const char *const k[] = {"port", "sport", "dport", "src", "dst", "state", "proto",
                                    "not", "!", "(", "tcp", "udp", "unix", "inet", "inet6",
                                    "tcp6", "udp6"};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        if (!strcmp(t, k[i]))
            return true;
    return false;
}
