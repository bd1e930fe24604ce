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
static void *take(const struct dl_phdr_info *info, const struct symtab *t,
                  uint32_t i, const char *name)
{
    const ElfW(Sym) *s = &t->sym[i];
    unsigned type = ELF64_ST_TYPE(s->st_info), bind = ELF64_ST_BIND(s->st_info);
    if (s->st_shndx == SHN_UNDEF || s->st_value == 0 || s->st_name >= t->strsz ||
        (type != STT_FUNC && type != STT_GNU_IFUNC && type != STT_OBJECT) ||
        (bind != STB_GLOBAL && bind != STB_WEAK) ||
        (t->versym && (t->versym[i] & 0x8000)) ||
        strcmp(t->str + s->st_name, name) != 0)
        return NULL;
    uintptr_t addr = info->dlpi_addr + s->st_value;
    /* what the loader binds an IFUNC to: its resolver's answer (x86-64
     * resolvers take no arguments) */
    if (type == STT_GNU_IFUNC)
        addr = (uintptr_t)((void *(*)(void))addr)();
    return (void *)addr;
}

static void *lookup_gnu(const struct dl_phdr_info *info, const struct symtab *t,
                        const struct search *q)
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
            void *p = take(info, t, i, q->name);
            if (p)
                return p;
        }
        if (c & 1)
            return NULL;
    }
}

static void *lookup_sysv(const struct dl_phdr_info *info, const struct symtab *t,
                         const struct search *q)
{
    const ElfW(Word) *h = t->sysv_hash;
    ElfW(Word) nbucket = h[0], nchain = h[1];
    if (!nbucket)
        return NULL;
    const ElfW(Word) *bucket = h + 2, *chain = bucket + nbucket;
    for (ElfW(Word) i = bucket[q->sysv % nbucket]; i && i < nchain; i = chain[i]) {
        void *p = take(info, t, i, q->name);
        if (p)
            return p;
    }
    return NULL;
}

static int visit(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct search *q = arg;
    if (!q->after_self) {
        q->after_self = contains(info, q->self);
        return 0;
    }
    /* the loader lists the vDSO, but does not search it for dlsym */
    struct symtab t;
    if ((q->vdso && contains(info, q->vdso)) || !symtab_of(info, &t))
        return 0;
    q->found = t.gnu_hash ? lookup_gnu(info, &t, q) : lookup_sysv(info, &t, q);
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
    dl_iterate_phdr(visit, &q);
    return q.found;
}
