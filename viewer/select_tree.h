/* select_tree.h - inside the selection (select.h), shared by its files
 * only: the parsed filter as a tree of conditions, and what a selection
 * holds. select_grammar.c builds the tree, select_eval.c walks it,
 * select_proc.c chooses processes, select_sort.c orders rows. */
#ifndef SOCKTRACE_SELECT_TREE_H
#define SOCKTRACE_SELECT_TREE_H

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>

#include "select.h"

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

/* realloc for one more, or exit: a selection is parsed before anything
 * is loaded, so there is nothing to give back. */
static inline void *sel_grow(void *v, size_t n, size_t size)
{
    void *p = realloc(v, (n + 1) * size);
    if (!p) {
        fputs("socktrace: out of memory\n", stderr);
        exit(1);
    }
    return p;
}

/* The words of a filter as tokens, read by a recursive descent. */
struct lexer {
    char **tok;
    size_t n, i;
    const char *prog;
    int err;                /* 2 once an error is printed */
};

/* Adds the tokens of one command-line word. */
void sel_lex(struct lexer *lx, const char *word);
void sel_lex_free(struct lexer *lx);
/* Whether a token starts the filter (ends the PIDs and names before it). */
bool sel_is_keyword(const char *t);
/* The filter from lx->i to the last token, or NULL after one line on
 * stderr (lx->err 2). */
struct node *sel_parse(struct lexer *lx);
/* a and b, both required. */
struct node *sel_and(struct node *a, struct node *b);
void sel_node_free(struct node *n);

/* For select_sort.c: the IP of an inet address (v4-mapped IPv6 as IPv4)
 * and its family, 0 for another kind; whether it has a port; the peer a
 * socket is compared by. */
int sel_ip_of(const struct st_addr *a, const uint8_t **ip);
bool sel_has_port(const struct st_addr *a);
const struct st_addr *sel_peer_of(const struct st_sock *so);

#endif
