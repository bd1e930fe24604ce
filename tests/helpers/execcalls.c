/* execcalls.c - every exec function the tracer hooks, failing in the ways
 * a program meets (ENOENT, EFAULT from a bad pointer, NULL, EBADF, a PATH
 * search that finds nothing, an empty argv), each printed as "CALL ret
 * errno"; then execlp of sh with arguments and an environment, which
 * echoes what it got. Run traced and untraced, the output must be the
 * same (t0800). A socket first, so the traced run has a file to mark. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

extern char **environ;

#define TRY(name, call) do { errno = 12345; int r_ = (call); \
    printf("%s %d %s\n", name, r_, strerrorname_np(errno) ? strerrorname_np(errno) : "?"); } while (0)

int main(void)
{
    char *const argv[] = {"x", "y", NULL};
    char *const env[] = {"ST_EXEC_TEST=1", NULL};
    /* hidden from the compiler, which would refuse them as arguments */
    const char *volatile bad = (const char *)1, *volatile null = NULL;
    if (socket(AF_INET, SOCK_STREAM, 0) < 0)
        return 1;
    setvbuf(stdout, NULL, _IONBF, 0);
    TRY("execve-enoent", execve("/nonexistent/x", argv, env));
    TRY("execve-efault", execve(bad, argv, env));
    TRY("execve-null", execve(null, argv, env));
    TRY("execve-dir", execve("/", argv, env));
    TRY("execv-enoent", execv("/nonexistent/x", argv));
    TRY("execv-efault", execv(bad, argv));
    TRY("execvp-none", execvp("no-such-program-st", argv));
    TRY("execvp-empty", execvp("", argv));
    TRY("execvpe-none", execvpe("no-such-program-st", argv, env));
    TRY("execl-enoent", execl("/nonexistent/x", "x", "a", "b", (char *)NULL));
    TRY("execle-enoent", execle("/nonexistent/x", "x", "a", (char *)NULL, env));
    TRY("execlp-none", execlp("no-such-program-st", "x", (char *)NULL));
    TRY("fexecve-ebadf", fexecve(-1, argv, env));
    TRY("fexecve-notexec", fexecve(0, argv, env));
    TRY("execveat-ebadf", execveat(-7, "x", argv, env, 0));
    TRY("execveat-efault", execveat(AT_FDCWD, bad, argv, env, 0));
    TRY("execveat-einval", execveat(AT_FDCWD, "/bin/sh", argv, env, 0x12345));
    execlp("sh", "sh", "-c", "echo \"ARGS $0 $1 $2 env=$ST_EXEC_TEST\"", "a b", "c", "",
           (char *)NULL);
    printf("execlp failed %s\n", strerror(errno));
    return 1;
}
