/* uringsock.c - sockets made and closed by io_uring, which no hook sees
 * (IORING_OP_SOCKET, Linux 5.19; IORING_OP_CLOSE), with the raw system
 * calls (no liburing). The ring makes a TCP socket, which is bound to
 * 127.0.0.1 port 0 and listened on through libc, and a UDP socket, bound
 * to port 0 through libc; the program says its own view of both ("SOCK
 * pid= fd= local= peer=- x") and "READY pid=". On the line "close" from
 * stdin the ring closes both ("CLOSED"); at end of input it returns from
 * main (exit handlers run). A kernel without the operations:
 * "NOURING why=" and exit 0. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../examples/example.h"

static int ring;
static unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
static struct io_uring_sqe *sqes;
static struct io_uring_cqe *cqes;

static void die(const char *what)
{
    fprintf(stderr, "uringsock: %s: %s\n", what, strerror(errno));
    exit(2);
}

static int setup(void)
{
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    ring = (int)syscall(SYS_io_uring_setup, 4, &p);
    if (ring < 0)
        return -1;
    size_t sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    size_t cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
    if (p.features & IORING_FEAT_SINGLE_MMAP)
        sq_len = cq_len = sq_len > cq_len ? sq_len : cq_len;
    char *sq = mmap(NULL, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring,
                    IORING_OFF_SQ_RING);
    char *cq = (p.features & IORING_FEAT_SINGLE_MMAP)
                   ? sq
                   : mmap(NULL, cq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
                          ring, IORING_OFF_CQ_RING);
    sqes = mmap(NULL, p.sq_entries * sizeof *sqes, PROT_READ | PROT_WRITE,
                MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQES);
    if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED)
        die("mmap ring");
    sq_tail = (unsigned *)(sq + p.sq_off.tail);
    sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
    sq_array = (unsigned *)(sq + p.sq_off.array);
    cq_head = (unsigned *)(cq + p.cq_off.head);
    cq_tail = (unsigned *)(cq + p.cq_off.tail);
    cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
    cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
    return 0;
}

/* One operation, submitted and waited for: its result (-errno on failure). */
static int run(const struct io_uring_sqe *op)
{
    unsigned tail = *sq_tail, i = tail & *sq_mask;
    sqes[i] = *op;
    sq_array[i] = i;
    __atomic_store_n(sq_tail, tail + 1, __ATOMIC_RELEASE);
    if (syscall(SYS_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0)
        die("io_uring_enter");
    unsigned head = *cq_head;
    if (head == __atomic_load_n(cq_tail, __ATOMIC_ACQUIRE))
        die("no completion");
    int res = cqes[head & *cq_mask].res;
    __atomic_store_n(cq_head, head + 1, __ATOMIC_RELEASE);
    return res;
}

static int ring_socket(int domain, int type)
{
    struct io_uring_sqe op;
    memset(&op, 0, sizeof op);
    op.opcode = IORING_OP_SOCKET;
    op.fd = domain;
    op.off = (unsigned)type;
    return run(&op);
}

static int ring_close(int fd)
{
    struct io_uring_sqe op;
    memset(&op, 0, sizeof op);
    op.opcode = IORING_OP_CLOSE;
    op.fd = fd;
    return run(&op);
}

/* no ring here: READY all the same, for the test to see why and skip */
static int hold(void)
{
    char c;
    printf("READY pid=%d\n", (int)getpid());
    while (read(0, &c, 1) > 0)
        ;
    return 0;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (setup() != 0) {
        printf("NOURING why=io_uring_setup:%s\n", strerror(errno));
        return hold();
    }
    int lfd = ring_socket(AF_INET, SOCK_STREAM);
    if (lfd < 0) {
        printf("NOURING why=IORING_OP_SOCKET:%s\n", strerror(-lfd));
        return hold();
    }
    int ufd = ring_socket(AF_INET, SOCK_DGRAM);
    if (ufd < 0)
        die("ring socket (udp)");
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) || listen(lfd, 8))
        die("bind+listen");
    if (bind(ufd, (struct sockaddr *)&a, sizeof a))
        die("bind udp");
    ex_print_sock("x", lfd);
    ex_print_sock("x", ufd);
    printf("READY pid=%d\n", (int)getpid());
    char line[64];
    while (fgets(line, sizeof line, stdin)) {
        if (strcmp(line, "close\n") == 0) {
            int r1 = ring_close(lfd), r2 = ring_close(ufd);
            if (r1 || r2) {
                errno = -(r1 ? r1 : r2);
                die("ring close");
            }
            printf("CLOSED fds=%d,%d\n", lfd, ufd);
        }
    }
    return 0;
}
