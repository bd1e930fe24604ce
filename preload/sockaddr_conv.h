/* sockaddr_conv.h - turns a kernel sockaddr into the fixed-width st_addr of
 * the trace file, and answers the few questions the hooks ask of one. */
#ifndef SOCKTRACE_SOCKADDR_CONV_H
#define SOCKTRACE_SOCKADDR_CONV_H

#include <stdbool.h>
#include <sys/socket.h>

#include "trace_format.h"

/* Converts sa[0..len) (len as the kernel reported it) into *out. A family
 * with no sockaddr (len 0, or AF_UNSPEC) gives ST_ADDR_NONE. */
void st_addr_from(struct st_addr *out, const struct sockaddr *sa, socklen_t len,
                  int sock_family);

/* True when the address still needs the kernel's answer: an inet address
 * with port 0 or a wildcard IP. */
bool st_addr_incomplete(const struct st_addr *a);
bool st_addr_is_wildcard(const struct st_addr *a);
bool st_addr_same(const struct st_addr *a, const struct st_addr *b);
/* An inet address's 16 bytes, IPv4 as IPv4-mapped IPv6, so the two forms
 * of one address compare equal; false (out zeroed) when not inet. */
bool st_addr_ip16(const struct st_addr *a, uint8_t out[16]);

#endif
