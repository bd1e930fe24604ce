/* hooks_vfork.c - vfork, which no C function can wrap: the child returns
 * on its parent's stack, so the wrapper is written in assembly. It marks the
 * child so that its close or dup2 before exec leaves the parent's table
 * alone, and clears the mark when the parent resumes. x86-64 only; other
 * machines keep libc's vfork, whose child's calls then reach the table. */
#include <errno.h>

#include "tracer.h"

#if defined(__x86_64__)

__attribute__((used, visibility("hidden"))) long st_vfork_failed(long negerr)
{
    errno = (int)-negerr;
    return -1;
}

/* The return address leaves the stack before the system call and goes back
 * after it, in each process: the child's calls overwrite the stack slot it
 * had, and the parent's copy lives in its own saved %rdi. */
__asm__(
    ".text\n"
    ".globl vfork\n"
    ".type vfork,@function\n"
    ".globl st_vfork_entry\n"      /* syscall(SYS_vfork) comes here */
    ".hidden st_vfork_entry\n"
    "st_vfork_entry:\n"
    "vfork:\n"
    "    endbr64\n"
    "    popq %rdi\n"
    "    movl $58, %eax\n"              /* SYS_vfork */
    "    syscall\n"
    "    pushq %rdi\n"
    "    cmpq $-4095, %rax\n"
    "    jae 3f\n"
    "    testq %rax, %rax\n"
    "    jnz 2f\n"
    "    subq $8, %rsp\n"               /* the child */
    "    call st_vfork_child\n"
    "    addq $8, %rsp\n"
    "    xorl %eax, %eax\n"
    "    ret\n"
    "2:  pushq %rax\n"                  /* the parent, the child gone */
    "    leaq 8(%rsp), %rdi\n"          /* the stack pointer vfork had */
    "    call st_vfork_parent\n"
    "    popq %rax\n"
    "    ret\n"
    "3:  movq %rax, %rdi\n"
    "    subq $8, %rsp\n"
    "    call st_vfork_failed\n"
    "    addq $8, %rsp\n"
    "    ret\n"
    ".size vfork, .-vfork\n");

#endif
