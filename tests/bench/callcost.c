/* callcost.c - benchmark workload: the cost of one intercepted call that
 * the tracer records, timed with clock_gettime around a tight loop. Run
 * untraced and traced: the difference per call is the tracer's own work.
 * Prints "KIND ns_per_call" for:
 *   setsockopt   IP_BIND_ADDRESS_NO_PORT toggled 0/1 on a TCP socket
 *   setsockopt-2threads  the same in two threads at once, each on a socket
 *                of its own (per call of one thread): what the threads'
 *                calls cost each other in the tracer's shared state
 *   getsockname  on a bound UDP socket
 *   socket+close a UDP socket made and closed (per pair of calls)
 *   write        one byte to /dev/null: a call the tracer passes through
 *                (only its failures are looked at)
 *   syscall-getpid  syscall(SYS_getpid): a number syscall()'s hook passes
 *                straight through
 * usage: callcost [N] */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void toggle(int n)
{
    int t = socket(AF_INET, SOCK_STREAM, 0);
    for (int i = 0; i < n; i++) {
        int on = i & 1;
        if (setsockopt(t, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on) != 0) {
            perror("setsockopt");
            exit(1);
        }
    }
    close(t);
}

static void *toggler(void *arg)
{
    toggle(*(int *)arg);
    return NULL;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 200000;
    double t0 = now_ns();
    toggle(n);
    printf("setsockopt %.1f\n", (now_ns() - t0) / n);

    pthread_t th[2];
    t0 = now_ns();
    for (int i = 0; i < 2; i++)
        if (pthread_create(&th[i], NULL, toggler, &n) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            return 1;
        }
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    printf("setsockopt-2threads %.1f\n", (now_ns() - t0) / n);

    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    if (bind(u, (struct sockaddr *)&a, len) != 0) {
        perror("bind");
        return 1;
    }
    t0 = now_ns();
    for (int i = 0; i < n; i++) {
        len = sizeof a;
        getsockname(u, (struct sockaddr *)&a, &len);
    }
    printf("getsockname %.1f\n", (now_ns() - t0) / n);

    int pairs = n / 4;
    t0 = now_ns();
    for (int i = 0; i < pairs; i++)
        close(socket(AF_INET, SOCK_DGRAM, 0));
    printf("socket+close %.1f\n", (now_ns() - t0) / pairs);

    int null = open("/dev/null", O_WRONLY);
    t0 = now_ns();
    for (int i = 0; i < n; i++)
        if (write(null, "x", 1) != 1) {
            perror("write");
            return 1;
        }
    printf("write %.1f\n", (now_ns() - t0) / n);

    long sum = 0;
    t0 = now_ns();
    for (int i = 0; i < n; i++)
        sum += syscall(SYS_getpid);
    printf("syscall-getpid %.1f\n", (now_ns() - t0) / n);
    return sum == (long)n * getpid() ? 0 : 1;
}
