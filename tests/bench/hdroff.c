/* hdroff.c - prints the byte offset of the trace header's alloc_end word,
 * taken from preload/trace_format.h, so that tests/bench/run.sh reads a
 * trace file's "bytes handed out" wherever the header layout puts it. */
#include <stddef.h>
#include <stdio.h>

#include "trace_format.h"

int main(void)
{
    printf("%zu\n", offsetof(struct st_header, alloc_end.v));
    return 0;
}
