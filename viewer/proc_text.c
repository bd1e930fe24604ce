/* proc_text.c - a process in words for the tables of every verb: its
 * command line, its pid with the pid its container gave it, and what an
 * exec out of the tracer left, and the processes a run left running
 * (proc_text.h). */
#include "proc_text.h"

#include <stdio.h>
#include <string.h>

#include "describe.h"
#include "output.h"

void cmdline_text(const struct st_header *h, char *buf, size_t size)
{
    size_t o = 0;
    buf[0] = 0;
    for (uint32_t i = 0; i < h->cmdline_len && o + 1 < size; i++) {
        char c = h->cmdline[i];
        buf[o++] = c ? ((unsigned char)c < 0x20 ? '?' : c) : ' ';
    }
    while (o > 0 && buf[o - 1] == ' ')
        o--;
    buf[o] = 0;
}

void argv_text(const char *v, uint32_t len, char *buf, size_t size)
{
    struct st_header h;
    h.cmdline_len = len < ST_CMDLINE_MAX ? len : ST_CMDLINE_MAX;
    memcpy(h.cmdline, v, h.cmdline_len);
    cmdline_text(&h, buf, size);
}

void exec_untraced_text(const struct snapshot *s, char *buf, size_t size)
{
    char when[64] = "", now[ST_CMDLINE_MAX] = "";
    if (s->exec_call_ns)
        time_text(s->exec_call_ns, when, sizeof when);
    if (s->command_now_len)
        argv_text(s->command_now, s->command_now_len, now, sizeof now);
    snprintf(buf, size, "exec'd into an untraced program%s%s%s%s%s%s",
             s->exec_path[0] ? " (" : "", s->exec_path, s->exec_path[0] ? ")" : "",
             when[0] ? " at " : "", when,
             s->alive ? "" : ", then ended");
}

void pid_text(int pid, int ns_pid, char *buf, size_t size)
{
    if (pid == ns_pid || ns_pid <= 0)
        snprintf(buf, size, "%d", pid);
    else if (pid > 0)
        snprintf(buf, size, "%d (container pid %d)", pid, ns_pid);
    else
        snprintf(buf, size, "? (container pid %d)", ns_pid);
}

void run_left_report(FILE *f, const char *prog, const struct run_left *v, size_t n)
{
    if (n == 1)
        fprintf(f, "%s%s: 1 process still running: pid %d %s; --wait waits for it%s\n",
                color(C_YELLOW), prog, v[0].pid, v[0].cmd, color("0"));
    else if (n)
        fprintf(f, "%s%s: %zu processes still running; --wait waits for them:%s\n",
                color(C_YELLOW), prog, n, color("0"));
    for (size_t i = 0; n > 1 && i < n; i++)
        fprintf(f, "  pid %d %s\n", v[i].pid, v[i].cmd);
}
