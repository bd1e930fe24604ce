/* startcalls.c - preloaded before libsocktrace.so, it stands in front of
 * the libc functions a start-up must not call (their text, tables or data
 * are pages each new process would fault in): each call prints
 * "STARTCALL name" on stderr, then goes on to libc's (t0177). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void note(const char *name)
{
    char line[64] = "STARTCALL ";
    strncat(line, name, sizeof line - 12);
    strcat(line, "\n");
    if (write(2, line, strlen(line)) < 0)
        _exit(1);
}

#define NEXT(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

/* Not a call to avoid: the mark that the constructor got as far as its
 * fork handler (pthread_atfork comes to this), so that a start-up that
 * did nothing at all does not pass for one that called nothing. */
int __register_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void),
                      void *dso);
int __register_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void),
                      void *dso)
{
    note("__register_atfork");
    return NEXT(__register_atfork)(prepare, parent, child, dso);
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    note("vsnprintf");
    return NEXT(vsnprintf)(buf, size, fmt, ap);
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    note("snprintf");
    va_list ap;
    va_start(ap, fmt);
    int n = NEXT(vsnprintf)(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

char *getenv(const char *name)
{
    note("getenv");
    return NEXT(getenv)(name);
}

char *secure_getenv(const char *name)
{
    note("secure_getenv");
    return NEXT(secure_getenv)(name);
}

uid_t geteuid(void)
{
    note("geteuid");
    return NEXT(geteuid)();
}

pid_t getpid(void)
{
    note("getpid");
    return NEXT(getpid)();
}

pid_t getppid(void)
{
    note("getppid");
    return NEXT(getppid)();
}

int clock_gettime(clockid_t c, struct timespec *ts)
{
    note("clock_gettime");
    return NEXT(clock_gettime)(c, ts);
}
