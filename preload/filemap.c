/* filemap.c - maps the trace file part by part as it grows, within a
 * small share of what RLIMIT_AS leaves the program (filemap.h).
 *
 * Why parts, and not one mapping. A mapping large enough for any file
 * (more than 1 GiB) costs nothing in memory but counts in full against
 * RLIMIT_AS: vsftpd limits every session to 200 MiB, and its own mmap then
 * failed. The mapping cannot be enlarged in place after the fact either:
 * other threads, and signal handlers, hold pointers into it at any moment
 * (a record being filled, a slot word between its load and its CAS), with
 * no lock to hold them off, so mremap(MREMAP_MAYMOVE) could move it from
 * under them; and growing in place needs the range just after it free,
 * which it seldom is (the kernel hands out addresses top-down, so the
 * range after a mapping is usually the one made before it) unless reserved
 * ahead, which is the cost to avoid. So every part stays where it was put,
 * and a new one is mapped wherever the kernel likes: file offsets are
 * resolved through the part they fall in (one bit scan, as for a ring
 * position), and a block never crosses into the next part. The parts
 * double, so a file of N bytes takes at most 2N of address space, in
 * about log2(N / 64 KiB) mappings. */
#define _GNU_SOURCE
#include "filemap.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "real.h"

#define AS_SHARE 16u    /* at most 1/AS_SHARE of the room left, per part */

/* mmap and munmap as the system calls, as the file's open and close are
 * (st_sys_open): an interposer (a sanitizer) that saw the mapping of an fd
 * it never saw opened or closed would take it for the program's. */
static void *sys_mmap(uint64_t len, int fd, uint64_t off)
{
    long r = syscall(SYS_mmap, NULL, len, PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_NORESERVE, fd, off);
    return r == -1 ? MAP_FAILED : (void *)r;
}

static void sys_munmap(void *p, uint64_t len)
{
    syscall(SYS_munmap, p, len);
}

/* The process's size in bytes (VmSize: the first field of statm, in
 * pages), or 0 when it cannot be read. Read only when a part is to be
 * mapped under a limit: a handful of times in a process's life. */
static uint64_t vm_size(void)
{
    int fd = st_sys_open("/proc/self/statm", O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    char buf[64];
    long n = syscall(SYS_read, fd, buf, sizeof buf - 1);
    st_sys_close(fd);
    if (n <= 0)
        return 0;
    uint64_t pages = 0;
    for (long i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; i++)
        pages = pages * 10 + (uint64_t)(buf[i] - '0');
    return pages * (uint64_t)sysconf(_SC_PAGESIZE);
}

bool st_fmap_room(uint64_t len)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return true;
    uint64_t used = vm_size();
    return used && used < rl.rlim_cur && len <= (rl.rlim_cur - used) / AS_SHARE;
}

bool st_fmap_upto(struct st_fmap *m, int fd, uint64_t upto)
{
    int saved = errno;
    bool ok = true;
    for (unsigned k = 0; k < ST_MAP_PARTS && st_part_start(k) < upto; k++) {
        if (__atomic_load_n(&m->part[k], __ATOMIC_ACQUIRE))
            continue;
        uint64_t len = st_part_len(k);
        void *p = MAP_FAILED;
        if (st_fmap_room(len))
            p = sys_mmap(len, fd, st_part_start(k));
        if (p == MAP_FAILED) {
            ok = false;
            break;
        }
        char *none = NULL;
        /* release: a thread that finds the part sees the mapping made */
        if (!__atomic_compare_exchange_n(&m->part[k], &none, (char *)p, false,
                                         __ATOMIC_RELEASE, __ATOMIC_ACQUIRE))
            sys_munmap(p, len);
    }
    errno = saved;
    return ok;
}

void st_fmap_unmap(struct st_fmap *m)
{
    int saved = errno;
    for (unsigned k = 0; k < ST_MAP_PARTS; k++) {
        char *p = __atomic_exchange_n(&m->part[k], NULL, __ATOMIC_ACQ_REL);
        if (p)
            sys_munmap(p, st_part_len(k));
    }
    errno = saved;
}
