/* show_kernel.c - the kernel's side of `show`: the sockets of a process
 * that was never traced, and `show --verify`, which holds a live
 * process's trace against the kernel and lists every difference. */
#define _GNU_SOURCE
#include "show_kernel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "describe.h"
#include "kernel.h"
#include "output.h"
#include "json_out.h"
#include "proc_exec.h"
#include "snapshot.h"

static const char *kproto(const struct ksock *k)
{
    return k->listed ? proto_name(&k->s) : "socket";
}

static void json_ksock(FILE *f, const struct ksock *k)
{
    json_kernel_socket(f, k->fd, (unsigned long long)k->inode, k->listed, &k->s);
}

static void cells_of(const struct st_sock *s, char *local, char *peer)
{
    sock_addr_cells(s, NULL, local, peer);
}

int show_kernel(int pid, bool json, const char *prog)
{
    struct kview k;
    char err[256];
    if (kview_load(pid, &k, err, sizeof err) != 0) {
        fprintf(stderr, "%s: no trace file for pid %d, and %s\n", prog, pid, err);
        return 1;
    }
    if (json) {
        printf("{\"schema_version\":%d,\"pid\":%d,\"source\":\"kernel\",\"state\":\"running\","
               "\"command\":", JSON_SCHEMA_VERSION, pid);
        char cmd[ST_CMDLINE_MAX];
        uint32_t len = proc_cmdline(pid, cmd, sizeof cmd);
        if (len)
            json_argv(stdout, cmd, len);
        else
            fputs("null", stdout);
        fputs(",\"sockets\":[", stdout);
        for (size_t i = 0; i < k.n; i++) {
            if (i)
                putchar(',');
            json_ksock(stdout, &k.v[i]);
        }
        printf("]}\n");
        kview_free(&k);
        return 0;
    }
    printf("%spid %d%s  not traced: the kernel's view (/proc/%d), no history\n",
           color(C_BOLD), pid, color("0"), pid);
    printf("  %zu socket%s\n", k.n, k.n == 1 ? "" : "s");
    static const char *const hdr[] = {"FD", "PROTO", "STATE", "LOCAL", "PEER", "INODE"};
    struct table *t = table_new(6, hdr);
    for (size_t i = 0; i < k.n; i++) {
        const struct ksock *ks = &k.v[i];
        char fd[16], ino[32], local[ADDR_TEXT_MAX], peer[ADDR_TEXT_MAX];
        snprintf(fd, sizeof fd, "%d", ks->fd);
        snprintf(ino, sizeof ino, "%llu", (unsigned long long)ks->inode);
        cells_of(&ks->s, local, peer);
        const char *cells[] = {fd, kproto(ks), ks->listed ? state_name(ks->s.state) : "-",
                               local, peer, ino};
        table_add(t, cells, NULL);
    }
    table_print(t, stdout);
    table_free(t);
    kview_free(&k);
    return 0;
}

struct diff {
    int fd;
    const char *what;
    const struct st_sock *trace;
    const struct ksock *kernel;
};

static void diff_text(const struct diff *d)
{
    char tl[ADDR_TEXT_MAX], tp[ADDR_TEXT_MAX], kl[ADDR_TEXT_MAX], kp[ADDR_TEXT_MAX];
    printf("  fd %-4d %s\n", d->fd, d->what);
    if (d->trace) {
        cells_of(d->trace, tl, tp);
        printf("          trace:  %s %s %s -> %s\n", proto_name(d->trace),
               state_name(d->trace->state), tl, tp);
    }
    if (d->kernel) {
        cells_of(&d->kernel->s, kl, kp);
        printf("          kernel: %s %s %s -> %s (inode %llu)\n", kproto(d->kernel),
               d->kernel->listed ? state_name(d->kernel->s.state) : "-", kl, kp,
               (unsigned long long)d->kernel->inode);
    }
}

/* What --verify found: the differences, the sockets in both views, and
 * the entries show already calls closed (not differences). */
struct verdict {
    struct diff *d;
    size_t nd, both, n_gone;
};

/* The trace's open entries and the kernel's sockets, each sorted by fd,
 * walked side by side: one difference per fd where they disagree. What
 * show prints as closed (gone from /proc, or closed by an exec out of the
 * tracer) is not open here either: listed, not a difference. */
