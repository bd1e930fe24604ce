/* kernel.h - a process's sockets as the kernel sees them, read from /proc
 * without privileges: /proc/PID/fd names each socket's inode, and the
 * process's own /proc/PID/net/{tcp,tcp6,udp,udp6,unix} give what it is.
 * Used to finish what the trace cannot know alone (a non-blocking connect
 * the program never checked), for `show --verify`, and to show a process
 * that was never traced. */
#ifndef SOCKTRACE_KERNEL_H
#define SOCKTRACE_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"

struct ksock {
    int fd;
    uint64_t inode;
    bool listed;            /* found in a /proc/PID/net table; when false
                               only fd and inode are known (an unbound TCP
                               socket, netlink, packet, ...) */
    struct st_sock s;       /* family, type, protocol, state, local, peer */
};

struct kview {
    int pid;
    struct ksock *v;        /* sorted by fd */
    size_t n;
};

/* Returns 0, or -1 with a one-line reason (no such process), or -2 when
 * the viewer may not look (EACCES/EPERM on /proc/PID/fd or a link in it:
 * another user's process, one with a capability the viewer lacks, or a
 * non-dumpable one); on -1 and -2 nothing is to be freed. */
int kview_load(int pid, struct kview *out, char *err, size_t errlen);
const struct ksock *kview_fd(const struct kview *k, int fd);
void kview_free(struct kview *k);

/* A trace entry still CONNECTING whose connect the kernel has finished:
 * CONNECTED, or FAILED when the socket left the tables. Returns how many
 * entries changed. */
size_t kview_settle_connects(const struct kview *k, struct st_sock *open, size_t n);

/* Whether the trace entry t and the kernel's socket agree on what a user
 * asks of them: family, listening or not, local and peer address. *why
 * gets a few words when they do not. */
bool kview_agrees(const struct st_sock *t, const struct ksock *k, const char **why);

#endif
