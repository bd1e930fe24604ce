/* churn.c - the stress of issue 12's first bullet: 4 threads churning
 * socket, bind (127.0.0.1 port 0), listen, connect/accept, dup2,
 * fcntl(F_DUPFD_CLOEXEC) and close over one shared range of fd numbers,
 * while a SIGALRM handler (every 200 us) closes sockets the threads handed
 * it and random numbers of the range. Then close_range over half the
 * range, and fork: the child changes its own table a little and holds
 * still too, so both tables can be held against the kernel.
 * Prints "CHILD pid=C" (from the child) then "READY pid=P"; both read
 * stdin until end-of-file.
 * usage: churn [ITERATIONS_PER_THREAD] */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define THREADS 4
#define LO 200
#define SPAN 48
#define POOL 16

static struct sockaddr_in listen_addr, any_port;
static int listener, iterations;

/* Sockets handed to the signal handler. A thread puts an fd it will not
 * touch again into an empty slot (CAS -1 -> fd); the handler takes it
 * (exchange -> -1) and closes it. One atomic per slot, no lock: the
 * handler may run in any thread, also in two at once. */
static atomic_int pool[POOL];
static atomic_uint ticks, handled;

static void on_alarm(int sig)
{
    (void)sig;
    int saved = errno;
    unsigned t = atomic_fetch_add_explicit(&ticks, 1, memory_order_relaxed);
    if (t % 4 == 3) {
        /* a random number of the shared range, socket or not */
        close(LO + (int)((t * 2654435761u) >> 8) % SPAN);
    } else {
        int fd = atomic_exchange_explicit(&pool[t % POOL], -1, memory_order_acq_rel);
        if (fd >= 0) {
            close(fd);
            atomic_fetch_add_explicit(&handled, 1, memory_order_relaxed);
        }
    }
    errno = saved;
}

/* hand fd to the handler, or close it ourselves if the pool is full */
static void hand_over(int fd, unsigned *seed)
{
    int expect = -1;
    if (!atomic_compare_exchange_strong(&pool[rand_r(seed) % POOL], &expect, fd))
        close(fd);
}

static int target(unsigned *seed)
{
    return LO + (int)(rand_r(seed) % SPAN);
}

/* a socket bound to 127.0.0.1 port 0: UDP (ss shows it unconnected) or
 * TCP listening (ss shows listeners; a bound-only TCP socket it does not) */
static int bound_socket(unsigned *seed)
{
    int udp = rand_r(seed) % 2;
    int s = socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
    if (s < 0)
        return -1;
    if (bind(s, (struct sockaddr *)&any_port, sizeof any_port) == 0 && !udp)
        listen(s, 4);
    return s;
}

static void *worker(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg * 7919u + 17;
    for (int i = 0; i < iterations; i++) {
        switch (rand_r(&seed) % 8) {
        case 0: { /* a plain socket onto a shared number */
            int s = socket(AF_INET, SOCK_STREAM, 0);
            if (s >= 0) {
                dup2(s, target(&seed));
                close(s);
            }
            break;
        }
        case 1: { /* bound to port 0, onto a shared number or to the handler */
            int s = bound_socket(&seed);
            if (s < 0)
                break;
            if (rand_r(&seed) % 2) {
                dup2(s, target(&seed));
                close(s);
            } else {
                hand_over(s, &seed);
            }
            break;
        }
        case 2: { /* a connection: both ends onto shared numbers */
            int c = socket(AF_INET, SOCK_STREAM, 0);
            if (c < 0)
                break;
            connect(c, (struct sockaddr *)&listen_addr, sizeof listen_addr);
            int a = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
            dup2(c, target(&seed));
            close(c);
            if (a >= 0) {
                if (rand_r(&seed) % 2)
                    dup2(a, target(&seed));
                close(a);
            }
            break;
        }
        case 3: { /* F_DUPFD_CLOEXEC from a shared number into the range */
            int d = fcntl(target(&seed), F_DUPFD_CLOEXEC, LO);
            if (d >= 0) {
                if (d >= LO + SPAN || rand_r(&seed) % 2)
                    close(d);
                else if (rand_r(&seed) % 2)
                    hand_over(d, &seed);
            }
            break;
        }
        case 4:
            close(target(&seed));
            break;
        case 5: { /* dup2 between two shared numbers */
            dup2(target(&seed), target(&seed));
            break;
        }
        case 6: { /* a UDP socket whose sendto binds it */
            int u = socket(AF_INET, SOCK_DGRAM, 0);
            if (u >= 0) {
                sendto(u, "x", 1, 0, (struct sockaddr *)&listen_addr, sizeof listen_addr);
                dup2(u, target(&seed));
                close(u);
            }
            break;
        }
        default: { /* dup3 with O_CLOEXEC */
            int s = socket(AF_INET, SOCK_DGRAM, 0);
            if (s >= 0) {
                dup3(s, target(&seed), O_CLOEXEC);
                close(s);
            }
        }
        }
    }
    return NULL;
}

static void hold(void)
{
    char c;
    while (read(0, &c, 1) > 0)
        ;
}

int main(int argc, char **argv)
{
    iterations = argc > 1 ? atoi(argv[1]) : 3000;
    any_port.sin_family = AF_INET;
    any_port.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    listen_addr = any_port;
    socklen_t len = sizeof listen_addr;
    listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (bind(listener, (struct sockaddr *)&listen_addr, len) || listen(listener, 4096) ||
        getsockname(listener, (struct sockaddr *)&listen_addr, &len)) {
        perror("listen");
        return 1;
    }
    for (int i = 0; i < POOL; i++)
        atomic_init(&pool[i], -1);
    struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 200}, {0, 200}};
    setitimer(ITIMER_REAL, &it, NULL);

    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);

    /* the first half of the range, whatever it holds */
    if (close_range(LO, LO + SPAN / 2 - 1, 0) != 0)
        perror("close_range");

    int sync[2];
    if (pipe(sync) != 0) {
        perror("pipe");
        return 1;
    }
    fflush(stdout);
    pid_t child = fork();
    if (child < 0) {
        perror("fork");
        return 1;
    }
    if (child == 0) {
        /* the child's own changes: one inherited socket closed, one
         * replaced by a new bound one, one moved up the range */
        close(sync[0]);
        close(LO + SPAN / 2);
        unsigned seed = 99;
        int s = bound_socket(&seed);
        if (s >= 0) {
            dup2(s, LO + SPAN / 2 + 1);
            close(s);
        }
        dup2(LO + SPAN - 1, LO + SPAN - 2);
        printf("CHILD pid=%d\n", (int)getpid());
        fflush(stdout);
        close(sync[1]);
        hold();
        return 0;
    }
    close(sync[1]);
    char c;
    while (read(sync[0], &c, 1) > 0)
        ;
    close(sync[0]);
    printf("HANDLED %u\nREADY pid=%d\n", atomic_load(&handled), (int)getpid());
    fflush(stdout);
    hold();
    waitpid(child, NULL, 0);
    return 0;
}