static int compare(const struct snapshot *s, const struct kview *k, struct verdict *v)
{
    memset(v, 0, sizeof *v);
    v->d = calloc(k->n + s->n_open + 1, sizeof *v->d);
    const struct st_sock **open = calloc(s->n_open + 1, sizeof *open);
    if (!v->d || !open) {
        free(v->d);
        free(open);
        return -1;
    }
    size_t n_open = 0;
    for (size_t n = 0; n < s->n_open; n++) {
        if (snap_gone(&s->open[n]))
            v->n_gone++;
        else
            open[n_open++] = &s->open[n];
    }
    size_t i = 0, j = 0;
    while (i < n_open || j < k->n) {
        const struct st_sock *t = i < n_open ? open[i] : NULL;
        const struct ksock *ks = j < k->n ? &k->v[j] : NULL;
        if (t && (!ks || t->fd < ks->fd)) {
            v->d[v->nd++] = (struct diff){t->fd, "the trace shows it open; the kernel has no socket there",
                                          t, NULL};
            i++;
        } else if (ks && (!t || ks->fd < t->fd)) {
            v->d[v->nd++] = (struct diff){ks->fd, "a socket the tracer never saw", NULL, ks};
            j++;
        } else {
            const char *why;
            if (!kview_agrees(t, ks, &why))
                v->d[v->nd++] = (struct diff){t->fd, why, t, ks};
            v->both++;
            i++;
            j++;
        }
    }
    free(open);
    return 0;
}

static void verdict_json(const struct snapshot *s, const struct verdict *v)
{
    printf("{\"schema_version\":%d,\"pid\":%d,\"agree\":%s,\"both\":%zu,\"differences\":[",
           JSON_SCHEMA_VERSION, s->h.pid, v->nd ? "false" : "true", v->both);
    for (size_t n = 0; n < v->nd; n++) {
        const struct diff *d = &v->d[n];
        bool first = true;
        printf("%s{", n ? "," : "");
        json_key(stdout, &first, "fd");
        printf("%d", d->fd);
        json_key(stdout, &first, "what");
        json_str(stdout, d->what);
        json_key(stdout, &first, "trace");
        if (d->trace)
            json_socket(stdout, d->trace, NULL);
        else
            fputs("null", stdout);
        json_key(stdout, &first, "kernel");
        if (d->kernel)
            json_ksock(stdout, d->kernel);
        else
            fputs("null", stdout);
        putchar('}');
    }
    printf("],\"found_closed\":[");
    for (size_t n = 0, c = 0; n < s->n_open; n++)
        if (snap_gone(&s->open[n]))
            printf("%s%d", c++ ? "," : "", s->open[n].fd);
    printf("]}\n");
}

static void verdict_text(const struct snapshot *s, const struct verdict *v)
{
    if (v->nd == 0) {
        printf("pid %d: the trace and the kernel agree on all %zu socket%s\n", s->h.pid,
               v->both, v->both == 1 ? "" : "s");
    } else {
        printf("%spid %d: %zu difference%s between the trace and the kernel%s "
               "(%zu socket%s in both)\n", color(C_YELLOW), s->h.pid, v->nd,
               v->nd == 1 ? "" : "s", color("0"), v->both, v->both == 1 ? "" : "s");
        for (size_t n = 0; n < v->nd; n++)
            diff_text(&v->d[n]);
    }
    if (v->n_gone) {
        printf("  closed behind the tracer's back (shown as closed by show):");
        for (size_t n = 0; n < s->n_open; n++)
            if (snap_gone(&s->open[n]))
                printf(" fd %d (%s)", s->open[n].fd,
                       s->open[n].flags & ST_SF_CLOSED_EXEC ? "exec" : "unseen");
        putchar('\n');
    }
}

int show_verify(struct snapshot *s, bool json, const char *prog)
{
    if (!s->alive) {
        fprintf(stderr, "%s: pid %d is not running: nothing to verify against\n",
                prog, s->h.pid);
        return 1;
    }
    struct kview k;
    char err[256];
    int r = s->no_access ? -2 : kview_load(s->h.pid, &k, err, sizeof err);
    if (r == -2) {
        /* agreement on what could not be seen would be a lie */
        fprintf(stderr, "%s: pid %d: not verified: no access to /proc/%d/fd (the process "
                "runs as another user, kept a capability or is not dumpable); run as "
                "root\n", prog, s->h.pid, s->h.pid);
        return VERIFY_NO_ACCESS;
    }
    if (r != 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return 1;
    }
    kview_settle_connects(&k, s->open, s->n_open);
    struct verdict v;
    if (compare(s, &k, &v) != 0) {
        fprintf(stderr, "%s: out of memory\n", prog);
        kview_free(&k);
        return 1;
    }
    if (json)
        verdict_json(s, &v);
    else
        verdict_text(s, &v);
    free(v.d);
    kview_free(&k);
    return v.nd ? 1 : 0;
}
