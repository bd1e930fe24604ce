/* kernel.c - reads a process's sockets from /proc (see kernel.h). The
 * tables print addresses as the kernel holds them: 32-bit words in hex,
 * in host byte order, so the bytes come back by storing each word. */
#define _GNU_SOURCE
#include "kernel.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "describe.h"

static int by_fd(const void *a, const void *b)
{
    const struct ksock *x = a, *y = b;
    return (x->fd > y->fd) - (x->fd < y->fd);
}

static int list_fds(struct kview *k, char *err, size_t errlen)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", k->pid);
    int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path,
                 e == ENOENT ? "no such process" : strerror(e));
        return e == EACCES || e == EPERM ? -2 : -1;
    }
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 0;
    struct dirent *e;
    int r = 0;
    while ((e = readdir(d))) {
        char link[64];
        ssize_t l = readlinkat(dfd, e->d_name, link, sizeof link - 1);
        if (l < 0 && (errno == EACCES || errno == EPERM) && e->d_name[0] != '.') {
            /* the names are listed, what they are is hidden: a process
             * that kept a capability the viewer lacks */
            snprintf(err, errlen, "%s/%s: %s", path, e->d_name, strerror(errno));
            r = -2;
            break;
        }
        if (l <= 8)
            continue;
        link[l] = 0;
        uint64_t ino;
        if (sscanf(link, "socket:[%" SCNu64 "]", &ino) != 1)
            continue;
        if (k->n == cap) {
            cap = cap ? cap * 2 : 64;
            void *p = realloc(k->v, cap * sizeof *k->v);
            if (!p)
                break;
            k->v = p;
        }
        struct ksock *s = &k->v[k->n++];
        memset(s, 0, sizeof *s);
        s->fd = atoi(e->d_name);
        s->inode = ino;
        s->s.fd = s->fd;
    }
    closedir(d);
    if (k->n)
        qsort(k->v, k->n, sizeof *k->v, by_fd);
    return r;
}

static struct ksock *by_inode(struct kview *k, uint64_t ino)
{
    for (size_t i = 0; i < k->n; i++)   /* a process has few sockets here */
        if (k->v[i].inode == ino)
            return &k->v[i];
    return NULL;
}

/* "0100007F:1F90" or the 32-digit IPv6 form */
static bool parse_inet(const char *t, int family, struct st_addr *a)
{
    memset(a, 0, sizeof *a);
    size_t words = family == AF_INET ? 1 : 4;
    for (size_t w = 0; w < words; w++) {
        char hex[9];
        memcpy(hex, t + 8 * w, 8);
        hex[8] = 0;
        uint32_t v = (uint32_t)strtoul(hex, NULL, 16);
        memcpy(a->data + 4 * w, &v, 4);
    }
    if (t[8 * words] != ':')
        return false;
    a->port = (uint16_t)strtoul(t + 8 * words + 1, NULL, 16);
    a->kind = family == AF_INET ? ST_ADDR_INET : ST_ADDR_INET6;
    a->family = (uint16_t)family;
    a->len = (uint16_t)(4 * words);
    static const uint8_t zero[16];
    if (a->port == 0 && memcmp(a->data, zero, a->len) == 0)
        a->kind = ST_ADDR_NONE;     /* 0.0.0.0:0: not bound / no peer */
    return true;
}

/* TCP states as /proc prints them (include/net/tcp_states.h) */
static int tcp_state(unsigned st, const struct st_addr *peer)
{
    switch (st) {
    case 0x0A: return ST_STATE_LISTENING;
    case 0x02: return ST_STATE_CONNECTING;                /* SYN_SENT */
    case 0x07: return peer->kind ? ST_STATE_FAILED : ST_STATE_BOUND; /* CLOSE */
    default: return ST_STATE_CONNECTED;   /* ESTABLISHED, SYN_RECV, FIN_*, ... */
    }
}

static void read_inet(struct kview *k, const char *file, int family, int type)
{
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%d/net/%s", k->pid, file);
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    if (!fgets(line, sizeof line, f)) {
        fclose(f);
        return;
    }
    while (fgets(line, sizeof line, f)) {
        char local[64], remote[64];
        unsigned st, uid;
        uint64_t ino;
        if (sscanf(line, " %*[^:]: %63s %63s %x %*s %*s %*s %u %*d %" SCNu64,
                   local, remote, &st, &uid, &ino) != 5)
            continue;
        struct ksock *s = by_inode(k, ino);
        if (!s || ino == 0)
            continue;
        s->listed = true;
        s->s.family = (uint16_t)family;
        s->s.type = (uint16_t)type;
        s->s.protocol = type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
        parse_inet(local, family, &s->s.local);
        parse_inet(remote, family, &s->s.peer);
        if (type == SOCK_STREAM)
            s->s.state = (uint8_t)tcp_state(st, &s->s.peer);
        else
            s->s.state = s->s.peer.kind ? ST_STATE_CONNECTED :
                         s->s.local.kind ? ST_STATE_BOUND : ST_STATE_CREATED;
    }
    fclose(f);
}

