/* wildcard_server.c - case 4: a server on the wildcard address learns the
 * local IP of each connection only from the accepted socket. Listens on
 * [::]:0 (dual stack), connects to itself over 127.0.0.1 and over ::1,
 * and accepts once with a peer buffer and once with NULL. */
#include "example.h"

int main(void)
{
    int l = ex_listen_tcp("::", 0);
    int port = ex_port_of(l);
    ex_print_sock("listener", l);

    int c1 = ex_connect_tcp("127.0.0.1", port);
    struct sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    int a1 = accept(l, (struct sockaddr *)&peer, &plen);
    if (a1 < 0)
        DIE("accept");
    int c2 = ex_connect_tcp("::1", port);
    int a2 = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    if (a2 < 0)
        DIE("accept4");
    ex_print_sock("client-v4", c1);
    ex_print_sock("accepted-v4", a1);
    ex_print_sock("client-v6", c2);
    ex_print_sock("accepted-v6-null-addr", a2);
    ex_ready_and_wait();
    return 0;
}
