/* races.c - three races on one fd number, each pinned as a regression
 * test (t0555). A thread is held in the middle of recording by
 * SOCKTRACE_TEST_STALL (set by the test) or by a signal handler that
 * sleeps, so the other thread's call lands in between.
 *   dup2-bind:   dup2(Z, 50) over a connected X is held between its real
 *                call and its publish; meanwhile bind(50) acts on Z. The
 *                table once showed X's peer with Z's port.
 *   range-dup2:  close_range(50, 51) frees both numbers, then lingers;
 *                meanwhile dup2(Y, 51), held before publishing. The
 *                table once lost fd 51.
 *   signal-close: close(50) interrupted by a SIGALRM handler that closes
 *                fd 50 too, 20,000 times. History once held a close twice.
 * Prints "READY pid=P" then holds still until stdin ends.
 * usage: races MODE */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static void ms(int n)
{
    struct timespec t = {n / 1000, (n % 1000) * 1000000L};
    while (nanosleep(&t, &t))
        ;
}

/* "held": a thread that got this signal sleeps in its handler */
static void on_usr1(int sig)
{
    (void)sig;
    ms(1500);
}

static struct sockaddr_in loopback(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static int listener(struct sockaddr_in *a)
{
    socklen_t l = sizeof *a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)a, sizeof *a) || listen(fd, 8) ||
        getsockname(fd, (struct sockaddr *)a, &l)) {
        perror("listener");
        exit(1);
    }
    return fd;
}

static void *dup2_60_onto_50(void *arg)
{
    (void)arg;
    dup2(60, 50);
    return NULL;
}

static void dup2_bind(void)
{
    struct sockaddr_in a = loopback();
    int l = listener(&a);
    int x = socket(AF_INET, SOCK_STREAM, 0);
    connect(x, (struct sockaddr *)&a, sizeof a);
    accept(l, NULL, NULL);
    dup2(x, 50);                    /* X at 50: connected */
    close(x);
    int z = socket(AF_INET, SOCK_STREAM, 0);
    dup2(z, 60);                    /* Z at 60: fresh */
    close(z);
    pthread_t d;
    pthread_create(&d, NULL, dup2_60_onto_50, NULL);
    ms(100);
    pthread_kill(d, SIGUSR1);       /* held between its dup2 and its publish */
    ms(50);
    /* any traced call: this thread's last clock reading (its loose start
     * of the next call) moves past the held dup2's window */
    close(socket(AF_INET, SOCK_DGRAM, 0));
    struct sockaddr_in b = loopback();
    if (bind(50, (struct sockaddr *)&b, sizeof b) != 0)
        perror("bind 50");
    pthread_join(d, NULL);
    /* the program's own view of fd 50, for the test */
    struct sockaddr_in la, pa;
    socklen_t ll = sizeof la, pl = sizeof pa;
    char ip[INET_ADDRSTRLEN] = "?";
    getsockname(50, (struct sockaddr *)&la, &ll);
    inet_ntop(AF_INET, &la.sin_addr, ip, sizeof ip);
    bool peer = getpeername(50, (struct sockaddr *)&pa, &pl) == 0;
    printf("SOCK pid=%d fd=50 local=%s:%d peer=%s what=dup2-then-bind\n", (int)getpid(), ip,
           ntohs(la.sin_port), peer ? "set" : "-");
}

static pthread_t holder;

static void *dup2_70_onto_51(void *arg)
{
    (void)arg;
    ms(200);
    dup2(70, 51);
    return NULL;
}

static void *hold_it(void *arg)
{
    (void)arg;
    ms(300);
    pthread_kill(holder, SIGUSR1);
    return NULL;
}

static void range_dup2(void)
{
    struct sockaddr_in a = loopback();
    int l = listener(&a);
    int x = socket(AF_INET, SOCK_STREAM, 0), sz = 4096;
    setsockopt(x, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    connect(x, (struct sockaddr *)&a, sizeof a);
    int acc = accept(l, NULL, NULL);
    setsockopt(acc, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    /* fill the peer's buffer: close_range then lingers on x */
    fcntl(x, F_SETFL, O_NONBLOCK);
    char buf[4096] = {0};
    while (send(x, buf, sizeof buf, 0) > 0)
        ;
    fcntl(x, F_SETFL, 0);
    struct linger lg = {1, 1};
    setsockopt(x, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    dup2(x, 50);
    close(x);
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    dup2(u, 51);
    close(u);
    int y = socket(AF_INET, SOCK_DGRAM, 0);
    dup2(y, 70);
    close(y);
    pthread_t k;
    pthread_create(&holder, NULL, dup2_70_onto_51, NULL);
    pthread_create(&k, NULL, hold_it, NULL);
    if (close_range(50, 51, 0) != 0)
        perror("close_range");
    pthread_join(holder, NULL);
    pthread_join(k, NULL);
}

static volatile sig_atomic_t armed;

static void close_50(int sig)
{
    (void)sig;
    if (armed)
        close(50);
}

static void signal_close(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = close_50;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 30}, {0, 30}};
    setitimer(ITIMER_REAL, &it, NULL);
    for (int i = 0; i < 20000; i++) {
        int s = socket(AF_INET, SOCK_DGRAM, 0);
        dup2(s, 50);
        close(s);
        armed = 1;
        close(50);
        armed = 0;
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
}

int main(int argc, char **argv)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "dup2-bind") == 0)
        dup2_bind();
    else if (strcmp(mode, "range-dup2") == 0)
        range_dup2();
    else if (strcmp(mode, "signal-close") == 0)
        signal_close();
    else {
        fprintf(stderr, "usage: races dup2-bind|range-dup2|signal-close\n");
        return 2;
    }
    printf("READY pid=%d\n", (int)getpid());
    fflush(stdout);
    char c;
    while (read(0, &c, 1) > 0)
        ;
    return 0;
}
