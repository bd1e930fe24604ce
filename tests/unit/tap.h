/* tap.h - the few lines of TAP the unit tests print. */
#ifndef SOCKTRACE_TAP_H
#define SOCKTRACE_TAP_H
#include <stdio.h>
#include <string.h>
static int tap_n, tap_failed;
#define OK(cond, ...) do { tap_n++; if (cond) printf("ok %d - ", tap_n); \
    else { tap_failed++; printf("not ok %d - ", tap_n); } printf(__VA_ARGS__); putchar('\n'); } while (0)
#define IS_STR(got, want, desc) do { const char *g_ = (got), *w_ = (want); \
    OK(strcmp(g_, w_) == 0, "%s", desc); if (strcmp(g_, w_)) printf("#   got '%s', want '%s'\n", g_, w_); } while (0)
#define DONE() (printf("1..%d\n", tap_n), tap_failed != 0)
#endif
