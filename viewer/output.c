/* output.c - aligned tables and JSON strings. Widths count UTF-8 code
 * points, so a long unix path widens its column instead of breaking it. */
#define _GNU_SOURCE
#include "output.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool use_color;

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

void table_print(struct table *t, FILE *f)
{
    if (!t)
        return;
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
            const char *v = t->cells[at] ? t->cells[at] : "";
            const char *c = r == 0 ? C_BOLD : t->colors[at];
            bool last = i == end - 1;
            if (c && *color(c))
                fprintf(f, "%s%s%s", color(c), v, color("0"));
            else
                fputs(v, f);
            if (!last) {
                size_t pad = t->width[i] - text_width(v) + 2;
                fprintf(f, "%*s", (int)pad, "");
            }
        }
        fputc('\n', f);
    }
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
