/* tsanstress.c - for ThreadSanitizer: 8 threads share the tracer (its
 * lock, table, index, rings, peer cache) but each uses only the fds it
 * made, so every race TSan reports is the tracer's, not the program's.
 * Each thread: a TCP connection to the shared listener, accept, dup,
 * F_DUPFD_CLOEXEC, getsockname, flag changes (F_SETFL, shutdown,
 * IP_BIND_ADDRESS_NO_PORT: made from the record as the file holds it), a UDP socket
 * sending to two peers, close. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif
#define THREADS 8

static struct sockaddr_in addr;
static int listener, iterations;
static pthread_mutex_t accept_lock = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg)
{
    (void)arg;
    struct sockaddr_in to[2] = {addr, addr};
    to[0].sin_port = htons(9);
    to[1].sin_port = htons(7);
    for (int i = 0; i < iterations; i++) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        if (c < 0 || connect(c, (struct sockaddr *)&addr, sizeof addr) != 0)
            exit(2);
        /* the accept is paired with this thread's connect: no fd of
         * another thread is ever touched */
        pthread_mutex_lock(&accept_lock);
        int a = accept(listener, NULL, NULL);
        pthread_mutex_unlock(&accept_lock);
        int d = dup(c);
        int e = fcntl(a, F_DUPFD_CLOEXEC, 0);
        struct sockaddr_in me;
        socklen_t len = sizeof me;
        getsockname(d, (struct sockaddr *)&me, &len);
        fcntl(d, F_SETFL, O_NONBLOCK);
        shutdown(a, SHUT_WR);
        int u = socket(AF_INET, SOCK_DGRAM, 0);
        int on = 1;
        setsockopt(u, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on);
        sendto(u, "x", 1, 0, (struct sockaddr *)&to[i % 2], sizeof to[0]);
        sendto(u, "y", 1, 0, (struct sockaddr *)&to[(i + 1) % 2], sizeof to[0]);
        close(u);
        close(e);
        close(d);
        close(a);
        close(c);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    iterations = argc > 1 ? atoi(argv[1]) : 500;
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    listener = socket(AF_INET, SOCK_STREAM, 0);
    if (bind(listener, (struct sockaddr *)&addr, len) || listen(listener, 128) ||
        getsockname(listener, (struct sockaddr *)&addr, &len))
        return 1;
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    printf("DONE %d connections\n", THREADS * iterations);
    return 0;
}
