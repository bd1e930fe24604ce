/* leaderexit.c - a process whose main thread has ended while another runs
 * on (pthread_exit in main): /proc shows its leader as a zombie (state Z)
 * though the process is running. For t0165, which tells that apart from
 * a process that has exited. Makes a listening socket, then the second
 * thread prints "READY pid=N" and exits the process at end of stdin. */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static void *run(void *arg)
{
    (void)arg;
    char buf[64];
    printf("READY pid=%d\n", getpid());
    fflush(stdout);
    while (read(0, buf, sizeof buf) > 0)
        ;
    exit(0);
}

int main(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 1) != 0) {
        perror("listener");
        return 1;
    }
    pthread_t t;
    if (pthread_create(&t, NULL, run, NULL) != 0) {
        fprintf(stderr, "pthread_create failed\n");
        return 1;
    }
    pthread_exit(NULL);
}
