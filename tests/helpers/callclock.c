/* callclock.c - calls whose time the program knows from its own clock on
 * both sides, for holding the tracer's event times against it:
 *   ACCEPT: an accept that blocks until a child connects, 1 s after the
 *           program read its clock and told the child so (the accept
 *           returns at least 1 s after that reading);
 *   BIND:   a bind that fails (EADDRINUSE), made 1 s after the socket
 *           (the thread's previous recorded call);
 *   FORK:   a fork 1 s after that bind; the child's fork event
 *           ("FORK fd=CHILD_PID ...": the child's pid in fd=).
 * Each line: "NAME fd=FD before=NS after=NS" in CLOCK_REALTIME ns, read 1 ms
 * before the call and 1 ms after it, so the tracer's clock conversion (ns)
 * cannot cross a millisecond the viewer prints. Prints READY pid=PID,
 * then waits for end of input. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, ms % 1000 * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int fail(const char *what)
{
    fprintf(stderr, "callclock: %s: %s\n", what, strerror(errno));
    return 1;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 4) != 0 ||
        getsockname(l, (struct sockaddr *)&a, &len) != 0)
        return fail("listener");

    int go[2];
    if (pipe(go) != 0)
        return fail("pipe");
    pid_t child = fork();
    if (child < 0)
        return fail("fork");
    if (child == 0) {
        char g;
        close(go[1]);
        if (read(go[0], &g, 1) != 1)
            _exit(1);
        pause_ms(1000);
        int c = socket(AF_INET, SOCK_STREAM, 0);
        if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof a) != 0)
            _exit(1);
        pause_ms(200);
        _exit(0);
    }
    close(go[0]);
    uint64_t before = real_ns();
    if (write(go[1], "g", 1) != 1)
        return fail("write");
    pause_ms(1);
    int s = accept(l, NULL, NULL);
    if (s < 0)
        return fail("accept");
    pause_ms(1);
    printf("ACCEPT fd=%d before=%llu after=%llu\n", l, (unsigned long long)before,
           (unsigned long long)real_ns());
    int status;
    waitpid(child, &status, 0);

    int b = socket(AF_INET, SOCK_STREAM, 0);
    if (b < 0)
        return fail("socket");
    pause_ms(1000);
    before = real_ns();
    pause_ms(1);
    if (bind(b, (struct sockaddr *)&a, sizeof a) == 0 || errno != EADDRINUSE)
        return fail("bind did not fail with EADDRINUSE");
    pause_ms(1);
    printf("BIND fd=%d before=%llu after=%llu\n", b, (unsigned long long)before,
           (unsigned long long)real_ns());

    pause_ms(1000);
    before = real_ns();
    pause_ms(1);
    child = fork();
    if (child < 0)
        return fail("fork");
    if (child == 0) {
        pause_ms(1);
        _exit(0);
    }
    waitpid(child, &status, 0);
    pause_ms(1);
    printf("FORK fd=%d before=%llu after=%llu\n", (int)child, (unsigned long long)before,
           (unsigned long long)real_ns());

    printf("READY pid=%d\n", (int)getpid());
    char buf[64];
    while (fread(buf, 1, sizeof buf, stdin) > 0)
        ;
    return 0;
}
