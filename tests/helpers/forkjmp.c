/* forkjmp.c - the two ways issue 12 found to leave the tracer's state stuck
 * for good, then a look at whether every thread's next socket is still
 * recorded.
 *   1. 4 threads forking at once, FORKS each. Each child makes a UDP
 *      socket bound to 127.0.0.1 port 0, sends "pid port" up a pipe
 *      (every other child closes the socket first) and _exits.
 *      Printed: "CHILD pid=C port=P" per child, then "FORKS n".
 *   2. A SIGALRM handler siglongjmps out of whatever hook the main thread
 *      is in (socket, connect, close, close_range), JUMPS times. The
 *      signals come from a thread sending one to main every 0-20 us (an
 *      interval timer delivers only a few thousand a second) and from a
 *      timer every 50 us. Printed: "JUMPS n".
 * Both run to their counts, however slow the machine (the test's timeout
 * is the hang guard). After each, main and 3 new threads each bind a UDP
 * socket to 127.0.0.1 port 0; printed: "PROBE after=fork|jump thread=N
 * fd=F port=P"; they stay open (the jump loop closes only fds above the
 * fork probes).
 * Then "READY pid=P" and it holds still until stdin closes.
 * usage: forkjmp [FORKS_PER_THREAD [JUMPS]] */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FORKERS 4

static int forks, report[2];
static _Atomic int forked;
static struct sockaddr_in loopback;

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void *forker(void *arg)
{
    (void)arg;
    for (int i = 0; i < forks; i++) {
        pid_t p = fork();
        if (p == 0) {
            struct sockaddr_in a = loopback;
            socklen_t len = sizeof a;
            int s = socket(AF_INET, SOCK_DGRAM, 0);
            if (s < 0 || bind(s, (struct sockaddr *)&a, len) ||
                getsockname(s, (struct sockaddr *)&a, &len))
                _exit(1);
            if (i % 2)
                close(s);
            int rec[2] = {(int)getpid(), ntohs(a.sin_port)};
            ssize_t w = write(report[1], rec, sizeof rec);   /* atomic: < PIPE_BUF */
            _exit(w == (ssize_t)sizeof rec ? 0 : 1);
        }
        if (p > 0) {
            forked++;
            waitpid(p, NULL, 0);
        }
        else
            perror("fork");
    }
    return NULL;
}

struct probe {
    int fd, port;
};

static void *probe(void *arg)
{
    struct probe *p = arg;
    struct sockaddr_in a = loopback;
    socklen_t len = sizeof a;
    p->fd = socket(AF_INET, SOCK_DGRAM, 0);
    p->port = -1;
    if (p->fd >= 0 && bind(p->fd, (struct sockaddr *)&a, len) == 0 &&
        getsockname(p->fd, (struct sockaddr *)&a, &len) == 0)
        p->port = ntohs(a.sin_port);
    return NULL;
}

/* main's probe, and 3 new threads' at the same time */
static void probes(const char *after)
{
    struct probe p[4];
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&th[i], NULL, probe, &p[i + 1]);
    probe(&p[0]);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++)
        printf("PROBE after=%s thread=%d fd=%d port=%d\n", after, i, p[i].fd, p[i].port);
    fflush(stdout);
}

static sigjmp_buf env;
static volatile sig_atomic_t armed;
static volatile long jumps;
static long want;
static pthread_t main_thread;

static void *kicker(void *arg)
{
    (void)arg;
    unsigned seed = 1;
    while (jumps < want) {
        double until = now_us() + rand_r(&seed) % 20;
        while (now_us() < until)
            ;
        pthread_kill(main_thread, SIGALRM);
    }
    return NULL;
}

static void on_alarm(int sig)
{
    (void)sig;
    if (armed) {
        armed = 0;
        siglongjmp(env, 1);
    }
}

static long jump_loop(void)
{
    /* a UDP socket to connect the loop's sockets to */
    struct sockaddr_in peer = loopback;
    socklen_t len = sizeof peer;
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    if (u < 0 || bind(u, (struct sockaddr *)&peer, len) ||
        getsockname(u, (struct sockaddr *)&peer, &len)) {
        perror("udp");
        return -1;
    }
    /* every fd from base up is the loop's: after a jump they are closed
     * wholesale, whichever call the jump left half done */
    int base = dup(0);
    close(base);
    struct sigaction sa = {.sa_handler = on_alarm};
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 50}, {0, 50}};
    setitimer(ITIMER_REAL, &it, NULL);
    volatile unsigned i = 0;
    main_thread = pthread_self();
    /* the kicker blocks SIGALRM: the timer's signals go to main too */
    sigset_t alrm, old;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &alrm, &old);
    pthread_t k;
    pthread_create(&k, NULL, kicker, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (sigsetjmp(env, 1)) {
        jumps++;
        close_range((unsigned)base, ~0u, 0);
    }
    while (jumps < want) {
        armed = 1;
        int s;
        switch (i++ % 3) {
        case 0:
            s = socket(AF_INET, SOCK_STREAM, 0);
            close(s);
            break;
        case 1:
            s = socket(AF_INET, SOCK_DGRAM, 0);
            connect(s, (struct sockaddr *)&peer, sizeof peer);
            close(s);
            break;
        default:
            socket(AF_INET, SOCK_DGRAM, 0);
            socket(AF_INET, SOCK_STREAM, 0);
            close_range((unsigned)base, ~0u, 0);
        }
    }
    armed = 0;
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    pthread_join(k, NULL);
    signal(SIGALRM, SIG_IGN);
    close_range((unsigned)base, ~0u, 0);
    close(u);
    return jumps;
}

int main(int argc, char **argv)
{
    forks = argc > 1 ? atoi(argv[1]) : 50;
    want = argc > 2 ? atol(argv[2]) : 100000;
    loopback.sin_family = AF_INET;
    loopback.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (pipe2(report, O_CLOEXEC) != 0) {
        perror("pipe");
        return 1;
    }
    fflush(stdout);
    pthread_t t[FORKERS];
    for (int i = 0; i < FORKERS; i++)
        pthread_create(&t[i], NULL, forker, NULL);
    for (int i = 0; i < FORKERS; i++)
        pthread_join(t[i], NULL);
    close(report[1]);
    int rec[2];
    while (read(report[0], rec, sizeof rec) == (ssize_t)sizeof rec)
        printf("CHILD pid=%d port=%d\n", rec[0], rec[1]);
    close(report[0]);
    printf("FORKS %d\n", (int)forked);
    probes("fork");

    printf("JUMPS %ld\n", jump_loop());
    probes("jump");

    printf("READY pid=%d\n", (int)getpid());
    fflush(stdout);
    char c;
    while (read(0, &c, 1) > 0)
        ;
    return 0;
}
