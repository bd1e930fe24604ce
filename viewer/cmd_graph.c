/* cmd_graph.c - `socktrace graph`: the connections between traced
 * processes and to outside addresses, as Graphviz DOT. */
#define _GNU_SOURCE
#include "commands.h"

int cmd_graph(struct ctx *c, int argc, char **argv)
{
    (void)c; (void)argc; (void)argv;
    return 1;
}
