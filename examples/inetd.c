/* inetd.c - case 5: a server started by exec inherits its client socket
 * and only getpeername tells who the client is. Like inetd, this listens,
 * accepts one connection (from a client child it forks), puts it on fds 0
 * and 1, and execs the service:
 *   inetd [--] SERVICE [ARGS...]     e.g. inetd env LD_PRELOAD=... inetd --service
 * With --service it is the service: prints fd 0 as it sees it. */
#include <sys/wait.h>

#include "example.h"

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--service") == 0) {
        ex_out = stderr;
        ex_print_sock("inherited", 0);
        /* stdin is the connection: the client closes it when told to */
        ex_ready_and_wait();
        return 0;
    }
    if (argc < 2) {
        fprintf(stderr, "usage: %s SERVICE [ARGS...]\n", argv[0]);
        return 2;
    }
    int l = ex_listen_tcp("0.0.0.0", 0);
    int port = ex_port_of(l);
    pid_t client = fork();
    if (client == 0) {
        int c = ex_connect_tcp("127.0.0.1", port);
        ex_print_sock("client", c);
        /* holds the connection open until our own stdin (the test) closes */
        char ch;
        while (read(0, &ch, 1) > 0)
            ;
        close(c);
        _exit(0);
    }
    int a = accept(l, NULL, NULL);
    if (a < 0)
        DIE("accept");
    close(l);
    dup2(a, 0);
    dup2(a, 1);
    close(a);
    int first = strcmp(argv[1], "--") == 0 ? 2 : 1;
    execvp(argv[first], argv + first);
    DIE("exec");
}
