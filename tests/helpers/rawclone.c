/* rawclone.c - children made behind fork()'s back, as vsftpd makes its
 * sessions: syscall(SYS_clone), syscall(SYS_clone3), syscall(SYS_fork),
 * _Fork(), a clone by an inline syscall instruction, and
 * syscall(SYS_vfork) whose child closes the listener through syscall(2)
 * and execs this program again. The parent holds a TCP listener and a UDP
 * socket; a thread of it makes one more. Each child closes its copies of
 * the parent's two, binds a UDP socket to port 0 and says
 * "CHILD kind= pid= fd= port=", then waits for the parent's stdin to end.
 * The parent prints its own view ("SOCK pid= fd= local= peer=- x") and
 * "READY pid=" once every child has reported; a kind the kernel or libc
 * lacks is said as "NOKIND kind= why=". */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../examples/example.h"

extern pid_t _Fork(void) __attribute__((weak));

static int report_w;    /* a child writes one byte here once it has said */
static int hold_r;      /* ends (EOF) when the parent is told to stop */
static int rep_r = -1, hold_w = -1;    /* the parent's ends */

static void die(const char *what)
{
    dprintf(2, "rawclone %d: %s: %s\n", (int)getpid(), what, strerror(errno));
    _exit(2);
}

static int udp_port0(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, len) ||
        getsockname(fd, (struct sockaddr *)&a, &len))
        die("udp socket");
    *port = ntohs(a.sin_port);
    return fd;
}

/* What every child does, in its own process. */
static void child(const char *kind, int lfd, int ufd)
{
    if ((lfd >= 0 && close(lfd)) || close(ufd))
        die("close inherited");
    if (rep_r >= 0)
        close(rep_r), close(hold_w);
    uint16_t port;
    int fd = udp_port0(&port);
    dprintf(1, "CHILD kind=%s pid=%d fd=%d port=%u\n", kind, (int)getpid(), fd, port);
    if (write(report_w, "x", 1) != 1)
        die("report");
    char c;
    while (read(hold_r, &c, 1) > 0)
        ;
    _exit(0);
}

static void *thread_main(void *arg)
{
    uint16_t port;
    *(int *)arg = udp_port0(&port);
    return NULL;
}

/* A clone no hook can see: the syscall instruction itself, fork-like (no
 * new stack, no shared memory). */
static long inline_clone(void)
{
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "0"((long)SYS_clone), "D"((long)SIGCHLD), "S"(0L), "d"(0L)
                     : "rcx", "r11", "r10", "r8", "memory");
    return ret;
}

/* syscall(SYS_vfork): the child runs on the parent's stack until it execs,
 * so each of its calls is made at the one call site the vfork was made at
 * (each returns to where the parent will), with nothing on the stack that
 * the parent reads afterwards: the parent tells itself from the child by
 * the pid it gets back. */
static long vf_n[4], vf_a[4], vf_b[4], vf_c[4];
static volatile int vf_i;

static long vfork_exec(int lfd, char *self, char **argv)
{
    vf_n[0] = SYS_vfork;
    vf_n[1] = SYS_close, vf_a[1] = lfd;
    vf_n[2] = SYS_execve, vf_a[2] = (long)self, vf_b[2] = (long)argv, vf_c[2] = (long)environ;
    vf_n[3] = SYS_exit, vf_a[3] = 127;
    vf_i = 0;
    for (;;) {
        long r = syscall(vf_n[vf_i], vf_a[vf_i], vf_b[vf_i], vf_c[vf_i]);
        if (r > 0 || (r < 0 && vf_i == 0))
            return r;   /* the parent: the child's pid, or the vfork failed */
        vf_i = vf_i + 1;  /* the child: its close done, or its exec failed */
    }
}

/* The child's byte on the report pipe. Every child holds the pipe's write
 * end, so a child that died first would leave a plain read waiting for
 * good: its death ends the wait, and so do 60 s without a word. */
