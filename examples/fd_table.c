/* fd_table.c - the calls that change which fds are sockets without making
 * one, and the endpoint changes that come late: dup, dup2 onto a socket,
 * dup3, fcntl(F_DUPFD_CLOEXEC), close_range, an fclose the tracer cannot
 * see, a socket received over SCM_RIGHTS, listen without bind,
 * IP_BIND_ADDRESS_NO_PORT, shutdown, UDP connect and AF_UNSPEC.
 * Prints every socket it still holds, as it sees them. */
#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/syscall.h>

#include "example.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

static void send_fd(int via, int fd)
{
    char byte = 'x';
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                       .msg_controllen = sizeof u.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    if (sendmsg(via, &m, 0) != 1)
        DIE("sendmsg");
}

static int recv_fd(int via)
{
    char byte;
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                       .msg_controllen = sizeof u.buf};
    if (recvmsg(via, &m, 0) != 1)
        DIE("recvmsg");
    int fd;
    memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof fd);
    return fd;
}

int main(void)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (listen(l, 8) != 0)              /* unbound: the kernel picks a port */
        DIE("listen");
    int port = ex_port_of(l);
    int c = ex_connect_tcp("127.0.0.1", port);
    int a = accept(l, NULL, NULL);

    int d1 = dup(c);                    /* alias of the client */
    int d2 = fcntl(a, F_DUPFD_CLOEXEC, 20);
    int victim = socket(AF_INET, SOCK_DGRAM, 0);
    dup2(d1, victim);                   /* closes the UDP socket */
    close(d1);                          /* the alias under victim stays */
    int d3 = dup3(a, 30, O_CLOEXEC);

    /* a close through stdio: the tracer does not see it; the next socket
     * gets the same fd number, which proves the old entry closed */
    int hidden = socket(AF_INET, SOCK_DGRAM, 0);
    FILE *f = fdopen(hidden, "r+");
    fclose(f);
    int reuse = socket(AF_INET6, SOCK_DGRAM, 0);
    if (reuse != hidden)
        fprintf(stderr, "fd not reused (%d vs %d)\n", reuse, hidden);

    int tmp[3];
    for (int i = 0; i < 3; i++)
        tmp[i] = socket(AF_INET, SOCK_STREAM, 0);
    dup2(tmp[0], 40);
    dup2(tmp[1], 41);
    dup2(tmp[2], 42);
    for (int i = 0; i < 3; i++)
        close(tmp[i]);
    close_range(40, 41, 0);             /* 40 and 41 gone */
    close_range(42, 42, CLOSE_RANGE_CLOEXEC);

    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    int srv6 = ex_listen_tcp("::1", 0);
    send_fd(sv[0], srv6);
    int got = recv_fd(sv[1]);           /* the same listener, received */
    close(srv6);

    int np = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(np, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    struct sockaddr_in lo = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &lo.sin_addr);
    bind(np, (struct sockaddr *)&lo, sizeof lo);   /* no port yet */
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    connect(np, (struct sockaddr *)&to, sizeof to); /* port chosen now */
    int a2 = accept(l, NULL, NULL);
    shutdown(a2, SHUT_WR);

    int u = socket(AF_INET, SOCK_DGRAM, 0);
    connect(u, (struct sockaddr *)&to, sizeof to);
    int u2 = socket(AF_INET, SOCK_DGRAM, 0);
    connect(u2, (struct sockaddr *)&to, sizeof to);
    struct sockaddr unspec = {.sa_family = AF_UNSPEC};
    connect(u2, &unspec, sizeof unspec);

    /* closed by a raw system call: no libc function, no hook (the
     * instruction itself: syscall(2) is one the tracer follows) */
    int raw = socket(AF_INET, SOCK_STREAM, 0);
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "0"((long)SYS_close), "D"((long)raw)
                     : "rcx", "r11", "memory");

    int fds[] = {l, c, a, victim, d2, d3, reuse, 42, sv[0], sv[1], got, np, a2, u, u2};
    for (size_t i = 0; i < sizeof fds / sizeof *fds; i++)
        ex_print_sock("held", fds[i]);
    printf("FDS raw=%d victim=%d d2=%d d3=%d reuse=%d got=%d np=%d a2=%d u=%d u2=%d\n", raw, victim, d2,
           d3, reuse, got, np, a2, u, u2);
    ex_ready_and_wait();
    return 0;
}
