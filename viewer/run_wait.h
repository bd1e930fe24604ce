/* run_wait.h - the processes of a `socktrace run` still alive after its
 * command exited: background children the shell left behind. They are not
 * our children, so they are found in /proc by the run's id. */
#ifndef SOCKTRACE_RUN_WAIT_H
#define SOCKTRACE_RUN_WAIT_H

#include <stddef.h>
#include <stdint.h>

struct run_left {
    int pid;
    char cmd[160];          /* /proc/PID/cmdline as one line, cut */
};

/* The live (not zombie) processes other than ours whose environment, as
 * /proc/PID/environ gives it, holds SOCKTRACE_RUN_ID=run_id; sorted by
 * pid. Returns how many; *out is malloc'd (NULL when none). */
size_t run_left_find(uint64_t run_id, struct run_left **out);

/* Waits, polling /proc every 50 ms, until none of them is alive. */
void run_left_wait(uint64_t run_id);

#endif
