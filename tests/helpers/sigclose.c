/* sigclose.c - a signal handler that closes sockets while the interrupted
 * thread is inside the tracer (creating and closing sockets in a loop).
 * Runs a bounded number of rounds, then holds for the test to compare the
 * table with /proc. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define POOL 32
static volatile sig_atomic_t pool[POOL];
static volatile sig_atomic_t next_victim, handled;

static void on_alarm(int sig)
{
    (void)sig;
    int i = next_victim;
    if (pool[i] > 0) {
        close(pool[i]);
        pool[i] = -1;
        handled++;
    }
    next_victim = (i + 1) % POOL;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 200000;
    for (int i = 0; i < POOL; i++)
        pool[i] = socket(AF_INET, SOCK_DGRAM, 0);
    struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 200}, {0, 200}};
    setitimer(ITIMER_REAL, &it, NULL);
    for (int r = 0; r < rounds && handled < POOL; r++) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        close(s);
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    printf("HANDLED %d\nREADY pid=%d\n", (int)handled, (int)getpid());
    fflush(stdout);
    char c;
    while (read(0, &c, 1) > 0)
        ;
    return 0;
}
