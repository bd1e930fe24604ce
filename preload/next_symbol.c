/* next_symbol.c - what dlsym(RTLD_NEXT, name) answers for a caller in this
 * library, found by reading the loaded objects' symbol tables ourselves.
 * Without dlsym the library needs no libdl.so.2, whose loading costs every
 * exec'd process six page faults and ten system calls. */
#define _GNU_SOURCE
#include "next_symbol.h"

#include <elf.h>
#include <link.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>

#include "portable.h"

/* The tables one object's dynamic section names. */
struct symtab {
    const ElfW(Sym) *sym;
    const char *str;
    size_t strsz;
    const uint32_t *gnu_hash;
    const ElfW(Word) *sysv_hash;
    const ElfW(Half) *versym;
};

struct search {
    const char *name;
    uint32_t gnu;               /* the name's GNU hash */
    unsigned long sysv;         /* and its System V hash */
    uintptr_t self;             /* an address inside this library */
    uintptr_t vdso;             /* the vDSO's ELF header, 0: none */
    bool after_self;            /* objects from here on are searched */
    void *found;
};

static uint32_t gnu_hash_of(const char *s)
{
    uint32_t h = 5381;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        h = h * 33 + *p;
    return h;
}

static unsigned long sysv_hash_of(const char *s)
{
    unsigned long h = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        h = (h << 4) + *p;
        unsigned long g = h & 0xf0000000ul;
        h ^= g >> 24;
        h &= ~g;
    }
    return h;
}

static bool contains(const struct dl_phdr_info *info, uintptr_t addr)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *p = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + p->p_vaddr;
        if (p->p_type == PT_LOAD && addr >= lo && addr - lo < p->p_memsz)
            return true;
    }
    return false;
}

/* glibc relocates the pointers of a writable dynamic section in place when
 * it loads an object; musl, and glibc for the vDSO, leave them relative */
static const void *dyn_ptr(const struct dl_phdr_info *info, ElfW(Addr) v)
{
    return (const void *)(v < info->dlpi_addr ? info->dlpi_addr + v : v);
}

static bool symtab_of(const struct dl_phdr_info *info, struct symtab *t)
{
    const ElfW(Dyn) *dyn = NULL;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
            dyn = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
    if (!dyn)
        return false;
    memset(t, 0, sizeof *t);
    for (; dyn->d_tag != DT_NULL; dyn++) {
        switch (dyn->d_tag) {
        case DT_SYMTAB: t->sym = dyn_ptr(info, dyn->d_un.d_ptr); break;
        case DT_STRTAB: t->str = dyn_ptr(info, dyn->d_un.d_ptr); break;
        case DT_STRSZ: t->strsz = dyn->d_un.d_val; break;
        case DT_GNU_HASH: t->gnu_hash = dyn_ptr(info, dyn->d_un.d_ptr); break;
        case DT_HASH: t->sysv_hash = dyn_ptr(info, dyn->d_un.d_ptr); break;
        case DT_VERSYM: t->versym = dyn_ptr(info, dyn->d_un.d_ptr); break;
        default: break;
        }
    }
    return t->sym && t->str && (t->gnu_hash || t->sysv_hash);
}

/* Symbol i, if it is a definition of the name that dlsym without a
 * version would take: defined, a function or an object, global or weak,
 * and not a hidden (non-default, name@VERSION) version. */
static void *take(uintptr_t base, const struct symtab *t, uint32_t i, const char *name)
{
    const ElfW(Sym) *s = &t->sym[i];
    unsigned type = ELF64_ST_TYPE(s->st_info), bind = ELF64_ST_BIND(s->st_info);
    if (s->st_shndx == SHN_UNDEF || s->st_value == 0 || s->st_name >= t->strsz ||
        (type != STT_FUNC && type != STT_GNU_IFUNC && type != STT_OBJECT) ||
        (bind != STB_GLOBAL && bind != STB_WEAK) ||
        (t->versym && (t->versym[i] & 0x8000)) ||
        strcmp(t->str + s->st_name, name) != 0)
        return NULL;
    uintptr_t addr = base + s->st_value;
    /* what the loader binds an IFUNC to: its resolver's answer (x86-64
     * resolvers take no arguments) */
    if (type == STT_GNU_IFUNC)
        addr = (uintptr_t)((void *(*)(void))addr)();
    return (void *)addr;
}

static void *lookup_gnu(uintptr_t base, const struct symtab *t, const struct search *q)
{
    const uint32_t *h = t->gnu_hash;
    uint32_t nbuckets = h[0], symoff = h[1], bloom_n = h[2], shift = h[3];
    if (!nbuckets || !bloom_n)
        return NULL;
    const ElfW(Addr) *bloom = (const ElfW(Addr) *)(h + 4);
    const uint32_t *buckets = (const uint32_t *)(bloom + bloom_n);
    const uint32_t *chain = buckets + nbuckets;
    enum { BITS = sizeof(ElfW(Addr)) * 8 };
    ElfW(Addr) word = bloom[(q->gnu / BITS) % bloom_n];
    ElfW(Addr) mask = (ElfW(Addr))1 << (q->gnu % BITS) |
                      (ElfW(Addr))1 << ((q->gnu >> shift) % BITS);
    if ((word & mask) != mask)
        return NULL;
    uint32_t i = buckets[q->gnu % nbuckets];
    if (i < symoff)
        return NULL;
    for (;; i++) {
        uint32_t c = chain[i - symoff];
        if ((c | 1) == (q->gnu | 1)) {
            void *p = take(base, t, i, q->name);
            if (p)
                return p;
        }
        if (c & 1)
            return NULL;
    }
}

