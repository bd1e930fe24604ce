/* newproc.h - whether this process is a copy made behind fork()'s back (a
 * raw clone, clone3 or fork system call, _Fork, an inline syscall
 * instruction), told before its first record (_Fork's and an inline
 * clone's child at its first hooked call), so that it never writes
 * into its parent's file. */
#ifndef SOCKTRACE_NEWPROC_H
#define SOCKTRACE_NEWPROC_H

#include <stdbool.h>
#include <stdint.h>

/* Nonzero in the process that armed it, and in every process and thread
 * sharing its memory; zero in a child with memory of its own. The hooks'
 * gate (st_active) reads it once per call. */
extern const uint32_t *st_self_mark;

/* At start-up, once per program image: the page the kernel empties in a
 * child (MADV_WIPEONFORK, Linux 4.14). Without it st_self_mark never reads
 * zero and only fork()'s handler and syscall(2)'s hook tell a child.
 * child_start is what a child does to become a process of its own
 * (init.c's), run once in each. */
void st_newproc_arm(void (*child_start)(void));

/* In a child (fork's handler, syscall(2)'s hook, or the gate
 * that found st_self_mark zero): takes the forked child's path once per
 * process, then arms the page again. A child that shares our memory (a
 * thread, vfork) reads the page nonzero and is left alone. */
void st_newproc_child(void);

/* The gate's slow path: st_self_mark read zero. True when the call that
 * asked is to be traced (this process has its own file now). */
bool st_newproc_enter(void);

#endif
