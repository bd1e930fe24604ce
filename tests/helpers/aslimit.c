/* aslimit.c - a program that lives under an address-space limit
 * (RLIMIT_AS) and needs most of it, as vsftpd's sessions do. It makes
 * sockets, maps a large anonymous region and reports whether that mmap
 * succeeded, then makes many more sockets (the tracer's file must grow
 * under the limit) and reports each open one from its own getsockname and
 * getpeername: "SOCK pid= fd= local= peer= x".
 * Usage: aslimit MODE KIB MAP_KIB
 *   MODE none:  the limit is the caller's (ulimit -v); KIB unused
 *   MODE lower: after its first sockets it sets RLIMIT_AS to KIB itself
 *               (vsftpd's way: the limit comes after the tracer's file)
 *   MODE above: before any socket it sets RLIMIT_AS to its own size (VmSize)
 *               plus KIB, leaving almost no room
 *   MODE squeeze: the same, after its first sockets
 * Prints READY pid=PID, then waits for end of input. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define MORE 300    /* sockets made after the mmap */

static int fail(const char *what)
{
    printf("FAIL %s: %s\n", what, strerror(errno));
    return 1;
}

static void show(int fd, int peer, char *out, size_t n)
{
    struct sockaddr_in a = {0};
    socklen_t len = sizeof a;
    int r = peer ? getpeername(fd, (struct sockaddr *)&a, &len)
                 : getsockname(fd, (struct sockaddr *)&a, &len);
    if (r != 0 || a.sin_family != AF_INET) {
        snprintf(out, n, "-");
        return;
    }
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &a.sin_addr, ip, sizeof ip);
    snprintf(out, n, "%s:%u", ip, ntohs(a.sin_port));
}

static void report(int fd)
{
    char l[64], p[64];
    show(fd, 0, l, sizeof l);
    show(fd, 1, p, sizeof p);
    printf("SOCK pid=%d fd=%d local=%s peer=%s x\n", getpid(), fd, l, p);
}

static int set_limit(rlim_t bytes)
{
    struct rlimit rl = {bytes, bytes};
    return setrlimit(RLIMIT_AS, &rl);
}

static rlim_t vm_size(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (!f || fscanf(f, "%lu", &pages) != 1)
        pages = 0;
    if (f)
        fclose(f);
    return (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: aslimit none|lower|above|squeeze KIB MAP_KIB\n");
        return 2;
    }
    const char *mode = argv[1];
    rlim_t kib = strtoull(argv[2], NULL, 10) << 10;
    size_t map = (size_t)strtoull(argv[3], NULL, 10) << 10;
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!strcmp(mode, "above")) {
        /* the output buffer and whatever else stdio needs first, then the
         * limit: what is left is KIB */
        printf("START pid=%d\n", getpid());
        rlim_t now = vm_size();
        if (!now)
            return fail("/proc/self/statm");
        if (set_limit(now + kib) != 0)
            return fail("setrlimit");
    }
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (l < 0 || bind(l, (struct sockaddr *)&a, len) || listen(l, 8) ||
        getsockname(l, (struct sockaddr *)&a, &len))
        return fail("listener");
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (c < 0 || connect(c, (struct sockaddr *)&a, len))
        return fail("connect");
    int s = accept(l, NULL, NULL);
    if (s < 0)
        return fail("accept");
    if (!strcmp(mode, "lower") && set_limit(kib) != 0)
        return fail("setrlimit");
    if (!strcmp(mode, "squeeze")) {
        rlim_t now = vm_size();
        if (!now)
            return fail("/proc/self/statm");
        if (set_limit(now + kib) != 0)
            return fail("setrlimit");
    }
    void *m = mmap(NULL, map, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        printf("MMAP failed: %s\n", strerror(errno));
    } else {
        printf("MMAP ok\n");
        munmap(m, map);
    }
    /* closed ones fill the history ring, open ones the table */
    for (int i = 0; i < MORE; i++) {
        int u = socket(AF_INET, SOCK_DGRAM, 0);
        struct sockaddr_in b = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        if (u < 0 || bind(u, (struct sockaddr *)&b, sizeof b))
            return fail("udp");
        if (i % 3)
            close(u);
    }
    for (int fd = 0; fd < 1024; fd++) {
        int type;
        socklen_t tl = sizeof type;
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0)
            report(fd);
    }
    printf("READY pid=%d\n", getpid());
    char buf[64];
    while (read(0, buf, sizeof buf) > 0)
        ;
    return 0;
}
