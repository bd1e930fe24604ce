#!/usr/bin/env bash
# t0176 - the viewer is one straight pipeline: each file calls only files
# of its own layer or of those below it, and no two files call each other
# in a loop. Read from gcc's call graph of viewer/*.c (-fcallgraph-info),
# printed below, against the layer table here: the one place a viewer
# file's layer is declared (a new file must be added to it).
. "$(dirname "$0")/lib.sh"

# lowest first; "NAME!" seals a layer: its files call none of each other;
# "NAME<A,B": its files call only layers A and B below (select reads
# nothing: it may not call resolve, whose files ask the kernel)
cat >"$T/layers" <<'LAYERS'
base      describe.c usage.c since.c     # values in words; a usage error; times typed
load<base snapshot.c                     # trace file -> struct snapshot; no /proc
resolve   resolve.c nsmap.c nsdirs.c proc_exec.c tracedb.c peerjoin.c kernel.c run_wait.c
select<base,load select*.c               # the grammar as a tree; no I/O
render    output.c json_out.c proc_text.c event_text.c
stream    follow.c                       # the live stream of watch and events -f
verb      cli.c show_kernel.c            # the options verbs share; show's two others
cmd!      cmd_*.c                        # one file per verb
main      main.c
LAYERS

check_call_graph "viewer: no file calls up a layer, none in a loop" viewer \
    "-std=gnu11 -O2 -idirafter build/deps/usr/include -Ipreload" --layers "$T/layers"

# what /proc knows is the resolve layer's: no other file has a string
# that starts a path under /proc (one printf'd or fprintf'd is a message,
# no read) or asks tracedir.c's st_proc_* to read it
resolvers=$(awk '$1 == "resolve" {for (i = 2; i <= NF && $i !~ /^#/; i++) print "viewer/" $i}' "$T/layers")
proc_reads() {
    (cd "$ROOT" && grep -nE '"/proc|st_proc_(read|stat)\(' viewer/*.c |
        grep -vE '(^|[^a-z_])f?printf\(')
}
# the pattern's positive control: resolve.c's own reads are found
check "the /proc pattern finds resolve.c's reads" "yes" \
    "$([ -n "$resolvers" ] && proc_reads | grep -q '^viewer/resolve\.c:' && echo yes)"
check "only the resolve layer reads /proc" "" \
    "$(proc_reads | grep -vF "$(printf '%s:\n' $resolvers)")"

# the one reader: slot words and ring commit words are read by
# preload/trace_read.c alone; a viewer file naming their bits would hold a
# second copy of the reader's steps
WORD_BITS='\bST_W_(GRAN_MASK|GEN_SHIFT|GEN_MASK|UNKNOWN|CLOSING|TOMB)\b|\bST_RING_(CLAIMED|COMMITTED|VOID)\b'
check "the pattern finds trace_read.c's reader steps" "yes" \
    "$(cd "$ROOT" && grep -qE "$WORD_BITS" preload/trace_read.c && echo yes)"
# grep's status 1 is "read them all, found nothing"; 2 (a file not read) fails
copies=$(cd "$ROOT" && grep -nE "$WORD_BITS" viewer/*.c viewer/*.h)
check "no viewer file repeats the slot or ring reader's steps" "1 " "$? $copies"

# small files with one job each
long=$(cd "$ROOT" && wc -l viewer/*.c | awk '$2 != "total" && $1 > 600 {print $2 " " $1}')
check "no viewer/*.c above 600 lines" "" "$long"

# each verb a short composition of the layers: every cmd_* main, and
# show's two others (untraced processes, --verify); each must be found
mains=$(cd "$ROOT" && awk '/^int (cmd_[a-z]+|show_kernel|show_verify)\(/ {f = FILENAME; s = FNR; n = $2}
        s && /^}/ {print f, n, FNR - s + 1; s = 0}' viewer/cmd_*.c viewer/show_kernel.c)
ncmd=$(cd "$ROOT" && ls viewer/cmd_*.c | wc -l)
check "every verb's main found (one per cmd_*.c, show_kernel, show_verify)" "$((ncmd + 2))" \
    "$(grep -c . <<<"$mains")"
check "no verb's main above 60 lines" "" "$(awk '$3 > 60' <<<"$mains")"

done_testing
