/* next_symbol.h - the next definition of a symbol after this library, as
 * dlsym(RTLD_NEXT) would find it, without libdl. */
#ifndef SOCKTRACE_NEXT_SYMBOL_H
#define SOCKTRACE_NEXT_SYMBOL_H

/* The default version of name in the first object loaded after the one
 * this code is linked into that defines it; NULL when none does. Takes no
 * lock but the loader's list lock (dl_iterate_phdr) and never allocates. */
void *st_next_symbol(const char *name);

#endif
