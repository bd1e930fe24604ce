/* since.c - the times and durations a person types for --since and
 * --timeout (since.h): "30s", "14:05", "2026-11-24T18:09:11", "@EPOCH". */
#define _GNU_SOURCE
#include "since.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int since_duration(const char *s, double *sec)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !(v >= 0) || !isfinite(v) || s[0] == '-' || s[0] == '+')
        return -1;
    static const struct { const char *unit; double mult; } units[] = {
        {"", 1}, {"s", 1}, {"ms", 1e-3}, {"m", 60}, {"min", 60}, {"h", 3600}, {"d", 86400},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (!strcmp(end, units[i].unit)) {
            *sec = v * units[i].mult;
            return 0;
        }
    return -1;
}

int since_time(const char *arg, uint64_t *ns)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    double sec;
    if (arg[0] == '@') {
        if (since_duration(arg + 1, &sec) != 0 || strpbrk(arg + 1, "smhd"))
            return -1;
        *ns = (uint64_t)(sec * 1e9);
        return *ns ? 0 : -1;
    }
    if (since_duration(arg, &sec) == 0) {
        uint64_t d = (uint64_t)(sec * 1e9);
        *ns = d < now ? now - d : 1;
        return 0;
    }
    /* a clock time: today's, or a full local date and time */
    struct tm tm;
    time_t t = (time_t)(now / 1000000000ull);
    localtime_r(&t, &tm);
    static const char *const forms[] = {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
                                        "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M",
                                        "%H:%M:%S", "%H:%M"};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        struct tm x = tm;
        x.tm_sec = 0;
        const char *end = strptime(arg, forms[i], &x);
        if (!end)
            continue;
        double frac = 0;
        if (*end == '.') {
            char *e2;
            frac = strtod(end, &e2);
            end = e2;
        }
        if (*end)
            continue;
        x.tm_isdst = -1;
        time_t v = mktime(&x);
        if (v == (time_t)-1 || v < 0)
            return -1;
        *ns = (uint64_t)v * 1000000000ull + (uint64_t)(frac * 1e9);
        return 0;
    }
    return -1;
}
