/* fuzz_snapshot.c - libFuzzer target over the trace-file reader and what
 * the viewer does with what it read: every socket, closed one and event is
 * described as text and JSON, as `show --all --json` and `events` would. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "describe.h"
#include "snapshot.h"

static FILE *sink;

static void describe(const struct snapshot *s, const struct st_sock *so)
{
    char local[ADDR_TEXT_MAX], peer[ADDR_TEXT_MAX];
    struct sock_extra x = {.host = snap_host_of(s, &so->peer)};
    sock_addr_cells(so, &x, local, peer);
    fprintf(sink, "%s %s %s %s %s\n", proto_name(so), state_name(so->state),
            origin_name(so->origin), local, peer);
    json_socket(sink, so, &x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!sink)
        sink = fopen("/dev/null", "w");
    /* a mapped file starts on a page: the reader may rely on alignment */
    size_t cap = (size + 4095) & ~(size_t)4095;
    void *buf = aligned_alloc(4096, cap ? cap : 4096);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    struct snapshot s;
    char err[256];
    if (snap_load_mem(buf, size, SNAP_TABLE | SNAP_HISTORY | SNAP_EVENTS, &s, err,
                      sizeof err) == 0) {
        char cmd[ST_CMDLINE_MAX];
        cmdline_text(&s.h, cmd, sizeof cmd);
        fputs(cmd, sink);
        for (size_t i = 0; i < s.n_open; i++)
            describe(&s, &s.open[i]);
        for (size_t i = 0; i < s.n_closed; i++)
            describe(&s, &s.closed[i]);
        for (size_t i = 0; i < s.n_events; i++) {
            char eb[32];
            fprintf(sink, "%s %s\n", call_name(s.events[i].call),
                    errno_name(s.events[i].err, eb, sizeof eb));
        }
        snap_free(&s);
    } else if (!err[0] || strchr(err, '\n')) {
        abort();    /* every refusal is one line of text */
    }
    free(buf);
    return 0;
}
