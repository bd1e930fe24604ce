/* fork_server.c - a fork-per-connection TCP server on 127.0.0.1:PORT (0:
 * the kernel picks). Prints its port and READY, then each child prints
 * the connection it serves and holds it until stdin closes.
 * usage: fork_server [PORT [CONNECTIONS]] */
#include <signal.h>
#include <sys/wait.h>

#include "example.h"

static void hold(void)
{
    char c;
    while (read(0, &c, 1) > 0)
        ;
}

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 0;
    int conns = argc > 2 ? atoi(argv[2]) : 2;
    int l = ex_listen_tcp("127.0.0.1", port);
    ex_print_sock("listener", l);
    printf("PORT %d\nREADY pid=%d\n", ex_port_of(l), (int)getpid());
    fflush(stdout);
    for (int i = 0; i < conns; i++) {
        int a = accept(l, NULL, NULL);
        if (a < 0)
            DIE("accept");
        if (fork() == 0) {
            close(l);
            ex_print_sock("served", a);
            hold();
            close(a);
            _exit(0);
        }
        close(a);
    }
    hold();
    while (wait(NULL) > 0)
        ;
    return 0;
}
