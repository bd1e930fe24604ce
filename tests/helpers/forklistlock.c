/* forklistlock.c - fork while another thread is inside dl_iterate_phdr
 * (as an unwinder or a profiler is), holding the loader's list lock, which
 * fork does not reset in the child. The child then makes its first calls
 * of socket, bind and getsockname (each a first lookup of a real function
 * for the tracer) and prints its own view of the socket: "SOCK pid= fd=
 * local=ADDR", and exits. Exit status: the child's (its alarm kills a
 * hung one). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <link.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int inside, release;

static int hold(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)info;
    (void)size;
    (void)arg;
    inside = 1;
    while (!release)
        usleep(1000);
    return 1;
}

static void *holder(void *arg)
{
    (void)arg;
    dl_iterate_phdr(hold, NULL);
    return NULL;
}

int main(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, holder, NULL) != 0)
        return 2;
    while (!inside)
        usleep(1000);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(20);  /* a child that hangs is killed: the parent reports it */
        int s = socket(AF_INET, SOCK_DGRAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (s < 0 || bind(s, (struct sockaddr *)&a, len) != 0 ||
            getsockname(s, (struct sockaddr *)&a, &len) != 0)
            _exit(3);
        printf("SOCK pid=%d fd=%d local=127.0.0.1:%u\n", (int)getpid(), s, ntohs(a.sin_port));
        fflush(stdout);
        _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    release = 1;
    pthread_join(t, NULL);
    if (WIFSIGNALED(st)) {
        printf("child killed by signal %d\n", WTERMSIG(st));
        return 1;
    }
    return WEXITSTATUS(st);
}
