/* altstack.c - a signal handler on an SS_AUTODISARM alternate stack makes a
 * recorded call while the thread it interrupted is inside the tracer making
 * recorded calls of its own; every call of both must reach the event log.
 * The alternate stack is mapped before the thread is made, so it lies above
 * the thread's own stack (sigaltstack reports SS_DISABLE, not SS_ONSTACK,
 * inside such a handler). Prints "ABOVE yes|no" (whether it does: a
 * bottom-up mmap layout puts it below), "CALLS loop=N handler=H",
 * "READY pid=P", then holds until stdin closes (at once from /dev/null).
 * usage: altstack [CALLS] */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif
#define ALT_SIZE (1 << 16)

static int sock;
static long calls;
static void *alt;
static volatile sig_atomic_t handled;
static volatile int done;

static int ask(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    return getsockname(sock, (struct sockaddr *)&a, &len);
}

static void on_usr1(int sig)
{
    (void)sig;
    if (ask() == 0)
        handled++;
}

static void *loop(void *arg)
{
    stack_t ss = {.ss_sp = alt, .ss_size = ALT_SIZE, .ss_flags = SS_AUTODISARM};
    if (sigaltstack(&ss, NULL) != 0) {
        perror("sigaltstack");
        exit(1);
    }
    char here;
    printf("ABOVE %s\n", (char *)alt > &here ? "yes" : "no");
    long made = 0;
    for (long i = 0; i < calls; i++)
        if (ask() == 0)
            made++;
    done = 1;
    *(long *)arg = made;
    return NULL;
}

int main(int argc, char **argv)
{
    calls = argc > 1 ? atol(argv[1]) : 100000;
    sock = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in lo = {.sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (sock < 0 || bind(sock, (struct sockaddr *)&lo, sizeof lo) != 0) {
        perror("socket/bind");
        return 1;
    }
    alt = mmap(NULL, ALT_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (alt == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_ONSTACK | SA_RESTART};
    sigaction(SIGUSR1, &sa, NULL);
    long made = 0;
    pthread_t t;
    if (pthread_create(&t, NULL, loop, &made) != 0) {
        fprintf(stderr, "pthread_create failed\n");
        return 1;
    }
    unsigned x = 12345;
    while (!done) {
        pthread_kill(t, SIGUSR1);
        x = x * 1103515245u + 12345u;
        for (volatile unsigned spin = (x >> 16) % 20000; spin > 0; spin--)
            ;
    }
    pthread_join(t, NULL);
    printf("CALLS loop=%ld handler=%d\nREADY pid=%d\n", made, (int)handled, (int)getpid());
    fflush(stdout);
    char c;
    while (read(0, &c, 1) > 0)
        ;
    return 0;
}
