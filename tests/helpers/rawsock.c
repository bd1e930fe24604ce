/* rawsock.c - sockets the tracer cannot see: one made by a raw system
 * call, and a traced one closed by a raw system call; plus one ordinary
 * listener. For `show --verify`, which must find both differences. */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static struct sockaddr_in loopback = {.sin_family = AF_INET};

static int listener(int fd)
{
    return bind(fd, (const struct sockaddr *)&loopback, sizeof loopback) || listen(fd, 4);
}

/* the same by raw system calls: a traced bind would show the tracer the fd */
static int raw_listener(int fd)
{
    return syscall(SYS_bind, fd, &loopback, sizeof loopback) || syscall(SYS_listen, fd, 4);
}

int main(void)
{
    loopback.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int seen = socket(AF_INET, SOCK_STREAM, 0);
    int raw = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
    int gone = socket(AF_INET, SOCK_STREAM, 0);
    if (seen < 0 || raw < 0 || gone < 0 || listener(seen) || raw_listener(raw))
        return 1;
    syscall(SYS_close, gone);
    printf("FDS %d %d %d\nREADY pid=%d\n", seen, raw, gone, getpid());
    fflush(stdout);
    char c;
    while (read(0, &c, 1) > 0)
        ;
    return 0;
}
