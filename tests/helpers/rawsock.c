/* rawsock.c - sockets the tracer cannot see: one made by a raw system
 * call, and a traced one closed by a raw system call; plus one ordinary
 * listener. For `show --verify`, which must find both differences. Raw
 * means the `syscall` instruction itself: syscall(2) is followed. */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static long raw3(long n, long a, long b, long c)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "0"(n), "D"(a), "S"(b), "d"(c)
                     : "rcx", "r11", "memory");
    return r;
}

static struct sockaddr_in loopback = {.sin_family = AF_INET};

static int listener(int fd)
{
    return bind(fd, (const struct sockaddr *)&loopback, sizeof loopback) || listen(fd, 4);
}

/* the same by raw system calls: a traced bind would show the tracer the fd */
static int raw_listener(int fd)
{
    return raw3(SYS_bind, fd, (long)&loopback, sizeof loopback) || raw3(SYS_listen, fd, 4, 0);
}

int main(void)
{
    loopback.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int seen = socket(AF_INET, SOCK_STREAM, 0);
    int raw = (int)raw3(SYS_socket, AF_INET, SOCK_STREAM, 0);
    int gone = socket(AF_INET, SOCK_STREAM, 0);
    if (seen < 0 || raw < 0 || gone < 0 || listener(seen) || raw_listener(raw))
        return 1;
    raw3(SYS_close, gone, 0, 0);
    printf("FDS %d %d %d\nREADY pid=%d\n", seen, raw, gone, getpid());
    fflush(stdout);
    char c;
    while (read(0, &c, 1) > 0)
        ;
    return 0;
}
