/* earlysock.c - a library whose constructor opens a listening socket
 * before the tracer's constructor has run (preloaded after
 * libsocktrace.so, it is initialised first), as a malloc implementation or
 * another library's constructor would. It prints the listener's fd. */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

__attribute__((constructor)) static void early(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 1) != 0) {
        perror("earlysock");
        return;
    }
    /* sh may move stdout around: write the line while it is still ours */
    char line[64];
    int n = snprintf(line, sizeof line, "EARLY fd=%d pid=%d\n", fd, (int)getpid());
    if (write(2, line, (size_t)n) < 0)
        _exit(1);
}
