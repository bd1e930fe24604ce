/* compat.h - forced into the musl build of the viewer (make musl): what the
 * viewer takes from glibc that musl does not have. */
#ifndef SOCKTRACE_MUSL_COMPAT_H
#define SOCKTRACE_MUSL_COMPAT_H

/* glibc 2.32's errno name ("ECONNREFUSED"), NULL for an unknown number */
const char *strerrorname_np(int err);

#endif
