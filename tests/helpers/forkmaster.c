/* forkmaster.c - a master process in the manner of postfix's: it holds
 * many sockets (listeners, a unix socketpair per child slot), forks N
 * short-lived children in quick succession without waiting for them,
 * accepts what they connect and reaps them as they end. Each child
 * connects a TCP socket to the master's listener, connects a UDP socket,
 * binds another to port 0, reports each as "SOCK pid= fd= local= peer= x"
 * from its own getsockname/getpeername and exits without closing them.
 * Usage: forkmaster [CHILDREN]; prints READY once every child is reaped,
 * then waits for end of input. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what)
{
    fprintf(stderr, "forkmaster: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void show(int fd, int peer, char *out, size_t n)
{
    struct sockaddr_in a = {0};
    socklen_t len = sizeof a;
    int r = peer ? getpeername(fd, (struct sockaddr *)&a, &len)
                 : getsockname(fd, (struct sockaddr *)&a, &len);
    if (r != 0 || a.sin_family != AF_INET) {
        snprintf(out, n, "-");
        return;
    }
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &a.sin_addr, ip, sizeof ip);
    snprintf(out, n, "%s:%u", ip, ntohs(a.sin_port));
}

/* One line with one write(): children share the output file. */
static void report(int fd)
{
    char l[64], p[64], line[200];
    show(fd, 0, l, sizeof l);
    show(fd, 1, p, sizeof p);
    int n = snprintf(line, sizeof line, "SOCK pid=%d fd=%d local=%s peer=%s x\n",
                     getpid(), fd, l, p);
    if (write(1, line, (size_t)n) != n)
        _exit(3);
}

static void child(const struct sockaddr_in *master_tcp, const struct sockaddr_in *master_udp)
{
    struct sockaddr_in any = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int t = socket(AF_INET, SOCK_STREAM, 0);
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    int b = socket(AF_INET, SOCK_DGRAM, 0);
    if (t < 0 || u < 0 || b < 0 ||
        connect(t, (const struct sockaddr *)master_tcp, sizeof *master_tcp) != 0 ||
        connect(u, (const struct sockaddr *)master_udp, sizeof *master_udp) != 0 ||
        bind(b, (struct sockaddr *)&any, sizeof any) != 0)
        _exit(2);
    report(t);
    report(u);
    report(b);
    _exit(0);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 200;
    struct sockaddr_in tcp = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct sockaddr_in udp = tcp;
    socklen_t len = sizeof tcp;
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int ufd = socket(AF_INET, SOCK_DGRAM, 0);
    if (lfd < 0 || ufd < 0 || bind(lfd, (struct sockaddr *)&tcp, len) ||
        listen(lfd, 4096) || getsockname(lfd, (struct sockaddr *)&tcp, &len) ||
        bind(ufd, (struct sockaddr *)&udp, sizeof udp) ||
        getsockname(ufd, (struct sockaddr *)&udp, &(socklen_t){sizeof udp}))
        die("listener");
    /* postfix's master keeps a status pipe and listeners per service: the
     * children inherit them all, and enter each at their start */
    for (int i = 0; i < 24; i++) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
            die("socketpair");
    }
    report(lfd);
    report(ufd);
    int live = 0, bad = 0, accepted = 0;
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0)
            die("fork");
        if (pid == 0)
            child(&tcp, &udp);
        live++;
        /* reap and accept whatever is ready, without waiting */
        int st, c;
        while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
            live--;
            bad += !WIFEXITED(st) || WEXITSTATUS(st) != 0;
        }
        while ((c = accept(lfd, NULL, NULL)) >= 0) {
            close(c);
            accepted++;
        }
    }
    while (live > 0) {
        int st;
        if (waitpid(-1, &st, 0) < 0)
            die("waitpid");
        live--;
        bad += !WIFEXITED(st) || WEXITSTATUS(st) != 0;
    }
    int c;
    while ((c = accept(lfd, NULL, NULL)) >= 0) {
        close(c);
        accepted++;
    }
    printf("READY children=%d failed=%d accepted=%d pid=%d\n", n, bad, accepted, getpid());
    fflush(stdout);
    char buf[64];
    while (read(0, buf, sizeof buf) > 0)
        ;
    return bad != 0;
}
