/* output.c - aligned tables and JSON strings. Widths count UTF-8 code
 * points; a table wider than the terminal has its longest cells cut in the
 * middle, so the start and the end of an address or a command stay. */
#define _GNU_SOURCE
#include "output.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static bool use_color;
static bool wide;

void table_wide(bool on)
{
    wide = on;
}

void color_init(FILE *f, bool json)
{
    const char *nc = getenv("NO_COLOR");
    use_color = !json && isatty(fileno(f)) && !(nc && *nc);
}

const char *color(const char *code)
{
    static char buf[4][16];
    static int i;
    if (!use_color)
        return "";
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "\033[%sm", code);
    return buf[i];
}

struct table {
    bool no_header;
    bool *keep;         /* per column: never cut (numbers people type back) */
    int ncols;
    size_t nrows, cap;
    char **cells;       /* nrows * ncols, row 0 = headers */
    char **colors;
    size_t *width;
};

static size_t text_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            w++;
    return w;
}

struct table *table_new(int ncols, const char *const *headers)
{
    struct table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->ncols = ncols;
    t->width = calloc((size_t)ncols, sizeof *t->width);
    t->keep = calloc((size_t)ncols, sizeof *t->keep);
    if (!t->width || !t->keep) {
        free(t->width);
        free(t->keep);
        free(t);
        return NULL;
    }
    /* a pid or an fd cut in the middle is a different, valid number */
    static const char *const whole[] = {"FD", "PID", "PPID", "PORT", "FD2", "PROCESSES"};
    for (int i = 0; i < ncols; i++)
        for (size_t k = 0; k < sizeof whole / sizeof *whole; k++)
            if (headers[i] && !strcmp(headers[i], whole[k]))
                t->keep[i] = true;
    table_add(t, headers, NULL);
    return t;
}

void table_add(struct table *t, const char *const *cells, const char *const *colors)
{
    if (!t)
        return;
    if (t->nrows == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 64;
        char **c = realloc(t->cells, ncap * (size_t)t->ncols * sizeof *c);
        if (!c)
            return;
        t->cells = c;
        char **k = realloc(t->colors, ncap * (size_t)t->ncols * sizeof *k);
        if (!k)
            return;
        t->colors = k;
        t->cap = ncap;
    }
    for (int i = 0; i < t->ncols; i++) {
        const char *v = cells[i] ? cells[i] : "";
        size_t at = t->nrows * (size_t)t->ncols + (size_t)i;
        t->cells[at] = strdup(v);
        t->colors[at] = colors && colors[i] ? strdup(colors[i]) : NULL;
        size_t w = text_width(v);
        if (w > t->width[i])
            t->width[i] = w;
    }
    t->nrows++;
}

/* The width a table must fit: the terminal's when f is one, else
 * $COLUMNS, else none (0): a pipe or a file gets every cell whole. */
