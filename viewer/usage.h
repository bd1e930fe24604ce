/* usage.h - usage errors, reported the same way everywhere. */
#ifndef SOCKTRACE_USAGE_H
#define SOCKTRACE_USAGE_H

/* Usage errors: one line to stderr ("socktrace: unknown option --jsn; see
 * socktrace show --help"), return 2. With fmt NULL it names what getopt
 * refused, from cli_argv (the verb's argv, set by main with opterr 0). */
int usage_error(const char *usage, const char *fmt, const char *arg);
extern char **cli_argv;

#endif
