/* output.h - the two ways the viewer prints: aligned text tables (colour
 * only on a terminal without NO_COLOR) and JSON. */
#ifndef SOCKTRACE_OUTPUT_H
#define SOCKTRACE_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

/* Colour: decided once from the stream and NO_COLOR; off with --json. */
void color_init(FILE *f, bool json);
const char *color(const char *code);   /* "" when colour is off */
#define C_BOLD  "1"
#define C_DIM   "2"
#define C_RED   "31"
#define C_GREEN "32"
#define C_YELLOW "33"
#define C_CYAN  "36"

/* A table: cells are copied; print aligns each column to its widest
 * cell. A cell may carry a colour code that does not count as width. */
struct table;
struct table *table_new(int ncols, const char *const *headers);
void table_add(struct table *t, const char *const *cells, const char *const *colors);
/* Prints the table. On a terminal (its width), or with $COLUMNS set, a
 * line wider than that has its widest cells cut in the middle ("/tmp/a…
 * sock"); FD, PID, PPID, PORT and PROCESSES (pids) columns are never cut. */
void table_print(struct table *t, FILE *f);
/* -w/--wide: every cell whole, whatever the width (as `ps -w`). */
void table_wide(bool on);
/* Columns at least this wide (one per column): rows printed in batches,
 * as `events -f` does, stay aligned. */
void table_min_widths(struct table *t, const unsigned *w);
/* Prints no header row (the widths still count it). */
void table_skip_header(struct table *t);
void table_free(struct table *t);

/* JSON: strings escaped; NULL as null. */
void json_str(FILE *f, const char *s);
void json_key(FILE *f, bool *first, const char *key);

#endif
