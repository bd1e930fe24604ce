/* udp_server.c - an iterative UDP echo server on 127.0.0.1:0, with a
 * client socket in the same process that never binds: its first sendto
 * makes the kernel choose its port. Serves N datagrams, then holds.
 * usage: udp_server [DATAGRAMS] */
#include "example.h"

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 3;
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in in = {.sin_family = AF_INET};
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&in, sizeof in) != 0)
        DIE("bind");
    socklen_t len = sizeof in;
    getsockname(s, (struct sockaddr *)&in, &len);
    ex_print_sock("server", s);

    int c = socket(AF_INET, SOCK_DGRAM, 0);
    for (int i = 0; i < n; i++) {
        char buf[64];
        struct sockaddr_storage from;
        socklen_t flen = sizeof from;
        if (sendto(c, "ping", 4, 0, (struct sockaddr *)&in, sizeof in) != 4)
            DIE("sendto");
        ssize_t r = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen);
        if (r < 0)
            DIE("recvfrom");
        sendto(s, buf, (size_t)r, 0, (struct sockaddr *)&from, flen);
        recv(c, buf, sizeof buf, 0);
    }
    ex_print_sock("client", c);
    ex_ready_and_wait();
    return 0;
}
