/* spawner.c - the ways a process starts others: vfork (with a close and a
 * dup2 in the child before exec), posix_spawn with file actions, a daemon
 * (fork twice, setsid, close every fd, dup2 onto 0-2), and a root process
 * dropping to another uid. Every process reports its own sockets. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
static const char *self;

static void show(const struct sockaddr_storage *a, char *out, size_t n)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *s = (const void *)a;
        inet_ntop(AF_INET, &s->sin_addr, ip, sizeof ip);
        snprintf(out, n, "%s:%u", ip, ntohs(s->sin_port));
    } else if (a->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const void *)a;
        inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof ip);
        snprintf(out, n, "[%s]:%u", ip, ntohs(s->sin6_port));
    } else {
        snprintf(out, n, "-");
    }
}

/* "SOCK pid= fd= local= peer= x" for every inet socket this process has */
static void report(const char *who)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] == '.' || fd == dirfd(d))
            continue;
        struct sockaddr_storage l = {0}, p = {0};
        socklen_t ll = sizeof l, pl = sizeof p;
        if (getsockname(fd, (struct sockaddr *)&l, &ll) != 0 ||
            (l.ss_family != AF_INET && l.ss_family != AF_INET6))
            continue;
        if (getpeername(fd, (struct sockaddr *)&p, &pl) != 0)
            p.ss_family = 0;
        char ls[80], ps[80];
        show(&l, ls, sizeof ls);
        show(&p, ps, sizeof ps);
        printf("SOCK pid=%d fd=%d local=%s peer=%s x\n", getpid(), fd, ls, ps);
    }
    closedir(d);
    printf("%s pid=%d\n", who, getpid());
    fflush(stdout);
}

static int listener(int flags)
{
    int fd = socket(AF_INET, SOCK_STREAM | flags, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 8))
        exit(2);
    return fd;
}

/* a connected pair on loopback: *c the client, returned the accepted end */
static int pair(int lfd, int *c)
{
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    getsockname(lfd, (struct sockaddr *)&a, &al);
    *c = socket(AF_INET, SOCK_STREAM, 0);
    if (*c < 0 || connect(*c, (struct sockaddr *)&a, al) != 0)
        exit(3);
    return accept(lfd, NULL, NULL);
}

static void wait_stdin(void)
{
    char ch;
    while (read(0, &ch, 1) > 0)
        ;
}

/* the exec'd image: report what it inherited, then live until stdin ends */
static int child_main(void)
{
    report("CHILD");
    wait_stdin();
    return 0;
}

/* vfork: the child closes one of the parent's sockets and dup2s another
 * onto fd 9 before exec; the parent's table must not see either */
static int do_vfork(void)
{
    int l = listener(0), c, a = pair(l, &c);
    pid_t pid = vfork();
    if (pid == 0) {
        close(c);
        dup2(a, 9);
        execl(self, self, "child", (char *)NULL);
        _exit(127);
    }
    printf("KID %d\n", (int)pid);
    report("READY");
    wait_stdin();
    return waitpid(pid, NULL, 0) == pid ? 0 : 1;
}

/* posix_spawn: the file actions run in the child, not through the tracer */
static int do_spawn(void)
{
    int l = listener(SOCK_CLOEXEC), c, a = pair(l, &c);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, l, 7);
    posix_spawn_file_actions_addclose(&fa, c);
    char *argv[] = {(char *)self, "child", NULL};
    pid_t pid;
    if (posix_spawn(&pid, self, &fa, NULL, argv, environ) != 0)
        return 4;
    posix_spawn_file_actions_destroy(&fa);
    (void)a;
    printf("KID %d\n", (int)pid);
    report("READY");
    wait_stdin();
    return waitpid(pid, NULL, 0) == pid ? 0 : 1;
}

/* the classic daemon: its sockets from before are all closed, the ones it
 * makes after are traced; it lives until killed */
static int do_daemon(const char *log)
{
    int l = listener(0), c, a = pair(l, &c);
    (void)a;
    pid_t pid = fork();
    if (pid != 0)
        return waitpid(pid, NULL, 0) == pid ? 0 : 1;
    setsid();
    if (fork() != 0)
        _exit(0);
    for (int fd = 3; fd < 1024; fd++)
        close(fd);
    int in = open("/dev/null", O_RDONLY), out = open(log, O_WRONLY | O_APPEND);
    dup2(in, 0);
    dup2(out, 1);
    dup2(out, 2);
    close(in);
    close(out);
    int l2 = listener(0), c2, a2 = pair(l2, &c2);
    (void)a2;
    report("READY");
    for (;;)
        pause();
}

/* as root: sockets before and after dropping to uid 65534, and a child
 * forked after the drop that makes one of its own */
static int do_setuid(void)
{
    int l = listener(0);
    if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
        return 5;
    int c, a = pair(l, &c);
    (void)a;
    int up[2];
    if (pipe(up))
        return 6;
    pid_t pid = fork();
    if (pid == 0) {
        int k = socket(AF_INET, SOCK_DGRAM, 0);
        struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        sendto(k, "x", 1, 0, (struct sockaddr *)&to, sizeof to);
        report("CHILD");
        close(up[1]);
        wait_stdin();
        _exit(0);
    }
    close(up[1]);
    char ch;
    if (read(up[0], &ch, 1) < 0)    /* end of file: the child reported */
        return 7;
    printf("KID %d\n", (int)pid);
    report("READY");
    wait_stdin();
    int st;
    return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    self = "/proc/self/exe";
    static char path[4096];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    if (n > 0) {
        path[n] = 0;
        self = path;
    }
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "child"))
        return child_main();
    if (!strcmp(mode, "vfork"))
        return do_vfork();
    if (!strcmp(mode, "spawn"))
        return do_spawn();
    if (!strcmp(mode, "daemon") && argc > 2)
        return do_daemon(argv[2]);
    if (!strcmp(mode, "setuid"))
        return do_setuid();
    fprintf(stderr, "usage: spawner vfork|spawn|daemon LOG|setuid\n");
    return 2;
}
