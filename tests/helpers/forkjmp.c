/* forkjmp.c - the two ways issue 12 found to leave the tracer's lock held
 * for good, then a look at whether every thread still gets through a
 * hook in microseconds.
 *   1. 4 threads forking at once, FORKS each. Each child makes a UDP
 *      socket bound to 127.0.0.1 port 0, sends "pid port" up a pipe
 *      (every other child closes the socket first) and _exits.
 *      Printed: "CHILD pid=C port=P" per child.
 *      Stops after FORK_SECONDS whatever the count; printed: "FORKS n".
 *   2. A SIGALRM handler siglongjmps out of whatever hook the main thread
 *      is in (socket, connect, close, close_range), JUMPS times. The
 *      signals come from a thread sending one to main every 0-20 us (an
 *      interval timer delivers only a few thousand a second) and from a
 *      timer every 50 us. Stops after JUMP_SECONDS; printed: "JUMPS n".
 * After each: main and 3 new threads each time 100 socket+close pairs;
 * printed: "TIMING after=fork|jump thread=N median_us=M max_us=X".
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
#define PAIRS 100
#define FORK_SECONDS 20
#define JUMP_SECONDS 20

static int forks, report[2];
static _Atomic int forked;
static double fork_end;
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
    for (int i = 0; i < forks && now_us() < fork_end; i++) {
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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

struct timing {
    double median, max;
};

static void *time_pairs(void *arg)
{
    struct timing *t = arg;
    double d[PAIRS];
    for (int i = 0; i < PAIRS; i++) {
        double t0 = now_us();
        int s = socket(AF_INET, SOCK_STREAM, 0);
        close(s);
        d[i] = now_us() - t0;
    }
    qsort(d, PAIRS, sizeof d[0], cmp_double);
    t->median = (d[PAIRS / 2 - 1] + d[PAIRS / 2]) / 2;
    t->max = d[PAIRS - 1];
    return NULL;
}

/* main's 100 pairs, and 3 new threads' at the same time */
static void timing(const char *after)
{
    struct timing t[4];
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&th[i], NULL, time_pairs, &t[i + 1]);
    time_pairs(&t[0]);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++)
        printf("TIMING after=%s thread=%d median_us=%.1f max_us=%.1f\n", after, i,
               t[i].median, t[i].max);
    fflush(stdout);
}

static sigjmp_buf env;
static volatile sig_atomic_t armed;
static volatile long jumps;
static long want;
static pthread_t main_thread;
static double jump_end;

static void *kicker(void *arg)
{
    (void)arg;
    unsigned seed = 1;
    while (jumps < want && now_us() < jump_end) {
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
    jump_end = now_us() + JUMP_SECONDS * 1e6;
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
    while (jumps < want && now_us() < jump_end) {
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
    fork_end = now_us() + FORK_SECONDS * 1e6;
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
    timing("fork");

    printf("JUMPS %ld\n", jump_loop());
    timing("jump");

    printf("READY pid=%d\n", (int)getpid());
    fflush(stdout);
    char c;
    while (read(0, &c, 1) > 0)
        ;
    return 0;
}
