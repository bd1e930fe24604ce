/* select_proc.c - which processes a selection chooses: by pid (the
 * viewer's or a container's own), by name (argv[0], the program now, the
 * comm) and by --tree, resolved once over the loaded snapshots. */
#include "select_tree.h"

#include <string.h>

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
    char a0[256], now[256];
    const char *cand[3] = {
        base(s->h.cmdline, s->h.cmdline_len, a0, sizeof a0),
        s->exec_untraced ? base(s->command_now, s->command_now_len, now, sizeof now) : NULL,
        s->comm,
    };
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
        sel->chosen = sel_grow(sel->chosen, sel->n_chosen, sizeof *sel->chosen);
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
