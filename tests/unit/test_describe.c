/* test_describe.c - sockaddr to st_addr to text, against known strings. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/un.h>

#include "describe.h"
#include "sockaddr_conv.h"
#include "tap.h"

static const char *text_of(const void *sa, socklen_t len, int family)
{
    static char buf[ADDR_TEXT_MAX];
    struct st_addr a;
    st_addr_from(&a, sa, len, family);
    if (!addr_text(&a, buf, sizeof buf))
        return "(none)";
    return buf;
}

int main(void)
{
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(8080)};
    inet_pton(AF_INET, "192.0.2.7", &in.sin_addr);
    IS_STR(text_of(&in, sizeof in, AF_INET), "192.0.2.7:8080", "IPv4 address and port");

    struct sockaddr_in any = {.sin_family = AF_INET};
    IS_STR(text_of(&any, sizeof any, AF_INET), "(none)", "0.0.0.0:0 is not bound: no address");
    any.sin_port = htons(53);
    IS_STR(text_of(&any, sizeof any, AF_INET), "0.0.0.0:53", "wildcard with a port is shown");

    struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = htons(443)};
    inet_pton(AF_INET6, "2001:db8::1", &in6.sin6_addr);
    IS_STR(text_of(&in6, sizeof in6, AF_INET6), "[2001:db8::1]:443", "IPv6 in brackets");
    inet_pton(AF_INET6, "::ffff:127.0.0.1", &in6.sin6_addr);
    IS_STR(text_of(&in6, sizeof in6, AF_INET6), "127.0.0.1:443", "v4-mapped shown as IPv4");
    inet_pton(AF_INET6, "fe80::1", &in6.sin6_addr);
    in6.sin6_scope_id = 1;  /* lo */
    IS_STR(text_of(&in6, sizeof in6, AF_INET6), "[fe80::1%lo]:443", "scope shown by interface name");

    struct sockaddr_un un = {.sun_family = AF_UNIX, .sun_path = "/run/x.sock"};
    socklen_t ulen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(un.sun_path) + 1);
    IS_STR(text_of(&un, ulen, AF_UNIX), "/run/x.sock", "unix path (length with NUL)");
    IS_STR(text_of(&un, sizeof un, AF_UNIX), "/run/x.sock", "unix path (full sockaddr_un length)");
    struct sockaddr_un ab = {.sun_family = AF_UNIX};
    memcpy(ab.sun_path + 1, "name", 4);
    IS_STR(text_of(&ab, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 5), AF_UNIX),
           "@name", "abstract name with @");
    sa_family_t fam = AF_UNIX;
    IS_STR(text_of(&fam, sizeof fam, AF_UNIX), "(none)", "unnamed unix socket: no address");
    struct st_addr a;
    st_addr_from(&a, (void *)&fam, sizeof fam, AF_UNIX);
    OK(a.kind == ST_ADDR_UNNAMED, "unnamed unix socket is kind UNNAMED");
    st_addr_from(&a, NULL, 0, AF_INET);
    OK(a.kind == ST_ADDR_NONE, "no address is kind NONE");

    struct sockaddr_in six = in;
    st_addr_from(&a, (void *)&six, sizeof six - 1, AF_INET);
    OK(a.kind == ST_ADDR_OTHER, "a short IPv4 sockaddr is kept raw, not misread");

    in.sin_port = 0;
    st_addr_from(&a, (void *)&in, sizeof in, AF_INET);
    OK(st_addr_incomplete(&a), "port 0 needs the kernel's answer");
    in.sin_port = htons(1);
    st_addr_from(&a, (void *)&in, sizeof in, AF_INET);
    OK(!st_addr_incomplete(&a), "a full address does not");

    char buf[32];
    IS_STR(errno_name(111, buf, sizeof buf), "ECONNREFUSED", "errno 111 by name");
    IS_STR(errno_name(4095, buf, sizeof buf), "E4095", "unknown errno by number");
    duration_text(1500000000ull, buf, sizeof buf);
    IS_STR(buf, "1.5s", "durations");
    return DONE();
}
