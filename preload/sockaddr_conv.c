/* sockaddr_conv.c - sockaddr to st_addr. Kept apart from the hooks so the
 * unit tests reach it without loading the preload. */
#include "sockaddr_conv.h"

#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/un.h>

void st_addr_from(struct st_addr *out, const struct sockaddr *sa, socklen_t len,
                  int sock_family)
{
    memset(out, 0, sizeof *out);
    if (!sa || len < sizeof(sa_family_t)) {
        /* a unix socket with no name reports just the family, or nothing */
        if (sock_family == AF_UNIX && sa) {
            out->kind = ST_ADDR_UNNAMED;
            out->family = AF_UNIX;
        }
        return;
    }
    out->family = sa->sa_family;
    switch (sa->sa_family) {
    case AF_UNSPEC:
        out->kind = ST_ADDR_NONE;
        break;
    case AF_INET: {
        struct sockaddr_in in;
        if (len < sizeof in)
            goto other;
        memcpy(&in, sa, sizeof in);
        out->kind = ST_ADDR_INET;
        out->port = ntohs(in.sin_port);
        out->len = 4;
        memcpy(out->data, &in.sin_addr, 4);
        break;
    }
    case AF_INET6: {
        struct sockaddr_in6 in6;
        if (len < sizeof in6)
            goto other;
        memcpy(&in6, sa, sizeof in6);
        out->kind = ST_ADDR_INET6;
        out->port = ntohs(in6.sin6_port);
        out->scope = in6.sin6_scope_id;
        out->len = 16;
        memcpy(out->data, &in6.sin6_addr, 16);
        break;
    }
    case AF_UNIX: {
        size_t off = offsetof(struct sockaddr_un, sun_path);
        size_t n = len > off ? len - off : 0;
        if (n > ST_ADDR_DATA)
            n = ST_ADDR_DATA;
        const char *path = (const char *)sa + off;
        /* a pathname's length counts its terminating NUL when the kernel
         * reports it; an abstract name (leading NUL) uses every byte */
        if (n > 0 && path[0] != '\0')
            n = strnlen(path, n);
        if (n == 0) {
            out->kind = ST_ADDR_UNNAMED;
            break;
        }
        out->kind = ST_ADDR_UNIX;
        out->len = (uint16_t)n;
        memcpy(out->data, path, n);
        break;
    }
    default:
    other: {
        size_t n = len - sizeof(sa_family_t);
        if (n > ST_ADDR_DATA)
            n = ST_ADDR_DATA;
        out->kind = ST_ADDR_OTHER;
        out->len = (uint16_t)n;
        memcpy(out->data, (const char *)sa + sizeof(sa_family_t), n);
        break;
    }
    }
}

static const uint8_t zero16[16];

bool st_addr_is_wildcard(const struct st_addr *a)
{
    if (a->kind == ST_ADDR_INET)
        return memcmp(a->data, zero16, 4) == 0;
    if (a->kind == ST_ADDR_INET6)
        return memcmp(a->data, zero16, 16) == 0;
    return false;
}

bool st_addr_incomplete(const struct st_addr *a)
{
    if (a->kind != ST_ADDR_INET && a->kind != ST_ADDR_INET6)
        return false;
    return a->port == 0 || st_addr_is_wildcard(a);
}

bool st_addr_same(const struct st_addr *a, const struct st_addr *b)
{
    return a->kind == b->kind && a->port == b->port && a->len == b->len &&
           a->scope == b->scope && memcmp(a->data, b->data, a->len) == 0;
}

bool st_addr_ip16(const struct st_addr *a, uint8_t out[16])
{
    static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
    memset(out, 0, 16);
    if (a->kind == ST_ADDR_INET) {
        memcpy(out, mapped, 12);
        memcpy(out + 12, a->data, 4);
        return true;
    }
    if (a->kind == ST_ADDR_INET6) {
        memcpy(out, a->data, 16);
        return true;
    }
    return false;
}
