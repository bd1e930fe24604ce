/* wrapsock.c - the test's stand-in for another preloaded library that
 * wraps socket() and bind(), as socket_wrapper or proxychains do: each
 * call prints "WRAP name" on stderr and goes on to the next definition
 * (t0178 puts it before and after libsocktrace.so). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void note(const char *line)
{
    if (write(2, line, strlen(line)) < 0)
        _exit(1);
}

static void *next_of(const char *name)
{
    void *p = dlsym(RTLD_NEXT, name);
    if (!p) {
        note("WRAP no next definition\n");
        _exit(90);
    }
    return p;
}

int socket(int domain, int type, int protocol)
{
    static int (*next)(int, int, int);
    if (!next)
        next = (int (*)(int, int, int))next_of("socket");
    note("WRAP socket\n");
    return next(domain, type, protocol);
}

int bind(int fd, const struct sockaddr *sa, socklen_t len)
{
    static int (*next)(int, const struct sockaddr *, socklen_t);
    if (!next)
        next = (int (*)(int, const struct sockaddr *, socklen_t))next_of("bind");
    note("WRAP bind\n");
    return next(fd, sa, len);
}
