/* stall.c - a writer stopped in the middle of recording must not slow
 * the others. Run with SOCKTRACE_TEST_STALL=100:MS, which makes the
 * tracer sleep MS ms in the middle of any record for fd 100 (slot
 * reserved and record built, neither published).
 * Setup: socket X bound to 127.0.0.1 port P1 is moved onto fd 100 (that
 * record stalls too); socket Y is bound to P2. Prints
 * "STALLING P1=.. P2=.." and then, at once:
 *   thread A dup2s Y onto fd 100 (the stalled record) and times it;
 *   threads B and C, 50 ms later, each time CYCLES socket+bind(port 0)+
 *   close cycles.
 * Prints "A_DONE ms=.." when A's dup2 returns, "B max_us=.. total_ms=.."
 * and the same for C as they finish, then "READY pid=P" and it holds
 * still until stdin closes.
 * usage: stall [CYCLES] */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define STALL_FD 100

static int cycles, y;
static struct sockaddr_in any_port;

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int bound(int *port)
{
    struct sockaddr_in a = any_port;
    socklen_t len = sizeof a;
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0 || bind(s, (struct sockaddr *)&a, len) ||
        getsockname(s, (struct sockaddr *)&a, &len)) {
        perror("bound socket");
        exit(1);
    }
    *port = ntohs(a.sin_port);
    return s;
}

static void *writer_a(void *arg)
{
    (void)arg;
    double t0 = now_us();
    dup2(y, STALL_FD);
    printf("A_DONE ms=%.1f\n", (now_us() - t0) / 1e3);
    fflush(stdout);
    return NULL;
}

static void *writer_bc(void *arg)
{
    const char *name = arg;
    struct timespec delay = {0, 50 * 1000 * 1000};
    nanosleep(&delay, NULL);
    double max = 0, t0 = now_us();
    for (int i = 0; i < cycles; i++) {
        double c0 = now_us();
        int port;
        close(bound(&port));
        double d = now_us() - c0;
        if (d > max)
            max = d;
    }
    printf("%s max_us=%.1f total_ms=%.1f\n", name, max, (now_us() - t0) / 1e3);
    fflush(stdout);
    return NULL;
}

int main(int argc, char **argv)
{
    cycles = argc > 1 ? atoi(argv[1]) : 1000;
    any_port.sin_family = AF_INET;
    any_port.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int p1, p2;
    int x = bound(&p1);
    double t0 = now_us();
    dup2(x, STALL_FD);
    printf("SETUP ms=%.1f\n", (now_us() - t0) / 1e3);
    close(x);
    y = bound(&p2);
    printf("STALLING P1=%d P2=%d\n", p1, p2);
    fflush(stdout);
    pthread_t a, b, c;
    pthread_create(&a, NULL, writer_a, NULL);
    pthread_create(&b, NULL, writer_bc, "B");
    pthread_create(&c, NULL, writer_bc, "C");
    pthread_join(b, NULL);
    pthread_join(c, NULL);
    pthread_join(a, NULL);
    close(y);
    printf("READY pid=%d\n", (int)getpid());
    fflush(stdout);
    char ch;
    while (read(0, &ch, 1) > 0)
        ;
    return 0;
}
