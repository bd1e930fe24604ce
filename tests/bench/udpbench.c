/* udpbench.c - benchmark workload: M datagrams over two sockets
 * (sendto/recvfrom on loopback), then K short-lived UDP sockets that each
 * send once. Prints the time of both parts together. With --floor each
 * short-lived socket also asks getsockname after its send, the one call
 * the tracer needs to learn the port the kernel bound it to. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    int m = argc > 1 ? atoi(argv[1]) : 200000;
    int k = argc > 2 ? atoi(argv[2]) : 20000;
    int floor = argc > 3 && strcmp(argv[3], "--floor") == 0;
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (bind(s, (struct sockaddr *)&a, len) || getsockname(s, (struct sockaddr *)&a, &len)) {
        perror("bind");
        return 1;
    }
    int c = socket(AF_INET, SOCK_DGRAM, 0);
    char buf[64];
    double t0 = now();
    for (int i = 0; i < m; i++) {
        struct sockaddr_storage from;
        socklen_t fl = sizeof from;
        sendto(c, "ping", 4, 0, (struct sockaddr *)&a, sizeof a);
        recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
    }
    for (int i = 0; i < k; i++) {
        int u = socket(AF_INET, SOCK_DGRAM, 0);
        sendto(u, "x", 1, 0, (struct sockaddr *)&a, sizeof a);
        if (floor) {
            struct sockaddr_in me;
            socklen_t ml = sizeof me;
            getsockname(u, (struct sockaddr *)&me, &ml);
        }
        recv(s, buf, sizeof buf, 0);
        close(u);
    }
    printf("%.6f\n", now() - t0);
    return 0;
}
