/* strerrorname.c - strerrorname_np for the musl build of the viewer: the
 * names are the kernel's (errnames.h is made from its errno headers by the
 * Makefile), which are glibc's, so both viewers print the same words. */
#include <stddef.h>

#include "compat.h"

static const char *const names[] = {
#include "errnames.h"
};

const char *strerrorname_np(int err)
{
    if (err <= 0 || (size_t)err >= sizeof names / sizeof names[0])
        return NULL;
    return names[err];
}
