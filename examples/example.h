/* example.h - what every example shares: printing a socket as the program
 * itself sees it (its own getsockname/getpeername), in the text form the
 * viewer uses, and holding still until the test is done looking. */
#ifndef SOCKTRACE_EXAMPLE_H
#define SOCKTRACE_EXAMPLE_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define DIE(what) do { perror(what); exit(1); } while (0)

/* Where SOCK and READY lines go: stdout, but an inetd service's stdout is
 * its connection, so it switches to stderr. */
static FILE *ex_out;
#define EX_OUT (ex_out ? ex_out : stdout)

static inline void ex_addr(const struct sockaddr_storage *ss, socklen_t len, char *buf,
                    size_t size)
{
    char ip[INET6_ADDRSTRLEN];
    const struct sockaddr_in *in = (const void *)ss;
    const struct sockaddr_in6 *in6 = (const void *)ss;
    const struct sockaddr_un *un = (const void *)ss;
    size_t off = offsetof(struct sockaddr_un, sun_path);
    switch (ss->ss_family) {
    case AF_INET:
        if (in->sin_port == 0 && in->sin_addr.s_addr == 0)
            goto none;
        snprintf(buf, size, "%s:%u", inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip),
                 ntohs(in->sin_port));
        return;
    case AF_INET6:
        if (in6->sin6_port == 0 && IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr))
            goto none;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
            snprintf(buf, size, "%s:%u",
                     inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], ip, sizeof ip),
                     ntohs(in6->sin6_port));
        else
            snprintf(buf, size, "[%s]:%u",
                     inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip),
                     ntohs(in6->sin6_port));
        return;
    case AF_UNIX:
        if (len <= off)
            goto none;
        if (un->sun_path[0] == 0)
            snprintf(buf, size, "@%.*s", (int)(len - off - 1), un->sun_path + 1);
        else
            snprintf(buf, size, "%s", un->sun_path);
        return;
    }
none:
    snprintf(buf, size, "-");
}

/* "SOCK fd=3 local=127.0.0.1:40312 peer=127.0.0.1:8080" */
static inline void ex_print_sock(const char *label, int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char local[256] = "-", peer[256] = "-";
    memset(&ss, 0, sizeof ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
        ex_addr(&ss, len, local, sizeof local);
    len = sizeof ss;
    memset(&ss, 0, sizeof ss);
    if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
        ex_addr(&ss, len, peer, sizeof peer);
    fprintf(EX_OUT, "SOCK pid=%d fd=%d local=%s peer=%s what=%s\n", (int)getpid(),
            fd, local, peer, label);
    fflush(EX_OUT);
}

/* Tells the test we are ready, then waits for it to close our stdin. */
static inline void ex_ready_and_wait(void)
{
    char c;
    fprintf(EX_OUT, "READY pid=%d\n", (int)getpid());
    fflush(EX_OUT);
    while (read(0, &c, 1) > 0)
        ;
}

static inline int ex_listen_tcp(const char *ip, int port)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *in = (void *)&ss;
    struct sockaddr_in6 *in6 = (void *)&ss;
    socklen_t len;
    int family = strchr(ip, ':') ? AF_INET6 : AF_INET;
    if (family == AF_INET) {
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        inet_pton(AF_INET, ip, &in->sin_addr);
        len = sizeof *in;
    } else {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        inet_pton(AF_INET6, ip, &in6->sin6_addr);
        len = sizeof *in6;
    }
    int fd = socket(family, SOCK_STREAM, 0);
    int one = 1;
    if (fd < 0)
        DIE("socket");
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, len) != 0)
        DIE("bind");
    if (listen(fd, 64) != 0)
        DIE("listen");
    return fd;
}

static inline int ex_port_of(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        DIE("getsockname");
    return ss.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
                                   : ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static inline int ex_connect_tcp(const char *ip, int port)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len;
    int family = strchr(ip, ':') ? AF_INET6 : AF_INET;
    if (family == AF_INET) {
        struct sockaddr_in *in = (void *)&ss;
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        inet_pton(AF_INET, ip, &in->sin_addr);
        len = sizeof *in;
    } else {
        struct sockaddr_in6 *in6 = (void *)&ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        inet_pton(AF_INET6, ip, &in6->sin6_addr);
        len = sizeof *in6;
    }
    int fd = socket(family, SOCK_STREAM, 0);
    if (fd < 0)
        DIE("socket");
    if (connect(fd, (struct sockaddr *)&ss, len) != 0)
        DIE("connect");
    return fd;
}

#endif
