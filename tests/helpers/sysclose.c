/* sysclose.c - test helper (t0460): closes sockets the ways runtimes do
 * behind libc's close: syscall(SYS_close) and syscall(SYS_close_range) as
 * libuv does, and a raw inline `syscall` instruction no preload can see;
 * then reuses each freed number for a pipe, an eventfd or a file and works
 * on it (close, dup2 over it, fcntl, dup). Prints what it did:
 *   STEP label fd=N before=NS after=NS     the call on fd N ran in
 *                                          (before, after), CLOCK_REALTIME
 *   BYTES fd=N sent=S received=R           what a TCP socket carried
 *   REUSE label fd=N what=pipe|eventfd|file|udp
 *   SOCK ...                               sockets open at the end, made,
 *                                          connected and dup'd through
 *                                          syscall(), one closed by a
 *                                          vfork child (its own copy)
 *   READY pid=P                            then waits for end of input
 * `sysclose pass` prints what syscall() returned for calls the tracer
 * does not follow (all six arguments, errno), to compare with an
 * untraced run.
 * Each step is 10 ms from the stamps around it, and the next work 10 ms
 * after, so a time the tracer records (in whole ms) can be held against
 * them without any tolerance. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../examples/example.h"

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void pause_ms(int ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

static void die(const char *what)
{
    perror(what);
    exit(1);
}

/* a system call no libc function and no syscall() makes: the tracer
 * cannot see it */
static long inline_syscall3(long n, long a, long b, long c)
{
    long r;
    __asm__ volatile("syscall"
                     : "=a"(r)
                     : "0"(n), "D"(a), "S"(b), "d"(c)
                     : "rcx", "r11", "memory");
    return r;
}

static struct sockaddr_in loopback(void)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static int listener(void)
{
    struct sockaddr_in a = loopback();
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 8) != 0)
        die("listener");
    return s;
}

/* a connected pair through listener l: *c the client, *a the accepted */
static void tcp_pair(int l, int *c, int *a)
{
    struct sockaddr_in addr;
    socklen_t len = sizeof addr;
    if (getsockname(l, (struct sockaddr *)&addr, &len) != 0)
        die("getsockname");
    *c = socket(AF_INET, SOCK_STREAM, 0);
    if (*c < 0 || connect(*c, (struct sockaddr *)&addr, len) != 0)
        die("connect");
    *a = accept(l, NULL, NULL);
    if (*a < 0)
        die("accept");
}

static int udp(void)
{
    struct sockaddr_in a = loopback();
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0)
        die("udp");
    return s;
}

/* sends n bytes from c, reads them at a; returns what a read */
static size_t carry(int c, int a, size_t n)
{
    char buf[4096];
    memset(buf, 'x', sizeof buf);
    size_t got = 0;
    for (size_t off = 0; off < n;) {
        size_t k = n - off < sizeof buf ? n - off : sizeof buf;
        ssize_t w = write(c, buf, k);
        if (w <= 0)
            die("write");
        off += (size_t)w;
        while (got < off) {
            ssize_t r = read(a, buf, sizeof buf);
            if (r <= 0)
                die("read");
            got += (size_t)r;
        }
    }
    return got;
}

static long long stamp(void)
{
    long long t = now_ns();
    pause_ms(10);
    return t;
}

static void step(const char *label, int fd, long long before)
{
    pause_ms(10);
    printf("STEP %s fd=%d before=%lld after=%lld\n", label, fd, before, now_ns());
    pause_ms(10);
}

static void expect_fd(const char *label, int got, int want, const char *what)
{
    if (got != want) {
        fprintf(stderr, "%s: %s took fd %d, not the freed %d\n", label, what, got, want);
        exit(1);
    }
    printf("REUSE %s fd=%d what=%s\n", label, got, what);
}

