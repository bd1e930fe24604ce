/* mtconn.c - benchmark workload: T threads, each with a loopback
 * listener of its own, each making N connections to it (socket, connect,
 * accept, close both; the server side closes first, as in connloop).
 * Prints the aggregate rate in connection cycles per second, from the
 * moment all threads are ready to the last one's end.
 * usage: mtconn T N */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int cycles;
static pthread_barrier_t go;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *worker(void *arg)
{
    (void)arg;
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (bind(l, (struct sockaddr *)&a, len) || listen(l, 128) ||
        getsockname(l, (struct sockaddr *)&a, &len)) {
        perror("listen");
        exit(1);
    }
    pthread_barrier_wait(&go);
    for (int i = 0; i < cycles; i++) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(c, (struct sockaddr *)&a, sizeof a) != 0) {
            perror("connect");
            exit(1);
        }
        int s = accept(l, NULL, NULL);
        close(s);
        close(c);
    }
    close(l);
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 4;
    cycles = argc > 2 ? atoi(argv[2]) : 4000;
    pthread_t *t = calloc((size_t)threads, sizeof *t);
    pthread_barrier_init(&go, NULL, (unsigned)threads + 1);
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, worker, NULL);
    pthread_barrier_wait(&go);
    double t0 = now();
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    printf("%.0f\n", (double)threads * cycles / (now() - t0));
    free(t);
    return 0;
}
