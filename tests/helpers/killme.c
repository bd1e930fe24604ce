/* killme.c - a writer for t0590 to kill with SIGKILL at a random moment:
 * forever, a TCP or UDP socket, bound to 127.0.0.1 port 0, moved onto
 * one of fds 50-57 by dup2, and now and then one of those closed. It
 * prints nothing; what the test needs it appends to LOG (O_APPEND, one
 * 8-byte record per write, each written before the next call):
 *   {1, fd}    its first socket call returned (the trace must exist)
 *   {2, fd}    about to bind fd: until the next record, fd may hold a
 *              port this log does not list yet
 *   {3, port}  the port the kernel gave that bind
 * usage: killme LOG */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static int log_fd;

static void note(uint32_t kind, uint32_t value)
{
    uint32_t rec[2] = {kind, value};
    if (write(log_fd, rec, sizeof rec) != (ssize_t)sizeof rec)
        _exit(2);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    log_fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (log_fd < 0)
        return 2;
    struct sockaddr_in any = {.sin_family = AF_INET};
    any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (unsigned i = 0;; i++) {
        int s = socket(AF_INET, i % 2 ? SOCK_DGRAM : SOCK_STREAM, 0);
        if (s < 0)
            return 3;
        if (i == 0)
            note(1, (uint32_t)s);
        note(2, (uint32_t)s);
        struct sockaddr_in a = any;
        socklen_t len = sizeof a;
        if (bind(s, (struct sockaddr *)&a, len) || getsockname(s, (struct sockaddr *)&a, &len))
            return 3;
        note(3, ntohs(a.sin_port));
        dup2(s, 50 + (int)(i % 8));
        close(s);
        if (i % 3 == 0)
            close(50 + (int)((i + 4) % 8));
    }
}