/* calls syscall() passes straight on: what each returned, and errno */
static int passthrough(void)
{
    errno = 12345;
    long r = syscall(SYS_getpid);
    printf("getpid same=%d errno=%d\n", r == getpid(), errno);
    errno = 12345;
    r = syscall(999999, 1, 2, 3, 4, 5, 6);
    printf("unknown ret=%ld errno=%d\n", r, errno);
    errno = 0;
    r = syscall(SYS_close, -1);
    printf("close(-1) ret=%ld errno=%d\n", r, errno);
    errno = 0;
    r = syscall(SYS_dup2, 12345, 3);
    printf("dup2(bad) ret=%ld errno=%d\n", r, errno);
    errno = 0;
    r = syscall(SYS_socket, 12345, SOCK_STREAM, 0);
    printf("socket(bad family) ret=%ld errno=%d\n", r, errno);
    /* the sixth argument: mmap's offset picks the file's second page */
    char path[] = "/tmp/sysclose.XXXXXX", page[8192];
    int fd = mkstemp(path);
    if (fd < 0)
        die("mkstemp");
    unlink(path);
    memset(page, 'a', 4096);
    memset(page + 4096, 'b', 4096);
    if (write(fd, page, sizeof page) != (ssize_t)sizeof page)
        die("write");
    errno = 0;
    char *m = (char *)syscall(SYS_mmap, NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 4096);
    printf("mmap offset 4096 reads=%c errno=%d\n", m == MAP_FAILED ? '?' : m[0], errno);
    errno = 0;
    r = syscall(SYS_mmap, NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 4095);
    printf("mmap offset 4095 ret=%ld errno=%d\n", r, errno);
    /* a 64-bit return value, not cut to an int */
    r = syscall(SYS_lseek, fd, 0x123456789L, SEEK_SET);
    printf("lseek ret=%ld\n", r);
    return 0;
}

