/* test_next_symbol.c - st_next_symbol against the loader's own answer:
 * for every function the hooks stand in front of, and for the hard cases
 * (several versions of one name, an IFUNC, data, a name nobody defines),
 * it must return what dlsym(RTLD_NEXT) returns to the same caller. */
#define _GNU_SOURCE
#include <dlfcn.h>

#include "next_symbol.h"
#include "tap.h"

static const char *const names[] = {
    /* preload/real.h, field by field */
    "socket", "socketpair", "bind", "listen", "connect", "accept", "accept4",
    "getsockname", "getpeername", "getsockopt", "setsockopt", "shutdown",
    "close", "dup", "dup2", "dup3", "fcntl", "fcntl64", "close_range",
    "closefrom", "sendto", "sendmsg", "sendmmsg", "recvmsg", "send",
    "recvfrom", "recvmmsg", "recv", "read", "write", "readv", "writev",
    "__read_chk", "__recv_chk", "getaddrinfo", "gethostbyname",
    "gethostbyname2", "gethostbyname_r", "gethostbyname2_r", "syscall",
    /* two versions each in glibc: the default one is the answer */
    "posix_spawn", "pthread_cond_wait", "realpath",
    /* IFUNCs: the resolver's choice */
    "memcpy", "strlen", "time", "gettimeofday",
    /* data */
    "environ", "stdout",
    /* nobody's */
    "st_no_such_symbol",
};

int main(void)
{
    int defined = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        void *want = dlsym(RTLD_NEXT, names[i]);
        void *got = st_next_symbol(names[i]);
        defined += want != NULL;
        OK(got == want, "%s: %p, dlsym says %p", names[i], got, want);
    }
    /* a check that compares NULL with NULL throughout would pass on a
     * lookup that finds nothing */
    OK(defined >= 40, "dlsym defines %d of the names (at least 40)", defined);
    OK(st_next_symbol("st_no_such_symbol") == NULL, "an unknown name is NULL");
    return DONE();
}