static void wait_report(int fd, pid_t pid, const char *kind)
{
    for (int i = 0; i < 600; i++) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        char c;
        if (poll(&p, 1, 100) == 1 && read(fd, &c, 1) == 1)
            return;
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            fprintf(stderr, "rawclone: the %s child %d ended (status %#x) before it reported\n",
                    kind, (int)pid, st);
            exit(2);
        }
    }
    fprintf(stderr, "rawclone: the %s child %d did not report in 60 s\n", kind, (int)pid);
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "vfork-child") == 0) {
        report_w = atoi(argv[2]);
        hold_r = atoi(argv[3]);
        /* the listener was closed before the exec; the UDP socket is
         * found by number: the one open socket this image inherited */
        int ufd = -1;
        for (int fd = 3; fd < 64 && ufd < 0; fd++) {
            int type;
            socklen_t l = sizeof type;
            if (fd != report_w && fd != hold_r &&
                getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l) == 0 && type == SOCK_DGRAM)
                ufd = fd;
        }
        if (ufd < 0)
            die("no inherited UDP socket");
        child("vfork", -1, ufd);
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) || listen(lfd, 8))
        die("listener");
    uint16_t uport;
    int ufd = udp_port0(&uport);
    int tfd = -1;
    pthread_t t;
    if (pthread_create(&t, NULL, thread_main, &tfd) || pthread_join(t, NULL))
        die("thread");
    int rep[2], hold[2];
    /* the parent's ends do not go through the exec */
    if (pipe(rep) || pipe(hold) || fcntl(rep[0], F_SETFD, FD_CLOEXEC) ||
        fcntl(hold[1], F_SETFD, FD_CLOEXEC))
        die("pipe");
    report_w = rep[1];
    hold_r = hold[0];
    rep_r = rep[0];
    hold_w = hold[1];

    static const char *kinds[] = {"clone", "clone3", "fork", "_Fork", "inline", "vfork"};
    pid_t pids[6];
    int made = 0;
    for (int k = 0; k < 6; k++) {
        const char *kind = kinds[k];
        long pid = -1;
        errno = 0;
        if (k == 0) {
            pid = syscall(SYS_clone, SIGCHLD, 0L, 0L, 0L, 0L);
        } else if (k == 1) {
            struct clone_args ca;
            memset(&ca, 0, sizeof ca);
            ca.exit_signal = SIGCHLD;
            pid = syscall(SYS_clone3, &ca, sizeof ca);
        } else if (k == 2) {
            pid = syscall(SYS_fork);
        } else if (k == 3) {
            if (!_Fork) {
                printf("NOKIND kind=_Fork why=not-in-this-libc\n");
                continue;
            }
            pid = _Fork();
        } else if (k == 4) {
            pid = inline_clone();
            if (pid < 0) {
                errno = (int)-pid;
                pid = -1;
            }
        } else {
            char r[16], h[16];
            snprintf(r, sizeof r, "%d", report_w);
            snprintf(h, sizeof h, "%d", hold_r);
            char *cargv[] = {argv[0], "vfork-child", r, h, NULL};
            pid = vfork_exec(lfd, "/proc/self/exe", cargv);
        }
        if (pid == 0)
            child(kind, lfd, ufd);
        if (pid < 0) {
            if (errno == ENOSYS) {
                printf("NOKIND kind=%s why=ENOSYS\n", kind);
                continue;
            }
            die(kind);
        }
        pids[made++] = (pid_t)pid;
        wait_report(rep[0], (pid_t)pid, kind);
    }
    close(hold[0]);
    ex_print_sock("x", lfd);
    ex_print_sock("x", ufd);
    ex_print_sock("x", tfd);
    printf("READY pid=%d\n", (int)getpid());
    char c;
    while (read(0, &c, 1) > 0)
        ;
    close(hold[1]);
    int bad = 0;
    for (int i = 0; i < made; i++) {
        int st;
        if (waitpid(pids[i], &st, 0) != pids[i] || !WIFEXITED(st) || WEXITSTATUS(st))
            bad++;
    }
    printf("DONE children=%d failed=%d\n", made, bad);
    return bad != 0;
}