int main(int argc, char **argv)
{
    int p[2];
    long long t;
    if (argc > 1 && strcmp(argv[1], "pass") == 0)
        return passthrough();

    /* 1. syscall(SYS_close) of a listener; the number reused by a pipe,
     * whose close is no socket's */
    int l1 = listener();
    t = stamp();
    if (syscall(SYS_close, l1) != 0)
        die("syscall(SYS_close)");
    step("sys_close_listener", l1, t);
    if (pipe(p) != 0)
        die("pipe");
    expect_fd("sys_close_listener", p[0], l1, "pipe");
    t = stamp();
    close(p[0]);
    close(p[1]);
    step("pipe_close", l1, t);

    /* 2. syscall(SYS_close) of a TCP connection that carried bytes both
     * ways: the counts a close records */
    int l2 = listener(), c2, a2;
    tcp_pair(l2, &c2, &a2);
    size_t sent = carry(c2, a2, 123456), received = carry(a2, c2, 7890);
    printf("BYTES fd=%d sent=%zu received=%zu\n", c2, sent, received);
    t = stamp();
    if (syscall(SYS_close, c2) != 0)
        die("syscall(SYS_close)");
    step("sys_close_tcp", c2, t);
    close(a2);

    /* 3. syscall(SYS_close_range) over a TCP pair and a UDP socket, then
     * the numbers reused by a pipe and an eventfd */
    int c3, a3;
    tcp_pair(l2, &c3, &a3);
    int u3 = udp();
    if (a3 != c3 + 1 || u3 != a3 + 1) {
        fprintf(stderr, "not consecutive: %d %d %d\n", c3, a3, u3);
        return 1;
    }
    t = stamp();
    if (syscall(SYS_close_range, c3, u3, 0) != 0)
        die("syscall(SYS_close_range)");
    step("sys_close_range", c3, t);
    printf("RANGE lo=%d hi=%d\n", c3, u3);
    if (pipe(p) != 0)
        die("pipe");
    expect_fd("sys_close_range", p[0], c3, "pipe");
    int e3 = eventfd(0, 0);
    expect_fd("sys_close_range", e3, u3, "eventfd");
    t = stamp();
    close(p[0]);
    close(p[1]);
    close(e3);
    step("reused_close", c3, t);
    close(l2);

    /* 4. raw closes the tracer cannot see, each number then reused and
     * worked on: a listener's by a pipe (closed), a TCP connection's by
     * the pipe's other end (dup2'd over), a UDP socket's by an eventfd
     * (fcntl), another UDP socket's by a file (dup'd), a listener's by a
     * UDP socket made raw (closed) */
    int l4 = listener(), c4, a4;
    tcp_pair(l4, &c4, &a4);
    int u4 = udp(), v4 = udp(), w4 = listener();
    printf("RAW listener=%d tcp=%d udp=%d udp2=%d listener2=%d\n", l4, c4, u4, v4, w4);
    /* the accepted end goes first, so that the numbers reused below are
     * exactly the raw-closed ones */
    if (inline_syscall3(SYS_close, a4, 0, 0) || inline_syscall3(SYS_close, l4, 0, 0) ||
        inline_syscall3(SYS_close, c4, 0, 0) || inline_syscall3(SYS_close, u4, 0, 0) ||
        inline_syscall3(SYS_close, v4, 0, 0) || inline_syscall3(SYS_close, w4, 0, 0)) {
        fprintf(stderr, "raw close failed\n");
        return 1;
    }
    /* the lowest free numbers: l4 < a4? accept gave a4 after c4 */
    int lo[2];
    if (pipe(lo) != 0)
        die("pipe");
    expect_fd("raw_listener", lo[0], l4, "pipe");
    expect_fd("raw_tcp", lo[1], c4, "pipe");
    int fa = open("/dev/null", O_RDONLY);       /* takes a4's number */
    int e4 = eventfd(0, 0);
    expect_fd("raw_udp", e4, u4, "eventfd");
    int f4 = open("/dev/null", O_RDONLY);
    expect_fd("raw_udp2", f4, v4, "file");
    int s4 = (int)inline_syscall3(SYS_socket, AF_INET, SOCK_DGRAM, 0);
    expect_fd("raw_listener2", s4, w4, "udp");
    t = stamp();
    close(lo[0]);                               /* the pipe at l4 */
    int n4 = open("/dev/null", O_RDONLY);
    if (dup2(n4, lo[1]) != lo[1])               /* over the pipe at c4 */
        die("dup2");
    if (fcntl(e4, F_SETFD, FD_CLOEXEC) != 0)    /* the eventfd at u4 */
        die("fcntl");
    int d4 = dup(f4);                           /* the file at v4 */
    if (d4 < 0)
        die("dup");
    close(s4);                                  /* the raw UDP socket at w4 */
    step("raw_reuse", l4, t);
    printf("DUP fd=%d from=%d\n", d4, f4);
    close(fa);

    /* 5. a vfork child's syscall(SYS_close) closes its own copy: the
     * socket stays open here */
    int k5 = udp();
    pid_t pid = vfork();
    if (pid == 0) {
        syscall(SYS_close, k5);
        _exit(0);
    }
    if (pid < 0 || waitpid(pid, NULL, 0) != pid)
        die("vfork");
    ex_print_sock("vfork_kept", k5);

    /* 6. sockets made, connected, accepted and dup'd through syscall() */
    struct sockaddr_in a6 = loopback();
    socklen_t len6 = sizeof a6;
    int l6 = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
    if (l6 < 0 || syscall(SYS_bind, l6, &a6, sizeof a6) || syscall(SYS_listen, l6, 8) ||
        syscall(SYS_getsockname, l6, &a6, &len6))
        die("syscall listener");
    int c6 = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c6 < 0 || syscall(SYS_connect, c6, &a6, len6))
        die("syscall connect");
    int s6 = (int)syscall(SYS_accept4, l6, NULL, NULL, SOCK_CLOEXEC);
    if (s6 < 0)
        die("syscall accept4");
    if (syscall(SYS_dup2, c6, 40) != 40 || syscall(SYS_dup3, s6, 41, O_CLOEXEC) != 41)
        die("syscall dup2/dup3");
    int u6 = (int)syscall(SYS_socket, AF_INET, SOCK_DGRAM, 0);
    if (u6 < 0 || syscall(SYS_connect, u6, &a6, len6))
        die("syscall udp connect");
    ex_print_sock("sys_listener", l6);
    ex_print_sock("sys_client", c6);
    ex_print_sock("sys_accepted", s6);
    ex_print_sock("sys_dup2", 40);
    ex_print_sock("sys_dup3", 41);
    ex_print_sock("sys_udp", u6);

    printf("READY pid=%d\n", (int)getpid());
    fflush(stdout);
    char buf[16];
    while (read(0, buf, sizeof buf) > 0)
        ;
    return 0;
}
