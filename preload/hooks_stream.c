/* hooks_stream.c - the byte-stream calls (read, write, recv and their
 * vector and fortified forms), interposed only for their failures: an
 * error such as ECONNREFUSED is how some programs learn that a
 * non-blocking connect failed, or that a connection was reset. A call
 * that succeeds costs one comparison. */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "hooks.h"
#include "outcome.h"

/* errno is what the real call left, whatever the recording does */
static ssize_t failed(int call, int fd, ssize_t ret)
{
    int err = errno;
    st_data_failed(call, fd, err);
    errno = err;
    return ret;
}

ST_EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags)
{
    if (!NEED(recv))
        return syscall(SYS_recvfrom, fd, buf, n, flags, NULL, NULL);
    ssize_t ret = REAL(recv)(fd, buf, n, flags);
    return ret < 0 ? failed(ST_CALL_RECV, fd, ret) : ret;
}

ST_EXPORT ssize_t read(int fd, void *buf, size_t n)
{
    if (!NEED(read))
        return syscall(SYS_read, fd, buf, n);
    ssize_t ret = REAL(read)(fd, buf, n);
    return ret < 0 ? failed(ST_CALL_READ, fd, ret) : ret;
}

ST_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
    if (!NEED(write))
        return syscall(SYS_write, fd, buf, n);
    ssize_t ret = REAL(write)(fd, buf, n);
    return ret < 0 ? failed(ST_CALL_WRITE, fd, ret) : ret;
}

ST_EXPORT ssize_t readv(int fd, const struct iovec *iov, int n)
{
    if (!NEED(readv))
        return syscall(SYS_readv, fd, iov, n);
    ssize_t ret = REAL(readv)(fd, iov, n);
    return ret < 0 ? failed(ST_CALL_READV, fd, ret) : ret;
}

ST_EXPORT ssize_t writev(int fd, const struct iovec *iov, int n)
{
    if (!NEED(writev))
        return syscall(SYS_writev, fd, iov, n);
    ssize_t ret = REAL(writev)(fd, iov, n);
    return ret < 0 ? failed(ST_CALL_WRITEV, fd, ret) : ret;
}

#ifdef __GLIBC__
/* A program built with _FORTIFY_SOURCE calls these instead of read and
 * recv (glibc's; musl has no fortified calls). A buffer too small is
 * glibc's to report (it aborts). */
ST_EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
    if (n > buflen && NEED(__read_chk))
        return REAL(__read_chk)(fd, buf, n, buflen);
    return read(fd, buf, n);
}

ST_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags)
{
    if (n > buflen && NEED(__recv_chk))
        return REAL(__recv_chk)(fd, buf, n, buflen, flags);
    return recv(fd, buf, n, flags);
}
#endif
