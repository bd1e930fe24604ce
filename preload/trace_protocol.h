/* trace_protocol.h - how the writers (every thread of a traced process)
 * and the readers (the viewer, the preload's own fork and exec paths) use
 * the trace file trace_format.h lays out, step by step. Included by it.
 *
 * The fd table. fd N lives in the leaf at dir[N / ST_LEAF_SLOTS], at
 * ST_LEAF_POS(N % ST_LEAF_SLOTS): consecutive fds, often two threads',
 * sit on different cache lines. A slot is one 64-bit word (ST_W_*): 0 when
 * the fd never held a socket, else a generation, marks, hints (what a data
 * call on the socket may still tell: published with the record, so they
 * are never another socket's) and the 16-byte granule
 * of an st_rec (offset = granule * 16). A record is never changed once
 * published: a writer builds the next version in a record of its own and
 * publishes it with one compare-and-swap of the slot word (release); the
 * old version goes back to a free list and may be reused at once.
 *
 * Writer steps for a change to fd N (socket, bind, connect, close, dup2 ...):
 *   1. w0 = slot word (acquire), before the real call when N is known then.
 *   2. the real call, and any kernel question it makes necessary
 *      (getsockname, TCP_INFO); t_lo is a time before the call, t_hi after.
 *   3. the next version of N's record is built in a free record from the
 *      version w0 names, carrying [t_lo, t_hi]; CAS(slot, w0, new), release.
 *   4. if the slot changed since w0, another thread changed N meanwhile. The
 *      two calls are ordered by their windows: a current version whose t_hi
 *      precedes our t_lo is older (rebuild on it and retry step 3); one
 *      whose t_lo follows our t_hi is newer (ours is obsolete). Windows that
 *      overlap cannot be ordered from outside the kernel, so the writer asks
 *      it (SO_TYPE, getsockname, getpeername, ...) and publishes what the
 *      kernel says, with the window of those questions (ST_SF_ASKED).
 *   close, dup2 and dup3 mark the slot (ST_W_CLOSING) before the real call:
 *   the socket there is going away. close publishes a closed version (a
 *   tombstone, ST_W_TOMB) after it. The marker records the closed socket
 *   in the history ring; a call handed the number again, or asking the
 *   kernel about it, sees the mark and leaves that to the marker. A
 *   writer that finds a mark on the socket it changed, or copies (dup),
 *   asks the kernel instead: which socket its call acted on is not known.
 * A writer stopped, killed or siglongjmp'd at any step leaves at most an
 * unpublished record (or a mark, which the next close of that fd takes
 * over): readers and other writers never wait for it.
 *
 * Memory order. A record's body is stored (relaxed) after a release fence
 * that orders whatever made the record free (its unlink, the free-list
 * push and pop) before it, and is published by the slot's CAS (release),
 * which pairs with the reader's acquire load of the slot word. A ring
 * writer's claim CAS is followed by a release fence before the body, so a
 * reader that copied any of the new body sees the claim when it re-reads
 * the word; the commit CAS (release) pairs with the reader's first
 * (acquire) load.
 *
 * Growth. Space comes from alloc_end by CAS; a thread that needs more than
 * file_end extends the file itself (posix_fallocate, then CAS file_end up
 * to what it made, release): several may do so at once, none waits. A
 * leaf or ring segment is installed by CAS of its offset word from 0; the
 * loser's block stays unused. The writer's address space follows the file:
 * part 0 is bytes [0, ST_SEG0), part k >= 1 is [ST_SEG0 << (k-1),
 * ST_SEG0 << k), each mapped on its own once the file reaches it (so an
 * address-space limit, RLIMIT_AS, is charged what the file holds, not a
 * reservation), and a block is handed out within one part. Under such a
 * limit a part is mapped only while it is a small fraction of the room
 * left. When a change or record cannot be written, a slot gets
 * ST_W_UNKNOWN where it is one, and `dropped` counts it under its reason.
 *
 * fork: the child starts a file of its own (new pid, ppid = the forking
 * process) and enters every socket fd it has from the kernel's answers,
 * keeping the parent's record where the kernel agrees; what other threads
 * of the parent were doing at that moment cannot leave it wrong. So does
 * a child made by _Fork, by a raw clone, clone3 or fork system call, or
 * by an inline one: a page of the writer's the kernel empties in a child
 * with memory of its own (MADV_WIPEONFORK) tells it, at the latest at its
 * first hooked call, before it writes anything into its parent's file. exec: the
 * new image maps the same file again (found through the DIR/.PID link),
 * closes the entries of fds that are no longer sockets (close-on-exec)
 * and asks the kernel about the rest. vfork: the child's calls, until it
 * execs, pass through unrecorded; they run on the parent's memory. exit
 * (exit handlers): each entry whose fd no longer holds its socket is
 * closed (ST_SF_GONE_AT_EXIT), then ST_HF_EXITED is set; what is left in
 * the table was open at the end.
 *
 * An exec under way (exec_pending, exec_seq, exec_call_ns, exec_path):
 * the new image may never load the library (a static or set-uid program,
 * an environment without LD_PRELOAD), and then nothing writes the file
 * again. So each exec call of a process that has a file marks it first:
 * exec_pending += 1 (relaxed); if exec_seq is even, CAS it to odd, release
 * fence, write exec_call_ns and exec_path, store exec_seq + 2 (release)
 * (a writer that finds it odd leaves the other's path standing: nobody
 * waits); then the real call. exec_pending -= 1 (release) when the call
 * returns (it failed). A new image that loads the library and reopens the
 * file stores exec_pending = 0 and an even exec_seq: it is the only
 * thread left, and the fields it finds belong to the image it replaced.
 * Reader: exec_pending > 0 means an exec was started and has not failed;
 * whether the process now runs an untraced program is for the reader to
 * find out (/proc/PID/maps, auxv, environ). exec_path is copied as a ring
 * record is: s1 = exec_seq (acquire), skip when odd, copy, acquire fence,
 * good when exec_seq == s1.
 *
 * Reader of slot N (trace_read.c, st_slot_copy; every reader uses it):
 *   1. w1 = slot (acquire). 0: no socket ever; ST_W_UNKNOWN: show
 *      "unknown" (a change could not be recorded); otherwise the record is
 *      at granule w1 & ST_W_GRAN_MASK.
 *   2. copy the record's head (relaxed word loads). Its `size` may be torn
 *      (the record was freed and reused meanwhile): use it only when it is
 *      ST_REC_SMALL or ST_REC_LARGE and the record lies inside the file.
 *   3. copy the rest, acquire fence, w2 = slot (relaxed). w1 != w2: the
 *      copy may be torn, go to 1. w1 == w2: the copy is good (a record is
 *      never changed once published); a bad size then means a corrupt file.
 *   4. ST_W_TOMB: the socket closed there last (not open). ST_W_CLOSING:
 *      a close, dup2 or dup3 of N is running; until it publishes the
 *      tombstone the socket is open, and a reader shows it as open.
 * Entries that share a sock_id are one socket (dup): every alias takes the
 * endpoints and state of the one with the latest t_hi, since a change is
 * recorded on the fd it was made through.
 *
 * Free records and id blocks. A record replaced by a newer version goes
 * to a free list per size: free_small / free_large hold tag << 32 |
 * granule of the top record, whose first word holds the next granule; the
 * tag changes on every pop, so a compare-and-swap on a head that was
 * popped and pushed back in between fails. Each thread keeps up to two
 * free records of each size of its own (lost when it ends, never in a
 * list twice). Socket ids are unique per file: a thread takes a block of
 * 256 with a fetch-add on next_id_block and hands them out alone.
 *
 * Rings (events, closed sockets, name lookups) hold fixed-size records whose
 * first 8 bytes are a commit word: (position + 1) << 2 | ST_RING_*. Writers
 * reserve a position with a fetch-add on `head`, claim the record by CAS
 * from a committed word of an earlier lap (never from a claimed one: a
 * claimed record belongs to a writer that may still be writing; the writer
 * takes another position instead, and after as many positions as the ring
 * has records, at least 64, all held, drops its record: ST_DROP_BUSY),
 * write the body, and commit (release).
 * A record claimed by a writer that left through siglongjmp is voided by
 * that thread's next call (a live claim taken for such, whose commit then
 * fails, is written again at a later position: a reader may see a record
 * after later ones, and void positions). Position p lives at p % cap; segment k holds
 * positions [cap0 << (k-1), cap0 << k) (segment 0: [0, cap0)) and is
 * allocated when first reached, so a quiet process keeps a small file.
 * Reader of a ring (trace_read.c, st_ring_copy), for p from
 * max(0, head - cap) to head - 1 (`head - cap`, when positive, is how many
 * records the ring overwrote):
 *   1. the segment offset of p (acquire; 0: not reached), bounded by the
 *      file; w1 = the record's word (acquire).
 *   2. w1 == (p + 1) << 2 | ST_RING_COMMITTED: copy the record's first
 *      bytes (as many as the reader knows: rec_size may be larger),
 *      acquire fence, w2 = the word; w1 == w2: good, else written over.
 *   3. otherwise: a later position (w1 >> 2 > p + 1): written over;
 *      claimed for p: being written (look again, or count it torn: its
 *      writer may have stopped); anything else: nothing for p.
 *
 * Versions. `version` is the format the writer wrote, `min_reader` the
 * oldest reader that can read it. A later format that only adds (fields
 * at the header's end, with a larger header_size; bytes at the end of a
 * ring record, with a larger rec_size; reserved space) keeps min_reader,
 * and a reader of an older version reads what it knows and skips the
 * rest. The magic does not change with the version.
 *
 * Times in records are CLOCK_MONOTONIC ns; `clock_real_ns - clock_mono_ns`
 * converts them to CLOCK_REALTIME. Header times are CLOCK_REALTIME.
 */
#ifndef SOCKTRACE_TRACE_PROTOCOL_H
#define SOCKTRACE_TRACE_PROTOCOL_H

#ifndef SOCKTRACE_TRACE_FORMAT_H
#error "include trace_format.h, which includes this"
#endif

/* Where ring position pos lives: segment *seg, record *idx in it; *len is
 * the segment's record count. The rule the protocol comment states. cap
 * and cap0 are powers of two (st_ring_valid), so a mask and a shift stand
 * for the two divisions, which cost more than the rest of a claim; in a
 * corrupt header they still give an index the caller's bounds check sees. */
static inline void st_ring_place(const struct st_ring *r, uint64_t pos,
                                 uint32_t *seg, uint64_t *idx, uint64_t *len)
{
    uint64_t q = r->cap ? pos & ((uint64_t)r->cap - 1) : pos, first = 0;
    *seg = 0;
    *len = r->cap0;
    if (r->cap0 && q >= r->cap0) {
        *seg = 64u - (uint32_t)__builtin_clzll(q >> __builtin_ctzll(r->cap0));
        first = *len = (uint64_t)r->cap0 << (*seg - 1);
    }
    *idx = q - first;
}

#endif
