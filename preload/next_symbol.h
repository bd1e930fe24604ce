/* next_symbol.h - the next definition of a symbol after this library, as
 * dlsym(RTLD_NEXT) would find it, without libdl. */
#ifndef SOCKTRACE_NEXT_SYMBOL_H
#define SOCKTRACE_NEXT_SYMBOL_H

/* The default version of name in the first object loaded after the one
 * this code is linked into that defines it, among those loaded when the
 * loader's list was first read (st_next_symbol_init, or the first lookup);
 * NULL when none does. Never allocates, and takes the loader's list lock
 * (dl_iterate_phdr) only that first time, or while another thread reads
 * the list then, or for a list longer than 256 objects. An IFUNC's
 * resolver is called, as the loader would. */
void *st_next_symbol(const char *name);
/* Reads the list, if no lookup has (the constructor: before any other
 * thread can hold the loader's lock across a fork). Lookups then take
 * no lock. */
void st_next_symbol_init(void);

#endif
