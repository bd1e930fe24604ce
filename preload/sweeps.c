/* sweeps.c - the whole table checked against the kernel at two moments:
 * after exec (close-on-exec closed some entries) and at exit (calls no hook
 * saw closed others). */
#define _GNU_SOURCE
#include "tracer.h"

#include <errno.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "newproc.h"
#include "real.h"
#include "sockaddr_conv.h"
#include "tracefile.h"
#include "file_space.h"
#include "write_path.h"

static void sweep_one(int fd, uint64_t *slot, void *arg)
{
    (void)arg;
    struct st_sock s;
    uint64_t w;
    if (st_read_slot(slot, &w, &s) != ST_K_LIVE)
        return;
    struct stat st;
    int saved = errno;
    bool sock = st_fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
    errno = saved;
    if (sock)
        return;     /* the scan that follows asks the kernel about it */
    uint64_t t = st_now();
    st_set_closed(&s);
    s.closed_ns = t;
    s.t_lo = s.t_hi = t;
    s.flags |= (s.flags & ST_SF_CLOEXEC) ? ST_SF_CLOSED_EXEC : ST_SF_CLOSED_UNSEEN;
    if (st_publish(slot, w, &s, ST_W_TOMB)) {
        st_emit(ST_CALL_CLOSE, fd, -1, 0, 0, &s);
        st_history(&s);
    }
}

void st_exec_sweep(void)
{
    st_slot_each(0, INT32_MAX, sweep_one, NULL);
}

/* At exit, before the kernel closes what is left: an entry whose fd no
 * longer holds its socket was closed by a call no hook sees (io_uring's
 * IORING_OP_CLOSE, an inline syscall), and must not be left in the table
 * as open at the end. One getsockname per entry tells: it fails on a
 * number that is free or no socket (the entry goes to history, closed
 * unseen and found so at exit), and names another socket made unseen on
 * the number (the kernel's answer replaces the entry). */
static void exit_one(int fd, uint64_t *slot, void *arg)
{
    (void)arg;
    struct st_sock s;
    uint64_t w;
    if (st_read_slot(slot, &w, &s) != ST_K_LIVE || (w & ST_W_CLOSING))
        return;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int saved = errno;
    int r = (int)syscall(SYS_getsockname, fd, (struct sockaddr *)&ss, &len);
    int why = errno;
    errno = saved;
    if (r == 0) {
        struct st_addr now;
        st_addr_from(&now, (struct sockaddr *)&ss, len, s.family);
        if (ss.ss_family != s.family ||
            (s.local.kind != ST_ADDR_NONE && !st_addr_incomplete(&s.local) &&
             !st_addr_incomplete(&now) && !st_addr_same(&s.local, &now))) {
            struct st_sock k;
            st_ask(fd, ST_ORIGIN_FOUND, NULL, &k);
        }
        return;     /* still the socket: the exit closes it */
    }
    /* some families answer no getsockname at all (AF_ALG, AF_KCM:
     * EOPNOTSUPP): only these two say the number holds no socket now */
    if (why != EBADF && why != ENOTSOCK)
        return;
    uint64_t t = st_now();
    st_set_closed(&s);
    s.closed_ns = t;
    s.t_lo = s.t_hi = t;
    s.flags &= ~ST_SF_ASKED;
    s.flags |= ST_SF_CLOSED_UNSEEN | ST_SF_GONE_AT_EXIT;
    if (st_publish(slot, w, &s, ST_W_TOMB)) {
        st_emit(ST_CALL_UNSEEN, fd, -1, 0, 0, &s);
        st_history(&s);
    }
}

bool st_exit_sweep(void)
{
    if (st_in_vfork_child() || !__atomic_load_n(st_self_mark, __ATOMIC_RELAXED))
        return false;
    int saved = errno;
    st_slot_each(0, INT32_MAX, exit_one, NULL);
    errno = saved;
    return true;
}
