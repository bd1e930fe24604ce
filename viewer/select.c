/* select.c - a selection (select.h) as the command line gives it: PIDs,
 * -p, -c NAME, --tree, --sort and the words left, of which the filter is
 * handed to the grammar (select_grammar.c). */
#define _GNU_SOURCE
#include "select_tree.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "usage.h"

struct selection *select_new(const char *prog)
{
    struct selection *sel = calloc(1, sizeof *sel);
    if (sel)
        sel->prog = prog;
    return sel;
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
    sel_node_free(sel->expr);
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
        *v = sel_grow(*v, *n, sizeof **v);
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
    sel->names = sel_grow(sel->names, sel->n_names, sizeof *sel->names);
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
    struct lexer lx = {.prog = sel->prog};
    for (int i = 0; i < n; i++)
        sel_lex(&lx, words[i]);
    int r = 0;
    /* PIDs and names first; the first keyword starts the expression */
    for (; lx.i < lx.n && !sel_is_keyword(lx.tok[lx.i]); lx.i++) {
        const char *t = lx.tok[lx.i];
        int pid = pid_of(t);
        if (pid > 0) {
            sel->pids = sel_grow(sel->pids, sel->n_pids, sizeof *sel->pids);
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
        struct node *e = sel_parse(&lx);
        if (!e) {
            r = lx.err ? lx.err : 2;
            goto out;
        }
        sel->expr = sel->expr ? sel_and(sel->expr, e) : e;
    }
out:
    sel_lex_free(&lx);
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

unsigned select_what(const struct selection *sel)
{
    return sel->n_names ? SNAP_COMM : 0;
}

enum select_sort select_sort_key(const struct selection *sel)
{
    return sel->sort;
}
