/* cli.c - what every verb does with its command line: report a usage
 * error the same way, and read a pid. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"

int usage_error(const char *text, const char *fmt, const char *arg)
{
    if (fmt) {
        fputs("socktrace: ", stderr);
        fprintf(stderr, fmt, arg);
        fputc('\n', stderr);
    }
    fputs(text, stderr);
    return 2;
}

int parse_pid(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v <= 0 || v > 0x7fffffffL)
        return -1;
    return (int)v;
}
