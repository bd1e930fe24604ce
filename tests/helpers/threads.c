/* threads.c - 8 threads racing socket, connect, accept, dup2, fcntl
 * (F_DUPFD) and close over a shared range of fd numbers, so numbers are
 * reused across threads all the time. When they are done it holds still
 * for the test, which compares the tracer's table with /proc and ss.
 * usage: threads [ITERATIONS_PER_THREAD] */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define THREADS 8
#define LO 200
#define SPAN 64

static struct sockaddr_in addr;
static int listener, iterations;

static void *worker(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg * 7919u + 1;
    for (int i = 0; i < iterations; i++) {
        int target = LO + (int)(rand_r(&seed) % SPAN);
        switch (rand_r(&seed) % 6) {
        case 0: {
            int s = socket(AF_INET, SOCK_STREAM, 0);
            if (s >= 0 && rand_r(&seed) % 2)
                close(s);
            else if (s >= 0) {
                dup2(s, target);
                close(s);
            }
            break;
        }
        case 1: {
            int c = socket(AF_INET, SOCK_STREAM, 0);
            if (c < 0)
                break;
            connect(c, (struct sockaddr *)&addr, sizeof addr);
            int a = accept(listener, NULL, NULL);   /* non-blocking */
            dup2(c, target);
            close(c);
            if (a >= 0) {
                if (rand_r(&seed) % 2)
                    dup2(a, LO + (int)(rand_r(&seed) % SPAN));
                close(a);
            }
            break;
        }
        case 2: {
            int d = fcntl(target, F_DUPFD, LO + SPAN);
            if (d >= 0)
                close(d);
            break;
        }
        case 3:
            close(target);
            break;
        case 4: {
            int u = socket(AF_INET, SOCK_DGRAM, 0);
            if (u >= 0) {
                sendto(u, "x", 1, 0, (struct sockaddr *)&addr, sizeof addr);
                dup2(u, target);
                close(u);
            }
            break;
        }
        default: {
            int d = dup(target);
            if (d >= 0)
                close(d);
        }
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    iterations = argc > 1 ? atoi(argv[1]) : 5000;
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (bind(listener, (struct sockaddr *)&addr, len) || listen(listener, 4096) ||
        getsockname(listener, (struct sockaddr *)&addr, &len)) {
        perror("listen");
        return 1;
    }
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    printf("READY pid=%d\n", (int)getpid());
    fflush(stdout);
    char c;
    while (read(0, &c, 1) > 0)
        ;
    return 0;
}