static void read_unix(struct kview *k)
{
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%d/net/unix", k->pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    if (!fgets(line, sizeof line, f)) {
        fclose(f);
        return;
    }
    while (fgets(line, sizeof line, f)) {
        unsigned flags, type, st;
        uint64_t ino;
        int used = 0;
        if (sscanf(line, "%*s %*s %*s %x %x %x %" SCNu64 "%n",
                   &flags, &type, &st, &ino, &used) != 4)
            continue;
        struct ksock *s = by_inode(k, ino);
        if (!s)
            continue;
        s->listed = true;
        s->s.family = AF_UNIX;
        s->s.type = (uint16_t)type;
        /* __SO_ACCEPTCON (1 << 16) marks a listener; SS_CONNECTED is 3 */
        s->s.state = (flags & 0x10000) ? ST_STATE_LISTENING :
                     st == 3 ? ST_STATE_CONNECTED : ST_STATE_CREATED;
        const char *p = line + used;
        while (*p == ' ')
            p++;
        size_t l = strcspn(p, "\n");
        struct st_addr *a = &s->s.local;
        a->family = AF_UNIX;
        if (l == 0) {
            a->kind = ST_ADDR_UNNAMED;
        } else {
            if (l > ST_ADDR_DATA)
                l = ST_ADDR_DATA;
            a->kind = ST_ADDR_UNIX;
            memcpy(a->data, p, l);
            if (p[0] == '@')
                a->data[0] = 0;     /* abstract; inner NULs are lost as '@' */
            a->len = (uint16_t)l;
        }
    }
    fclose(f);
}

int kview_load(int pid, struct kview *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->pid = pid;
    int r = list_fds(out, err, errlen);
    if (r != 0) {
        kview_free(out);
        return r;
    }
    if (out->n == 0)
        return 0;
    read_inet(out, "tcp", AF_INET, SOCK_STREAM);
    read_inet(out, "tcp6", AF_INET6, SOCK_STREAM);
    read_inet(out, "udp", AF_INET, SOCK_DGRAM);
    read_inet(out, "udp6", AF_INET6, SOCK_DGRAM);
    read_unix(out);
    return 0;
}

const struct ksock *kview_fd(const struct kview *k, int fd)
{
    size_t lo = 0, hi = k->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (k->v[mid].fd == fd)
            return &k->v[mid];
        if (k->v[mid].fd < fd)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

void kview_free(struct kview *k)
{
    free(k->v);
    k->v = NULL;
    k->n = 0;
}

size_t kview_settle_connects(const struct kview *k, struct st_sock *open, size_t n)
{
    size_t changed = 0;
    for (size_t i = 0; i < n; i++) {
        struct st_sock *t = &open[i];
        if (t->state != ST_STATE_CONNECTING)
            continue;
        const struct ksock *ks = kview_fd(k, t->fd);
        if (!ks)
            continue;       /* the live check deals with a vanished fd */
        if (ks->listed && ks->s.state == ST_STATE_CONNECTING)
            continue;
        bool ok = ks->listed && ks->s.state == ST_STATE_CONNECTED;
        t->state = ok ? ST_STATE_CONNECTED : ST_STATE_FAILED;
        t->outcome = ok ? ST_CONN_OK : ST_CONN_FAILED;
        changed++;
    }
    return changed;
}


static bool same_addr(const struct st_addr *a, const struct st_addr *b)
{
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case ST_ADDR_NONE:
    case ST_ADDR_UNNAMED:
        return true;
    case ST_ADDR_INET:
        return a->port == b->port && memcmp(a->data, b->data, 4) == 0;
    case ST_ADDR_INET6:
        return a->port == b->port && memcmp(a->data, b->data, 16) == 0;
    case ST_ADDR_UNIX:
        if (a->data[0] == 0 || b->data[0] == 0)     /* abstract: see read_unix */
            return a->data[0] == b->data[0];
        return a->len >= b->len ? strncmp((const char *)a->data, (const char *)b->data, a->len) == 0
                                : strncmp((const char *)a->data, (const char *)b->data, b->len) == 0;
    default:
        return true;
    }
}

bool kview_agrees(const struct st_sock *t, const struct ksock *k, const char **why)
{
    *why = "";
    if (!k->listed)
        return true;        /* the kernel tells nothing more to compare */
    if (t->family != k->s.family) {
        *why = "family differs";
        return false;
    }
    if ((t->state == ST_STATE_LISTENING) != (k->s.state == ST_STATE_LISTENING)) {
        *why = t->state == ST_STATE_LISTENING ? "the kernel says not listening"
                                               : "the kernel says listening";
        return false;
    }
    struct st_addr tl = t->local, tp = t->peer;
    if (t->flags & ST_SF_PEER_LAST)
        memset(&tp, 0, sizeof tp);      /* not an association */
    if (t->family == AF_UNIX) {
        /* an unnamed unix socket is absent from the kernel's path column */
        if (tl.kind == ST_ADDR_NONE)
            tl.kind = ST_ADDR_UNNAMED;
        if (!same_addr(&tl, &k->s.local)) {
            *why = "local address differs";
            return false;
        }
        return true;                    /* /proc has no unix peer */
    }
    if (t->family != AF_INET && t->family != AF_INET6)
        return true;
    /* an unbound wildcard on either side reads as "none" */
    if (tl.kind != ST_ADDR_NONE && tl.port == 0 && addr_is_wildcard(&tl))
        tl.kind = ST_ADDR_NONE;
    if (!same_addr(&tl, &k->s.local)) {
        *why = "local address differs";
        return false;
    }
    if (k->s.state != ST_STATE_FAILED && !same_addr(&tp, &k->s.peer)) {
        *why = "peer address differs";
        return false;
    }
    return true;
}
