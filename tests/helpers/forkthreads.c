/* forkthreads.c - fork while other threads are inside the tracer: four
 * threads make and close sockets without pause while the main thread forks
 * N children. Each child binds a UDP socket to port 0 and prints its own
 * view of it ("SOCK pid= fd= local= peer=- x"), then exits; the test
 * holds each child's trace file against that line. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static atomic_int done;

static void *churn(void *arg)
{
    (void)arg;
    while (!atomic_load(&done)) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        int d = dup(fd);
        close(fd);
        close(d);
    }
    return NULL;
}

static void child(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, len) || getsockname(fd, (struct sockaddr *)&a, &len))
        _exit(1);
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &a.sin_addr, ip, sizeof ip);
    printf("SOCK pid=%d fd=%d local=%s:%u peer=- x\n", getpid(), fd, ip, ntohs(a.sin_port));
    fflush(stdout);
    _exit(0);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 100;
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, churn, NULL);
    int failed = 0;
    for (int i = 0; i < n; i++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0)
            child();
        int st;
        if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
            failed++;
    }
    atomic_store(&done, 1);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    printf("DONE children=%d failed=%d\n", n, failed);
    return failed != 0;
}
