/* select_sort.c - --sort: rows of sockets ordered by a key, stable, so
 * that rows with equal keys keep the order the files gave them. */
#define _GNU_SOURCE
#include "select_tree.h"

#include <string.h>
#include <sys/socket.h>

#include "describe.h"

static int cmp_addr(const struct st_addr *a, const struct st_addr *b)
{
    const uint8_t *ia, *ib;
    int fa = sel_ip_of(a, &ia), fb = sel_ip_of(b, &ib);
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
    case SORT_PEER: c = cmp_addr(sel_peer_of(x), sel_peer_of(y)); break;
    case SORT_PORT:
        c = (sel_has_port(&x->local) ? x->local.port : 65536) -
            (sel_has_port(&y->local) ? y->local.port : 65536);
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
