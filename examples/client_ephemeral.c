/* client_ephemeral.c - case 1: a TCP client that never calls bind. The
 * kernel picks its local IP and port at connect time; with --nonblock the
 * connect returns EINPROGRESS first.
 * usage: client_ephemeral IP PORT [--nonblock] */
#include <fcntl.h>
#include <poll.h>

#include "example.h"

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s IP PORT [--nonblock]\n", argv[0]);
        return 2;
    }
    int fd;
    if (argc > 3 && strcmp(argv[3], "--nonblock") == 0) {
        struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
        inet_pton(AF_INET, argv[1], &in.sin_addr);
        fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (connect(fd, (struct sockaddr *)&in, sizeof in) != 0 && errno != EINPROGRESS)
            DIE("connect");
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        poll(&p, 1, 5000);
        int err = 0;
        socklen_t l = sizeof err;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
        if (err)
            fprintf(stderr, "connect: %s\n", strerror(err));
    } else {
        fd = ex_connect_tcp(argv[1], atoi(argv[2]));
    }
    ex_print_sock("client", fd);
    ex_ready_and_wait();
    close(fd);
    return 0;
}
