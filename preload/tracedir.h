/* tracedir.h - where trace files live, shared by the preload and the viewer
 * so both agree: $SOCKTRACE_DIR, else $XDG_RUNTIME_DIR/socktrace, else
 * /tmp/socktrace-UID. The directory must be the user's own, not writable
 * by group or others. */
#ifndef SOCKTRACE_TRACEDIR_H
#define SOCKTRACE_TRACEDIR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ST_PATH_MAX 512

/* Appends s (NULL: nothing), then the decimal n unless it is ST_NO_NUM,
 * to the string of length `at` in buf. Returns the new length, or size
 * when it does not fit (the string then ends where it was cut, and every
 * later call returns size too). No libc, no locale: safe in a signal
 * handler and at start-up. */
#define ST_NO_NUM UINT64_MAX
size_t st_put(char *buf, size_t size, size_t at, const char *s, uint64_t n);

/* Writes the directory to use into buf. `override` (may be NULL) wins over
 * the environment; euid names the last resort. Returns 0, or -1 when the
 * path does not fit. */
int st_dir_path(char *buf, size_t size, const char *override, uid_t euid);
/* The same from the values of SOCKTRACE_DIR and XDG_RUNTIME_DIR (NULL:
 * not set), for a caller that has read the environment itself. */
int st_dir_path_of(char *buf, size_t size, const char *dir, const char *xdg, uid_t euid);

/* Creates the directory when missing (mode 0700, only the last component),
 * then checks it is a real directory owned by us and not group/world
 * writable. Returns 0, or -1 with *why set to a static reason. */
int st_dir_prepare(const char *dir, int create, const char **why);

/* "DIR/PID-START.trace". Returns 0, or -1 when it does not fit. */
int st_trace_name(char *buf, size_t size, const char *dir, int pid,
                  uint64_t proc_start);

/* "DIR/.PID" followed by suffix (may be NULL), the link to a process's file (and, with
 * ".lnk", the name it is made under). Returns 0, or -1 when it does not fit. */
int st_link_name(char *buf, size_t size, const char *dir, int pid,
                 const char *suffix);

/* "DIR/.PID-TID.tmp", a file while it is made. Returns 0, or -1. */
int st_tmp_name(char *buf, size_t size, const char *dir, int pid, long tid);

/* Parses a trace file name; returns 0 and sets pid/start, or -1. */
int st_trace_name_parse(const char *name, int *pid, uint64_t *proc_start);

/* Reads starttime (field 22) and ppid of /proc/PID/stat; pid 0 = self.
 * Returns 0, or -1 when the process does not exist. Uses no malloc. */
int st_proc_stat(int pid, uint64_t *start, int *ppid);
/* The same, and *ended (may be NULL): the process has exited, only its
 * parent has not reaped it yet (a zombie whose threads have all ended). */
int st_proc_read(int pid, uint64_t *start, int *ppid, int *ended);

/* The inode of /proc/PID/ns/NAME ("pid:[4026531836]"), pid 0 = self; 0
 * when it cannot be read (another user's process, unless root). */
uint64_t st_ns_inode(int pid, const char *name);

#endif
