/* stall.c - a writer stopped in the middle of recording must not hold up
 * the others. Run with SOCKTRACE_TEST_STALL=100:MS:PATH, which makes the
 * tracer sleep in the middle of any record for fd 100 (slot reserved and
 * record built, neither published) while PATH exists, MS ms at most.
 * Setup (PATH not there yet, no stall): socket X bound to 127.0.0.1 port
 * P1 is moved onto fd 100; socket Y is bound to P2. Then PATH is made,
 * "STALLING P1=.. P2=.." printed, and at once:
 *   thread A dup2s Y onto fd 100 (the stalled record);
 *   once the kernel shows A asleep in the stall, "A_ASLEEP" is printed
 *   and threads B and C each run CYCLES socket+bind(port 0)+close cycles.
 * Prints "A_DONE" when A's dup2 returns (when the test removes PATH),
 * "B_DONE cycles=N" and the same for C as they finish, then
 * "READY pid=P" and it holds still until stdin closes.
 * usage: stall [CYCLES] */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define STALL_FD 100

static int cycles, y;
static struct sockaddr_in any_port;
static _Atomic pid_t a_tid;

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

/* A is in the stall when the kernel shows its thread in a sleep call
 * (/proc/self/task/TID/syscall); a 60 s guard, then B and C go anyway
 * and the test sees no A_ASLEEP */
static void wait_for_a_asleep(void)
{
    char path[64], buf[64];
    for (int i = 0; i < 60000; i++) {
        pid_t t = a_tid;
        if (t) {
            snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)t);
            int fd = open(path, O_RDONLY);
            ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
            if (fd >= 0)
                close(fd);
            if (n > 0) {
                buf[n] = 0;
                long nr = strtol(buf, NULL, 10);
                if (nr == SYS_nanosleep || nr == SYS_clock_nanosleep) {
                    printf("A_ASLEEP\n");
                    fflush(stdout);
                    return;
                }
            }
        }
        struct timespec ms = {0, 1000 * 1000};
        nanosleep(&ms, NULL);
    }
}

static void *writer_a(void *arg)
{
    (void)arg;
    a_tid = (pid_t)syscall(SYS_gettid);
    dup2(y, STALL_FD);
    printf("A_DONE\n");
    fflush(stdout);
    return NULL;
}

static void *writer_bc(void *arg)
{
    const char *name = arg;
    int i;
    for (i = 0; i < cycles; i++) {
        int port;
        close(bound(&port));
    }
    printf("%s_DONE cycles=%d\n", name, i);
    fflush(stdout);
    return NULL;
}

int main(int argc, char **argv)
{
    cycles = argc > 1 ? atoi(argv[1]) : 1000;
    const char *spec = getenv("SOCKTRACE_TEST_STALL");
    const char *hold = spec ? strchr(spec, ':') : NULL;
    hold = hold ? strchr(hold + 1, ':') : NULL;
    if (!hold) {
        fprintf(stderr, "stall: SOCKTRACE_TEST_STALL=FD:MS:PATH not set\n");
        return 2;
    }
    hold++;
    any_port.sin_family = AF_INET;
    any_port.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int p1, p2;
    int x = bound(&p1);
    dup2(x, STALL_FD);
    close(x);
    y = bound(&p2);
    int h = open(hold, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (h < 0) {
        perror(hold);
        return 2;
    }
    close(h);
    printf("STALLING P1=%d P2=%d\n", p1, p2);
    fflush(stdout);
    pthread_t a, b, c;
    pthread_create(&a, NULL, writer_a, NULL);
    wait_for_a_asleep();
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