static size_t line_limit(FILE *f)
{
    if (wide)
        return 0;
    struct winsize ws;
    if (isatty(fileno(f)) && ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    const char *c = getenv("COLUMNS");
    char *end;
    long n = c && *c ? strtol(c, &end, 10) : 0;
    return n > 0 && n < 100000 && !*end ? (size_t)n : 0;
}

/* The marker that stands for what was cut: one column either way. */
static const char *ellipsis(void)
{
    static const char *e;
    if (!e) {
        const char *l = getenv("LC_ALL");
        if (!l || !*l)
            l = getenv("LC_CTYPE");
        if (!l || !*l)
            l = getenv("LANG");
        e = l && (strcasestr(l, "UTF-8") || strcasestr(l, "utf8")) ? "\xe2\x80\xa6" : "...";
    }
    return e;
}

/* Byte offset of code point n of s (or its end). */
static size_t cp_offset(const char *s, size_t n)
{
    size_t i = 0;
    for (; s[i]; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80 && n-- == 0)
            break;
    return i;
}

/* Narrows the widest cuttable column, one step at a time, until a line
 * fits limit or every such column is down to min_w (or its header). */
static size_t narrow(struct table *t, size_t *w, size_t total, size_t limit, size_t min_w)
{
    while (total > limit) {
        int pick = -1;
        for (int i = 0; i < t->ncols; i++) {
            size_t floor = text_width(t->cells[i]);
            if (floor < min_w)
                floor = min_w;
            if (!t->keep[i] && w[i] > floor && (pick < 0 || w[i] > w[pick]))
                pick = i;
        }
        if (pick < 0)
            break;
        w[pick]--;
        total--;
    }
    return total;
}

/* Long cells (addresses, paths, commands) are cut first, down to 16
 * columns; only then short ones, down to 6: "/tm…ck" still tells a path
 * from an address. */
static void fit(struct table *t, size_t *w, size_t limit)
{
    size_t total = 0;
    for (int i = 0; i < t->ncols; i++)
        total += w[i] + (i ? 2 : 0);
    total = narrow(t, w, total, limit, 16);
    narrow(t, w, total, limit, 6);
}

/* v cut to width cells, start and end kept around the marker */
static const char *cut(const char *v, size_t width, char *buf, size_t size)
{
    size_t len = text_width(v);
    if (len <= width)
        return v;
    const char *e = ellipsis();
    size_t ew = text_width(e);
    if (width <= ew) {
        snprintf(buf, size, "%.*s", (int)cp_offset(e, width), e);
        return buf;
    }
    size_t tail = (width - ew) / 2, head = width - ew - tail;
    size_t hb = cp_offset(v, head), tb = cp_offset(v, len - tail);
    snprintf(buf, size, "%.*s%s%s", (int)hb, v, e, v + tb);
    return buf;
}

void table_print(struct table *t, FILE *f)
{
    if (!t)
        return;
    size_t *w = malloc((size_t)t->ncols * sizeof *w);
    if (!w)
        return;
    memcpy(w, t->width, (size_t)t->ncols * sizeof *w);
    size_t limit = line_limit(f);
    if (limit)
        fit(t, w, limit);
    for (size_t r = t->no_header ? 1 : 0; r < t->nrows; r++) {
        /* no padding after the last cell with text: lines end clean */
        int end = t->ncols;
        for (const char *v; end > 1; end--) {
            v = t->cells[r * (size_t)t->ncols + (size_t)end - 1];
            if (v && *v)
                break;
        }
        for (int i = 0; i < end; i++) {
            size_t at = r * (size_t)t->ncols + (size_t)i;
            char buf[4096];
            const char *v = cut(t->cells[at] ? t->cells[at] : "", w[i], buf, sizeof buf);
            const char *c = r == 0 ? C_BOLD : t->colors[at];
            bool last = i == end - 1;
            if (c && *color(c))
                fprintf(f, "%s%s%s", color(c), v, color("0"));
            else
                fputs(v, f);
            if (!last) {
                size_t pad = w[i] - text_width(v) + 2;
                fprintf(f, "%*s", (int)pad, "");
            }
        }
        fputc('\n', f);
    }
    free(w);
}

void table_min_widths(struct table *t, const unsigned *w)
{
    for (int i = 0; t && i < t->ncols; i++)
        if (t->width[i] < w[i])
            t->width[i] = w[i];
}

void table_skip_header(struct table *t)
{
    if (t)
        t->no_header = true;
}

void table_free(struct table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nrows * (size_t)t->ncols; i++) {
        free(t->cells[i]);
        free(t->colors[i]);
    }
    free(t->cells);
    free(t->colors);
    free(t->width);
    free(t->keep);
    free(t);
}

/* Length of the valid UTF-8 sequence at p, or 0. JSON must be UTF-8,
 * and command lines and unix paths are arbitrary bytes. */
static int utf8_len(const unsigned char *p)
{
    int n = *p >= 0xf0 && *p <= 0xf4 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc2 && *p < 0xe0 ? 2 : 0;
    for (int i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    return n;
}

void json_str(FILE *f, const char *s)
{
    if (!s) {
        fputs("null", f);
        return;
    }
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\t': fputs("\\t", f); break;
        case '\r': fputs("\\r", f); break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                fprintf(f, "\\u%04x", *p);
            } else if (*p < 0x80) {
                fputc(*p, f);
            } else {
                int n = utf8_len(p);
                if (n == 0) {
                    fputs("\\ufffd", f);
                } else {
                    fwrite(p, 1, (size_t)n, f);
                    p += n - 1;
                }
            }
        }
    }
    fputc('"', f);
}

void json_key(FILE *f, bool *first, const char *key)
{
    if (!*first)
        fputc(',', f);
    *first = false;
    json_str(f, key);
    fputc(':', f);
}
