/* test_fdindex.c - the fd index: adds, finds, removes, remaps, ranges. */
#include <stdint.h>

#include "fdindex.h"
#include "tap.h"

static uint32_t plus_one(int fd, uint32_t slot, void *arg)
{
    (void)arg;
    return fd % 1000 == 0 ? UINT32_MAX : slot + 1;
}

int main(void)
{
    int bad = 0;
    for (int fd = 0; fd < 20000; fd++)
        bad += st_index_add(fd, (uint32_t)fd * 2) != 0;
    OK(bad == 0 && st_index_count() == 20000, "20000 entries added");
    bad = 0;
    for (int fd = 0; fd < 20000; fd++)
        bad += st_index_find(fd) != fd * 2;
    OK(bad == 0, "each found with its slot");
    OK(st_index_find(20000) == -1 && st_index_find(-1) == -1, "absent fds not found");
    for (int fd = 0; fd < 20000; fd += 2)
        st_index_remove(fd);
    OK(st_index_count() == 10000 && st_index_find(4) == -1 && st_index_find(5) == 10,
       "removing every other fd");
    OK(st_index_remove(4) == -1, "removing twice finds nothing");
    int fds[64];
    unsigned n = st_index_range(100, 110, fds, 64);
    OK(n == 5, "range [100,110] holds the 5 odd fds");
    st_index_remap(plus_one, NULL);
    OK(st_index_find(5) == 11, "remap changes the slot");
    OK(st_index_find(3001) == 6003, "remap keeps others");
    OK(st_index_count() == 10000, "remap removes only what it is told to (odd fds never %% 1000)");
    for (int fd = 1; fd < 20000; fd += 2)
        st_index_remove(fd);
    OK(st_index_count() == 0, "empty again");
    OK(st_index_add(7, 1) == 0 && st_index_find(7) == 1, "reuse after emptying");
    return DONE();
}
