/* differential.c - call sequences on the edges (most of them failing) that
 * print every return value, errno and the bytes and lengths written back.
 * Run with and without the preload, the outputs must be identical: the
 * tracer is invisible. errno is preset to a sentinel, so a call that
 * succeeds must leave it untouched, as libc does. Ports the kernel picks
 * differ between runs and are masked; fd numbers are not (the tracer
 * holds no fd, so the program gets the same numbers). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define SENTINEL 4242
static int seq;

static void report(const char *what, long ret, const void *buf, socklen_t len, socklen_t shown)
{
    int e = errno;
    printf("%02d %-34s ret=%ld errno=%d", ++seq, what, ret, e);
    if (buf) {
        printf(" len=%u bytes=", (unsigned)len);
        const unsigned char *b = buf;
        for (socklen_t i = 0; i < shown && i < 32; i++)
            printf((i == 2 || i == 3) ? "PP" : "%02x", b[i]);   /* port bytes */
    }
    putchar('\n');
    errno = SENTINEL;
}

#define CALL(what, expr) do { errno = SENTINEL; long r_ = (long)(expr); report(what, r_, NULL, 0, 0); } while (0)

int main(void)
{
    struct sockaddr_in lo = {.sin_family = AF_INET};
    lo.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct sockaddr_storage ss;
    socklen_t len;
    int devnull = open("/dev/null", O_RDONLY);

    CALL("socket bad type", socket(AF_INET, 9999, 0));
    CALL("socket bad family", socket(12345, SOCK_STREAM, 0));
    CALL("socket bad protocol", socket(AF_INET, SOCK_STREAM, 9999));
    int t = socket(AF_INET, SOCK_STREAM, 0);
    CALL("socket ok (fd number)", t);
    CALL("bind bad fd", bind(-1, (struct sockaddr *)&lo, sizeof lo));
    CALL("bind not a socket", bind(devnull, (struct sockaddr *)&lo, sizeof lo));
    CALL("bind short length", bind(t, (struct sockaddr *)&lo, 3));
    CALL("bind EFAULT", bind(t, (struct sockaddr *)1, sizeof lo));
    CALL("bind oversized length", bind(t, (struct sockaddr *)&lo, 4096));
    CALL("bind port 0", bind(t, (struct sockaddr *)&lo, sizeof lo));
    CALL("bind twice", bind(t, (struct sockaddr *)&lo, sizeof lo));
    len = sizeof ss;
    getsockname(t, (struct sockaddr *)&ss, &len);
    int t2 = socket(AF_INET, SOCK_STREAM, 0);
    CALL("bind address in use", bind(t2, (struct sockaddr *)&ss, len));
    CALL("listen bad fd", listen(-1, 1));
    CALL("listen not a socket", listen(devnull, 1));
    CALL("listen ok", listen(t, 64));   /* room for every connect below */
    struct sockaddr_in port = *(struct sockaddr_in *)&ss;

    struct sockaddr_in refused = lo;
    refused.sin_port = htons(1);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    CALL("connect refused", connect(c, (struct sockaddr *)&refused, sizeof refused));
    CALL("connect after refusal", connect(c, (struct sockaddr *)&port, sizeof port));
    int nb = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CALL("connect non-blocking", connect(nb, (struct sockaddr *)&port, sizeof port) == 0 ? 0 : (errno == EINPROGRESS ? -2 : -1));
    struct sockaddr_in6 v6 = {.sin6_family = AF_INET6};
    int c3 = socket(AF_INET, SOCK_STREAM, 0);
    CALL("connect wrong family", connect(c3, (struct sockaddr *)&v6, sizeof v6));
    CALL("connect EFAULT", connect(c3, (struct sockaddr *)1, sizeof lo));
    CALL("connect not a socket", connect(devnull, (struct sockaddr *)&port, sizeof port));

    int la = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    bind(la, (struct sockaddr *)&lo, sizeof lo);
    listen(la, 4);
    CALL("accept empty non-blocking", accept(la, NULL, NULL));
    CALL("accept not listening", accept(c3, NULL, NULL));
    CALL("accept4 bad flags", accept4(t, NULL, NULL, 0x7fffffff));
    CALL("accept bad fd", accept(-1, NULL, NULL));

    /* connections to accept in different ways */
    int k1 = socket(AF_INET, SOCK_STREAM, 0), k2 = socket(AF_INET, SOCK_STREAM, 0);
    int k3 = socket(AF_INET, SOCK_STREAM, 0), k4 = socket(AF_INET, SOCK_STREAM, 0);
    connect(k1, (struct sockaddr *)&port, sizeof port);
    connect(k2, (struct sockaddr *)&port, sizeof port);
    connect(k3, (struct sockaddr *)&port, sizeof port);
    connect(k4, (struct sockaddr *)&port, sizeof port);
    errno = SENTINEL;
    CALL("accept NULL address (nb connect one)", accept(t, NULL, NULL));
    unsigned char small[8];
    memset(small, 0xee, sizeof small);
    len = 4;
    errno = SENTINEL;
    long r = accept(t, (struct sockaddr *)small, &len);
    report("accept short buffer", r, small, len, sizeof small);
    len = 0;
    memset(small, 0xee, sizeof small);
    errno = SENTINEL;
    r = accept(t, (struct sockaddr *)small, &len);
    report("accept zero-length buffer", r, small, len, sizeof small);
    len = sizeof ss;
    memset(&ss, 0xee, sizeof ss);
    errno = SENTINEL;
    r = accept4(t, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
    report("accept4 full buffer", r, &ss, len, 16);

    errno = SENTINEL;
    r = getsockname(t, (struct sockaddr *)&ss, NULL);
    report("getsockname NULL length", r, NULL, 0, 0);
    len = 4;
    memset(small, 0xee, sizeof small);
    errno = SENTINEL;
    r = getsockname(t, (struct sockaddr *)small, &len);
    report("getsockname short buffer", r, small, len, sizeof small);
    len = 0;
    errno = SENTINEL;
    r = getsockname(t, (struct sockaddr *)small, &len);
    report("getsockname zero length", r, small, len, sizeof small);
    len = sizeof ss;
    errno = SENTINEL;
    r = getsockname(t, (struct sockaddr *)1, &len);
    report("getsockname EFAULT buffer", r, NULL, 0, 0);
    len = sizeof ss;
    errno = SENTINEL;
    r = getpeername(t2, (struct sockaddr *)&ss, &len);
    report("getpeername not connected", r, NULL, 0, 0);
    CALL("getpeername bad fd", getpeername(-1, (struct sockaddr *)&ss, &len));
    CALL("getpeername not a socket", getpeername(devnull, (struct sockaddr *)&ss, &len));

    CALL("dup2 bad fd", dup2(-1, 50));
    CALL("dup2 same fd", dup2(t, t));
    CALL("dup3 same fd", dup3(t, t, 0));
    CALL("dup3 bad flags", dup3(t, 51, 0x7fff));
    CALL("dup ok", dup(t2));
    CALL("fcntl F_DUPFD negative", fcntl(t, F_DUPFD, -1));
    CALL("fcntl F_DUPFD_CLOEXEC", fcntl(t, F_DUPFD_CLOEXEC, 60));
    CALL("fcntl F_GETFL", fcntl(nb, F_GETFL));
    CALL("fcntl F_SETFD", fcntl(t2, F_SETFD, FD_CLOEXEC));
    CALL("fcntl F_GETFD", fcntl(t2, F_GETFD));
    CALL("fcntl bad fd", fcntl(-1, F_GETFD));
    CALL("close ok", close(k4));
    CALL("close twice", close(k4));
    CALL("close bad fd", close(-5));
    CALL("close_range bad range", close_range(10, 5, 0));
    CALL("close_range bad flags", close_range(70, 80, 0x7fff));
    CALL("close_range ok", close_range(60, 60, 0));
    CALL("shutdown not connected", shutdown(t2, SHUT_RDWR));
    CALL("shutdown bad how", shutdown(k1, 42));
    CALL("shutdown ok", shutdown(k1, SHUT_WR));
    int one = 1;
    CALL("setsockopt bad level", setsockopt(t2, 9999, 1, &one, sizeof one));
    CALL("setsockopt ok", setsockopt(t2, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
    int err = -1;
    socklen_t el = sizeof err;
    CALL("getsockopt SO_ERROR", getsockopt(nb, SOL_SOCKET, SO_ERROR, &err, &el));
    printf("   SO_ERROR value=%d len=%u\n", err, el);
    el = 1;
    CALL("getsockopt short", getsockopt(nb, SOL_SOCKET, SO_TYPE, &err, &el));
    int sv[2];
    CALL("socketpair bad family", socketpair(AF_INET, SOCK_STREAM, 0, sv));
    CALL("socketpair ok", socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    CALL("sendto unbound udp", sendto(u, "x", 1, 0, (struct sockaddr *)&port, sizeof port));
    CALL("sendto EFAULT address", sendto(u, "x", 1, 0, (struct sockaddr *)1, sizeof port));
    CALL("send on unconnected tcp", sendto(t2, "x", 1, MSG_NOSIGNAL, NULL, 0));
    char buf[8];
    struct iovec iov = {buf, sizeof buf};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    CALL("recvmsg empty non-blocking", recvmsg(u, &m, MSG_DONTWAIT));
    CALL("recvmsg bad fd", recvmsg(-1, &m, 0));
    struct sockaddr_un un = {.sun_family = AF_UNIX, .sun_path = "/nonexistent/dir/sock"};
    int us = socket(AF_UNIX, SOCK_STREAM, 0);
    CALL("bind unix missing dir", bind(us, (struct sockaddr *)&un, sizeof un));
    CALL("connect unix missing", connect(us, (struct sockaddr *)&un, sizeof un));
    CALL("bind unix autobind", bind(us, (struct sockaddr *)&un, sizeof(sa_family_t)));
    CALL("next fd number", dup(0));
    return 0;
}
