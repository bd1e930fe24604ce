/* holdstatic.c - a program the preload cannot enter: built with
 * `gcc -static` by the test that execs it (t0800), so no loader ever reads
 * LD_PRELOAD for it. It prints every socket it inherited as it sees them
 * (SOCK lines, as the examples do), then READY, and holds until stdin
 * closes. */
#include "../../../examples/example.h"

#include <sys/stat.h>

int main(void)
{
    for (int fd = 0; fd < 64; fd++) {
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode))
            ex_print_sock("inherited", fd);
    }
    printf("READY pid=%d\n", (int)getpid());
    fflush(stdout);
    char c;
    while (read(0, &c, 1) > 0)
        ;
    return 0;
}
