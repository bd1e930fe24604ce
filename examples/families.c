/* families.c - case 3: the family, type and protocol come from the socket
 * itself. Opens one socket of each kind the tracer names and prints what
 * the kernel reports for each (SO_DOMAIN, SO_TYPE, SO_PROTOCOL). */
#include <linux/netlink.h>

#include "example.h"

static void kind(const char *label, int fd)
{
    int d = 0, t = 0, p = 0;
    socklen_t l = sizeof d;
    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &d, &l);
    l = sizeof t;
    getsockopt(fd, SOL_SOCKET, SO_TYPE, &t, &l);
    l = sizeof p;
    getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &p, &l);
    printf("KIND fd=%d domain=%d type=%d protocol=%d what=%s\n", fd, d, t, p, label);
    ex_print_sock(label, fd);
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "/tmp/socktrace-example.sock";
    kind("tcp", socket(AF_INET, SOCK_STREAM, 0));
    kind("udp6", socket(AF_INET6, SOCK_DGRAM, 0));

    int u = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    snprintf(un.sun_path, sizeof un.sun_path, "%s", path);
    unlink(path);
    if (bind(u, (struct sockaddr *)&un, sizeof un) != 0)
        DIE("bind unix");
    listen(u, 4);
    kind("unix-path", u);

    int a = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un ab = {.sun_family = AF_UNIX};
    const char name[] = "socktrace-example";
    memcpy(ab.sun_path + 1, name, sizeof name - 1);
    if (bind(a, (struct sockaddr *)&ab,
             (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + sizeof name - 1)) != 0)
        DIE("bind abstract");
    kind("unix-abstract", a);

    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        DIE("socketpair");
    kind("unix-pair-0", sv[0]);
    kind("unix-pair-1", sv[1]);

    int nl = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
    if (nl >= 0)
        kind("netlink", nl);
    ex_ready_and_wait();
    unlink(path);
    return 0;
}
