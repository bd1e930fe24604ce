/* bind_port_zero.c - case 2: bind to port 0 and let the kernel choose,
 * for a TCP listener, a UDP socket and an IPv6 TCP listener. */
#include "example.h"

int main(void)
{
    int t = ex_listen_tcp("127.0.0.1", 0);
    ex_print_sock("tcp-listener", t);

    int u = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in in = {.sin_family = AF_INET};
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(u, (struct sockaddr *)&in, sizeof in) != 0)
        DIE("bind");
    ex_print_sock("udp", u);

    int t6 = ex_listen_tcp("::1", 0);
    ex_print_sock("tcp6-listener", t6);
    ex_ready_and_wait();
    return 0;
}
