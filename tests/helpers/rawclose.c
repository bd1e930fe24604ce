/* rawclose.c - a traced socket closed where no hook can see it: by the
 * syscall instruction itself (x86-64), not libc's close nor syscall(2),
 * which a tracer may hook. Beside it a listener that stays open. For
 * t0810: show, show --verify and ps must agree on what is open. */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static long raw_close(int fd)
{
#if defined(__x86_64__)
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"((long)SYS_close), "D"((long)fd)
                     : "rcx", "r11", "memory");
    return ret;
#else
    return syscall(SYS_close, fd);
#endif
}

int main(void)
{
    struct sockaddr_in lo = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int keep = socket(AF_INET, SOCK_STREAM, 0);
    int gone = socket(AF_INET, SOCK_DGRAM, 0);
    if (keep < 0 || gone < 0 || bind(keep, (struct sockaddr *)&lo, sizeof lo) ||
        listen(keep, 4) || bind(gone, (struct sockaddr *)&lo, sizeof lo))
        return 1;
    if (raw_close(gone) != 0)
        return 1;
    printf("FDS %d %d\nREADY pid=%d\n", keep, gone, getpid());
    fflush(stdout);
    char c;
    while (read(0, &c, 1) > 0)
        ;
    return 0;
}
