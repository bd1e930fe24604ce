/* cli.c - what every verb does with its command line: the options they
 * share (verb_args), and a verb with a single flag (flag_args). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "output.h"
#include "select.h"

/* The entries of an option table before its {0} end. */
static size_t n_opts(const struct option *o)
{
    size_t n = 0;
    while (o && o[n].name)
        n++;
    return n;
}

/* getopt_long's table and short letters for a verb: its own options,
 * then those of the shared ones flags asks for. Returns -1 when they do
 * not fit (a verb's table, not the user's words). */
static int options_of(unsigned flags, const struct verb_opts *own, struct option *opts,
                      size_t max, char *shorts, size_t smax)
{
    static const struct option shared[] = {
        {"json", no_argument, NULL, 'j'},
        {"wide", no_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},
        SELECT_OPTIONS,
    };
    const size_t n_shared = sizeof shared / sizeof shared[0];
    size_t n = 0, ns = 0, mine = own ? n_opts(own->opts) : 0;
    const char *letters = own && own->shorts ? own->shorts : "";
    if (mine + n_shared + 1 > max || strlen(letters) + sizeof SELECT_SHORT + 5 > smax)
        return -1;
    for (size_t i = 0; i < mine; i++)
        opts[n++] = own->opts[i];
    for (size_t i = 0; i < n_shared; i++) {
        int v = shared[i].val;
        if ((v == 'j' && !(flags & VERB_JSON)) || (v == 'w' && !(flags & VERB_WIDE)) ||
            (v != 'j' && v != 'w' && v != 'h' && !(flags & VERB_SELECT)))
            continue;
        opts[n++] = shared[i];
    }
    opts[n] = (struct option){0, 0, 0, 0};
    if (flags & VERB_COMMAND)
        shorts[ns++] = '+';     /* options stop at the command: its own stay its own */
    for (const char *l = letters; *l; l++)
        shorts[ns++] = *l;
    if (flags & VERB_JSON)
        shorts[ns++] = 'j';
    if (flags & VERB_WIDE)
        shorts[ns++] = 'w';
    shorts[ns++] = 'h';
    for (const char *l = flags & VERB_SELECT ? SELECT_SHORT : ""; *l; l++)
        shorts[ns++] = *l;
    shorts[ns] = 0;
    return 0;
}

int verb_args(struct ctx *c, int argc, char **argv, const char *usage, unsigned flags,
              const struct verb_opts *own, struct verb_args *a)
{
    struct option opts[48];
    char shorts[64];
    if (options_of(flags, own, opts, sizeof opts / sizeof opts[0], shorts, sizeof shorts)) {
        fputs("socktrace: a verb with too many options\n", stderr);
        return 1;
    }
    memset(a, 0, sizeof *a);
    if ((flags & VERB_SELECT) && !(a->sel = select_new(c->prog)))
        return 1;
    int o, status = -1;
    optind = 1;
    while (status < 0 && (o = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
        int r = own && own->take ? own->take(own->ctx, o, optarg) : 1;
        if (r != 1)
            status = r ? r : -1;
        else if (o == 'h')
            status = (fputs(usage, stdout), 0);
        else if (o == 'j' && (flags & VERB_JSON))
            a->json = true;
        else if (o == 'w' && (flags & VERB_WIDE))
            table_wide(true);
        else if (flags & VERB_SELECT)
            status = select_take(a->sel, o, optarg, usage) ? 2 : -1;
        else
            status = usage_error(usage, NULL, NULL);
    }
    if (status < 0 && (flags & VERB_SELECT)) {
        if (select_words(a->sel, argc - optind, argv + optind))
            status = 2;
    } else if (status < 0 && optind != argc && !(flags & VERB_COMMAND)) {
        status = usage_error(usage, "unexpected argument: %s", argv[optind]);
    }
    a->words = optind;
    if (status >= 0) {
        select_free(a->sel);
        a->sel = NULL;
    }
    return status;
}

int verb_take_flag(void *ctx, int o, const char *arg)
{
    (void)arg;
    const struct verb_flag *f = ctx;
    if (o != f->letter)
        return 1;
    *f->on = true;
    return 0;
}

int flag_args(int argc, char **argv, const char *usage, const char *name, bool *flag)
{
    const struct option opts[] = {{name, no_argument, NULL, name[0]}, {0, 0, 0, 0}};
    const char shorts[] = {name[0], 0};
    struct verb_flag f = {name[0], flag};
    const struct verb_opts own = {opts, shorts, verb_take_flag, &f};
    struct verb_args a;
    *flag = false;
    return verb_args(NULL, argc, argv, usage, VERB_WIDE, &own, &a);
}
