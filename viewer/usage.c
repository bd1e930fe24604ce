/* usage.c - a usage error, said the same way by every verb and by the
 * selection's option parser: one line naming what was wrong and where
 * help is. */
#include "usage.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

char **cli_argv;

/* What getopt refused (it says nothing: opterr is 0): the word as typed. */
static void bad_option(const char *text, char *buf, size_t size)
{
    const char *a = cli_argv && optind > 1 ? cli_argv[optind - 1] : NULL;
    if (a && !strncmp(a, "--", 2)) {
        const char *eq = strchr(a, '=');
        if (!optopt)
            snprintf(buf, size, "unknown option %.*s", (int)(eq ? eq - a : (long)strlen(a)), a);
        else
            snprintf(buf, size, eq ? "option %s takes no value" : "option %s needs a value", a);
        return;
    }
    /* a short option the verb knows was refused for its missing value */
    char known[8];
    snprintf(known, sizeof known, "  -%c,", optopt);
    if (optopt && strstr(text, known))
        snprintf(buf, size, "option -%c needs a value", optopt);
    else if (optopt)
        snprintf(buf, size, "unknown option -%c", optopt);
    else
        snprintf(buf, size, "bad option %s", a ? a : "");
}

int usage_error(const char *text, const char *fmt, const char *arg)
{
    char what[512];
    if (fmt)
        snprintf(what, sizeof what, fmt, arg);
    else
        bad_option(text, what, sizeof what);
    /* the verb, from "usage: socktrace VERB ...", names where help is */
    char verb[32] = "";
    const char *v = strstr(text, "socktrace ");
    if (v && v[10] != '[')
        sscanf(v + 10, "%31[a-z]", verb);
    fprintf(stderr, "socktrace: %s; see socktrace%s%s --help\n", what, verb[0] ? " " : "", verb);
    return 2;
}
