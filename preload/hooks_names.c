/* hooks_names.c - name lookups: getaddrinfo and the gethostbyname family.
 * Each address a lookup returns is remembered with the name the program
 * asked for, so the viewer can show `93.184.216.34:443 (example.com)`.
 * The lookup itself is untouched; numeric names teach nothing and are
 * skipped. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <string.h>

#include "hooks.h"
#include "sockaddr_conv.h"
#include "tracer.h"

static bool numeric(const char *name)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1;
}

/* One address of a lookup: into the name ring, and the first one into the
 * lookup's event. */
static void remember(const char *name, int family, const void *addr,
                     struct st_addr *first, uint64_t now)
{
    uint8_t a[16] = {0};
    memcpy(a, addr, family == AF_INET ? 4 : 16);
    st_name_push(family, a, name, now);
    if (first->kind != ST_ADDR_NONE)
        return;
    first->kind = family == AF_INET ? ST_ADDR_INET : ST_ADDR_INET6;
    first->family = (uint16_t)family;
    first->len = family == AF_INET ? 4 : 16;
    memcpy(first->data, a, first->len);
}

static void lookup_done(int call, const char *name, const struct addrinfo *ai,
                        const struct hostent *he)
{
    if (!name || !*name || numeric(name) || !st_active())
        return;
    struct st_addr first, none;
    memset(&first, 0, sizeof first);
    memset(&none, 0, sizeof none);
    uint64_t now = st_now();
    long n = 0;
    for (; ai; ai = ai->ai_next) {
        const struct sockaddr *sa = ai->ai_addr;
        if (!sa)
            continue;
        if (sa->sa_family == AF_INET && ai->ai_addrlen >= sizeof(struct sockaddr_in))
            remember(name, AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, &first, now);
        else if (sa->sa_family == AF_INET6 && ai->ai_addrlen >= sizeof(struct sockaddr_in6))
            remember(name, AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, &first, now);
        else
            continue;
        n++;
    }
    if (he && (he->h_addrtype == AF_INET || he->h_addrtype == AF_INET6) &&
        he->h_length == (he->h_addrtype == AF_INET ? 4 : 16))
        for (char **p = he->h_addr_list; p && *p; p++, n++)
            remember(name, he->h_addrtype, *p, &first, now);
    if (n)
        st_emit_addrs(call, -1, -1, n, 0, &none, &first, 0);
}

ST_EXPORT int getaddrinfo(const char *node, const char *service,
                          const struct addrinfo *hints, struct addrinfo **res)
{
    if (!NEED(getaddrinfo)) {
        errno = ENOSYS;
        return EAI_SYSTEM;
    }
    int ret = REAL(getaddrinfo)(node, service, hints, res);
    int err = errno;
    if (ret == 0 && res && !(hints && (hints->ai_flags & AI_NUMERICHOST)))
        lookup_done(ST_CALL_GETADDRINFO, node, *res, NULL);
    errno = err;
    return ret;
}

ST_EXPORT struct hostent *gethostbyname(const char *name)
{
    if (!NEED(gethostbyname)) {
        h_errno = NO_RECOVERY;
        return NULL;
    }
    struct hostent *he = REAL(gethostbyname)(name);
    int err = errno;
    if (he)
        lookup_done(ST_CALL_GETHOSTBYNAME, name, NULL, he);
    errno = err;
    return he;
}

ST_EXPORT struct hostent *gethostbyname2(const char *name, int af)
{
    if (!NEED(gethostbyname2)) {
        h_errno = NO_RECOVERY;
        return NULL;
    }
    struct hostent *he = REAL(gethostbyname2)(name, af);
    int err = errno;
    if (he)
        lookup_done(ST_CALL_GETHOSTBYNAME, name, NULL, he);
    errno = err;
    return he;
}

ST_EXPORT int gethostbyname_r(const char *name, struct hostent *ret, char *buf,
                              size_t len, struct hostent **result, int *herr)
{
    if (!NEED(gethostbyname_r)) {
        *result = NULL;
        *herr = NO_RECOVERY;
        return ENOSYS;
    }
    int r = REAL(gethostbyname_r)(name, ret, buf, len, result, herr);
    int err = errno;
    if (r == 0 && *result)
        lookup_done(ST_CALL_GETHOSTBYNAME, name, NULL, *result);
    errno = err;
    return r;
}

ST_EXPORT int gethostbyname2_r(const char *name, int af, struct hostent *ret,
                               char *buf, size_t len, struct hostent **result,
                               int *herr)
{
    if (!NEED(gethostbyname2_r)) {
        *result = NULL;
        *herr = NO_RECOVERY;
        return ENOSYS;
    }
    int r = REAL(gethostbyname2_r)(name, af, ret, buf, len, result, herr);
    int err = errno;
    if (r == 0 && *result)
        lookup_done(ST_CALL_GETHOSTBYNAME, name, NULL, *result);
    errno = err;
    return r;
}
