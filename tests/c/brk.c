// brk (raw syscall): query, grow, use, shrink, and refused requests (the
// syscall returns the unchanged break instead of an error). No output is
// produced while the break is moved, so that malloc is not disturbed.
#include "common.h"

#define PG 4096UL

static uintptr_t sbrk_raw(uintptr_t want)
{
    return (uintptr_t)syscall(SYS_brk, want);
}

int main(void)
{
    int results[12];
    uintptr_t cur = sbrk_raw(0);
    results[0] = cur != 0;
    results[1] = sbrk_raw(0) == cur;
    uintptr_t base = (cur + PG - 1) & ~(PG - 1);

    /* Grow by 64 KiB (from a page-aligned break), write, read back. */
    uintptr_t grown = sbrk_raw(base + 16 * PG);
    results[2] = grown == base + 16 * PG;
    unsigned char *mem = (unsigned char *)base;
    results[3] = 1;
    for (size_t i = 0; i < 16 * PG; i++) results[3] &= mem[i] == 0;
    memset(mem, 0xcd, 16 * PG);
    results[4] = mem[0] == 0xcd && mem[16 * PG - 1] == 0xcd;
    /* An unaligned break is accepted and reported as requested. */
    results[5] = sbrk_raw(base + 16 * PG + 10) == base + 16 * PG + 10;
    /* Shrink back, then grow again: the memory comes back zeroed. */
    results[6] = sbrk_raw(base + 4 * PG) == base + 4 * PG;
    results[7] = sbrk_raw(base + 16 * PG) == base + 16 * PG;
    results[8] = mem[4 * PG] == 0 && mem[16 * PG - 1] == 0 && mem[0] == 0xcd;
    /* Absurd requests are refused: the break stays where it is. */
    results[9] = sbrk_raw((uintptr_t)1 << 47) == base + 16 * PG;
    results[10] = sbrk_raw(1) == base + 16 * PG;
    /* Restore the original break. */
    results[11] = sbrk_raw(cur) == cur;

    CHECK("brk_query", results[0]);
    CHECK("brk_query_stable", results[1]);
    CHECK("brk_grow", results[2]);
    CHECK("grown_zeroed", results[3]);
    CHECK("grown_writable", results[4]);
    CHECK("unaligned_break", results[5]);
    CHECK("shrink", results[6]);
    CHECK("regrow", results[7]);
    CHECK("regrown_zeroed", results[8]);
    CHECK("huge_refused", results[9]);
    CHECK("below_start_refused", results[10]);
    CHECK("restored", results[11]);
    /* malloc still works afterwards. */
    char *m = malloc(100000);
    CHECK("malloc_after", m != NULL);
    memset(m, 1, 100000);
    free(m);
    return finish();
}