static void *lookup_sysv(uintptr_t base, const struct symtab *t, const struct search *q)
{
    const ElfW(Word) *h = t->sysv_hash;
    ElfW(Word) nbucket = h[0], nchain = h[1];
    if (!nbucket)
        return NULL;
    const ElfW(Word) *bucket = h + 2, *chain = bucket + nbucket;
    for (ElfW(Word) i = bucket[q->sysv % nbucket]; i && i < nchain; i = chain[i]) {
        void *p = take(base, t, i, q->name);
        if (p)
            return p;
    }
    return NULL;
}

/* The objects a lookup searches, in the loader's order: those loaded
 * after this library when the list was first read, or, for a library
 * that was itself dlopen'd (nothing after it then), every other one. Read
 * once (at start-up, or by the first lookup) and never again: the loader's
 * list lock that dl_iterate_phdr takes is not reset by fork in the child,
 * so a child forked while another thread held it (an unwinder, a
 * profiler) would wait for ever at its first lookup; and objects loaded
 * at start-up are never unloaded, so their tables stay valid unlocked
 * (for a preloaded library, all it reads are such objects). */
#define OBJECTS 256
struct loaded_object {
    uintptr_t base;
    struct symtab t;
};
/* global only because a common symbol must be (ST_BSS_LAST) */
struct loaded_object st_next_objects[OBJECTS] ST_BSS_LAST;
static int first_object, n_objects;     /* st_next_objects[first_object..n_objects) */
static int list_state;  /* LIST_*: written once, then only read */
enum { LIST_NONE, LIST_READING, LIST_READ, LIST_TOO_LONG };

struct reading {
    uintptr_t self, vdso;
    int n;              /* objects kept */
    int self_at;        /* how many of them came before us; -1: not met */
    bool too_long;
};

static int keep_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct reading *r = arg;
    if (contains(info, r->self)) {
        r->self_at = r->n;
        return 0;
    }
    /* the loader lists the vDSO, but does not search it for dlsym */
    struct symtab t;
    if ((r->vdso && contains(info, r->vdso)) || !symtab_of(info, &t))
        return 0;
    if (r->n == OBJECTS) {
        r->too_long = true;
        return 1;
    }
    st_next_objects[r->n].base = info->dlpi_addr;
    st_next_objects[r->n].t = t;
    r->n++;
    return 0;
}

/* The list as the loader has it now, kept; false when another thread is
 * reading it at this moment or it is too long to keep. */
static bool read_list(void)
{
    int state = __atomic_load_n(&list_state, __ATOMIC_ACQUIRE);
    if (state == LIST_READ)
        return true;
    int none = LIST_NONE;
    if (state != LIST_NONE ||
        !__atomic_compare_exchange_n(&list_state, &none, LIST_READING, false,
                                     __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return false;
    struct reading r = {
        .self = (uintptr_t)&st_next_symbol,
        .vdso = (uintptr_t)getauxval(AT_SYSINFO_EHDR),
        .self_at = -1,
    };
    dl_iterate_phdr(keep_object, &r);
    /* what comes after us, unless nothing does */
    first_object = r.self_at >= 0 && r.self_at < r.n ? r.self_at : 0;
    n_objects = r.n;
    __atomic_store_n(&list_state, r.too_long ? LIST_TOO_LONG : LIST_READ, __ATOMIC_RELEASE);
    return !r.too_long;
}

void st_next_symbol_init(void)
{
    read_list();
}

static void *lookup(uintptr_t base, const struct symtab *t, const struct search *q)
{
    return t->gnu_hash ? lookup_gnu(base, t, q) : lookup_sysv(base, t, q);
}

/* The same search over the loader's list itself, under its lock: while
 * another thread is reading the list for the first time, or when it is
 * too long to keep. */
static int visit(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct search *q = arg;
    if (!q->after_self) {
        q->after_self = contains(info, q->self);
        return 0;
    }
    struct symtab t;
    if ((q->vdso && contains(info, q->vdso)) || !symtab_of(info, &t))
        return 0;
    q->found = lookup(info->dlpi_addr, &t, q);
    return q->found != NULL;
}

void *st_next_symbol(const char *name)
{
    struct search q = {
        .name = name,
        .gnu = gnu_hash_of(name),
        .sysv = sysv_hash_of(name),
        .self = (uintptr_t)&st_next_symbol,
        .vdso = (uintptr_t)getauxval(AT_SYSINFO_EHDR),
    };
    if (!read_list()) {
        dl_iterate_phdr(visit, &q);
        return q.found;
    }
    for (int i = first_object; i < n_objects; i++) {
        void *p = lookup(st_next_objects[i].base, &st_next_objects[i].t, &q);
        if (p)
            return p;
    }
    return NULL;
}
