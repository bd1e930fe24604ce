/* connloop.c - benchmark workload: N loopback TCP connections in one
 * process (socket, connect, accept, close both). Prints the loop's time.
 * With --floor it also makes, itself, the calls the tracer's budget allows
 * (getsockname after connect, TCP_INFO before each close): the cost no
 * tracer of this design can go below. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 20000;
    int floor = argc > 2 && strcmp(argv[2], "--floor") == 0;
    struct sockaddr_storage ss;
    struct tcp_info ti;
    socklen_t sl;
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (bind(l, (struct sockaddr *)&a, len) || listen(l, 128) ||
        getsockname(l, (struct sockaddr *)&a, &len)) {
        perror("listen");
        return 1;
    }
    double t0 = now();
    for (int i = 0; i < n; i++) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(c, (struct sockaddr *)&a, sizeof a) != 0) {
            perror("connect");
            return 1;
        }
        if (floor) {
            sl = sizeof ss;
            getsockname(c, (struct sockaddr *)&ss, &sl);
        }
        int s = accept(l, NULL, NULL);
        if (floor) {
            sl = sizeof ti;
            getsockopt(s, IPPROTO_TCP, TCP_INFO, &ti, &sl);
            sl = sizeof ti;
            getsockopt(c, IPPROTO_TCP, TCP_INFO, &ti, &sl);
        }
        /* the server closes first: its side takes TIME_WAIT, not the
         * client's port, so the loop does not run out of ports */
        close(s);
        close(c);
    }
    printf("%.6f\n", now() - t0);
    return 0;
}
