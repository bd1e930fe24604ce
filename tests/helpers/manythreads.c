/* manythreads.c - many threads (64 by default) each making CYCLES
 * loopback connections to one shared listener: socket, connect, accept
 * (whichever connection is waiting), close both. Every socket is closed
 * before READY, which says how many sockets the program created:
 * "READY pid=P sockets=N" (the listener included), then it holds still.
 * usage: manythreads [THREADS [CYCLES]] */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static struct sockaddr_in addr;
static int listener, cycles;
static atomic_long created, failed;
static pthread_barrier_t go;

static void *worker(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&go);
    for (int i = 0; i < cycles; i++) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        if (c < 0) {
            perror("socket");
            atomic_fetch_add(&failed, 1);
            continue;
        }
        atomic_fetch_add(&created, 1);
        if (connect(c, (struct sockaddr *)&addr, sizeof addr) != 0) {
            perror("connect");
            atomic_fetch_add(&failed, 1);
        }
        /* each thread connects once before it accepts once, so every
         * accept finds a connection sooner or later */
        int a = accept(listener, NULL, NULL);
        if (a >= 0) {
            atomic_fetch_add(&created, 1);
            close(a);
        } else {
            perror("accept");
            atomic_fetch_add(&failed, 1);
        }
        close(c);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 64;
    cycles = argc > 2 ? atoi(argv[2]) : 200;
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    listener = socket(AF_INET, SOCK_STREAM, 0);
    if (bind(listener, (struct sockaddr *)&addr, len) || listen(listener, 4096) ||
        getsockname(listener, (struct sockaddr *)&addr, &len)) {
        perror("listen");
        return 1;
    }
    atomic_store(&created, 1);
    pthread_t *t = calloc((size_t)threads, sizeof *t);
    pthread_barrier_init(&go, NULL, (unsigned)threads);
    for (int i = 0; i < threads; i++)
        if (pthread_create(&t[i], NULL, worker, NULL) != 0) {
            perror("pthread_create");
            return 1;
        }
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    close(listener);
    printf("READY pid=%d sockets=%ld failed=%ld\n", (int)getpid(), atomic_load(&created),
           atomic_load(&failed));
    fflush(stdout);
    char ch;
    while (read(0, &ch, 1) > 0)
        ;
    free(t);
    return 0;
}
