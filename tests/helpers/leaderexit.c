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
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* the leader's state in /proc/self/stat: after the ")" of the name */
static char leader_state(void)
{
    char buf[512];
    FILE *f = fopen("/proc/self/stat", "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p[2] : '?';
}

static void *run(void *arg)
{
    (void)arg;
    char buf[64];
    /* READY once main's pthread_exit has made the leader a zombie */
    struct timespec ms = {0, 1000000};
    for (int i = 0; i < 60000 && leader_state() != 'Z'; i++)
        nanosleep(&ms, NULL);
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
