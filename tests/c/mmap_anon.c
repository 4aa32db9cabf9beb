// Anonymous mmap: zero fill, read/write, MAP_FIXED, MAP_FIXED_NOREPLACE,
// MAP_SHARED anonymous, munmap of parts, and argument errors.
#include "common.h"
#include <sys/mman.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif

#define PG 4096UL

static int all_bytes(const unsigned char *p, size_t n, unsigned char v)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != v) return 0;
    return 1;
}

int main(void)
{
    size_t len = 16 * PG;
    unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK("mmap_anon", p != MAP_FAILED);
    CHECK("page_aligned", ((uintptr_t)p & (PG - 1)) == 0);
    CHECK("zero_filled", all_bytes(p, len, 0));
    memset(p, 0xab, len);
    CHECK("written", all_bytes(p, len, 0xab));

    /* MAP_FIXED replaces part of the mapping with fresh zero pages. */
    unsigned char *q = mmap(p + 4 * PG, 2 * PG, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    CHECK("map_fixed_same_addr", q == p + 4 * PG);
    CHECK("map_fixed_zeroed", all_bytes(q, 2 * PG, 0));
    CHECK("map_fixed_neighbours_kept", all_bytes(p, 4 * PG, 0xab) && all_bytes(p + 6 * PG, 10 * PG, 0xab));

    /* MAP_FIXED_NOREPLACE over an existing mapping fails with EEXIST. */
    EXPECT_ERR("fixed_noreplace_busy",
               mmap(p + PG, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0), EEXIST);
    /* ... and succeeds on a hole we punch. */
    EXPECT_OK("munmap_middle", munmap(p + 8 * PG, 2 * PG));
    q = mmap(p + 8 * PG, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    CHECK("fixed_noreplace_free", q == p + 8 * PG);
    CHECK("fixed_noreplace_zeroed", all_bytes(q, 2 * PG, 0));
    /* A hint address that is free is used as is. */
    EXPECT_OK("munmap_tail", munmap(p + 12 * PG, 4 * PG));
    q = mmap(p + 12 * PG, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK("hint_honoured", q == p + 12 * PG);

    /* Unmapping a range containing holes is fine; so is unmapping nothing. */
    EXPECT_OK("munmap_all", munmap(p, len));
    EXPECT_OK("munmap_again", munmap(p, len));

    /* MAP_SHARED anonymous memory is zero filled and writable. */
    unsigned char *s = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK("shared_anon", s != MAP_FAILED && all_bytes(s, 3 * PG, 0));
    memset(s, 7, 3 * PG);
    CHECK("shared_anon_written", all_bytes(s, 3 * PG, 7));
    munmap(s, 3 * PG);

    /* Odd lengths round up to whole pages. */
    unsigned char *o = mmap(NULL, 100, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK("odd_len", o != MAP_FAILED);
    o[PG - 1] = 1;
    CHECK("odd_len_whole_page", o[PG - 1] == 1);
    EXPECT_OK("munmap_odd_len", munmap(o, 100));

    /* A large reservation that is mostly untouched. */
    size_t big = 1UL << 30;
    unsigned char *r = mmap(NULL, big, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    CHECK("reserve_1g", r != MAP_FAILED);
    EXPECT_OK("commit_part", mprotect(r + big / 2, PG, PROT_READ | PROT_WRITE));
    r[big / 2] = 42;
    CHECK("commit_part_written", r[big / 2] == 42);
    munmap(r, big);

    /* MAP_POPULATE and MAP_STACK are accepted. */
    q = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    CHECK("populate", q != MAP_FAILED && all_bytes(q, 4 * PG, 0));
    munmap(q, 4 * PG);
    q = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    CHECK("stack", q != MAP_FAILED);
    munmap(q, 4 * PG);

    /* Argument errors. */
    EXPECT_ERR("len_zero", mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), EINVAL);
    EXPECT_ERR("no_share_type", mmap(NULL, PG, PROT_READ, MAP_ANONYMOUS, -1, 0), EINVAL);
    EXPECT_ERR("fixed_unaligned", mmap(opaque_ptr(0x10000001), PG, PROT_READ,
                                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), EINVAL);
    EXPECT_ERR("len_huge", mmap(NULL, (size_t)-4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), ENOMEM);
    EXPECT_ERR("fixed_kernel_addr", mmap(BAD_PTR, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
               ENOMEM);
    EXPECT_ERR("anon_shared_validate", mmap(NULL, PG, PROT_READ, MAP_SHARED_VALIDATE | MAP_ANONYMOUS, -1, 0),
               EINVAL);
    EXPECT_ERR("munmap_unaligned", munmap(opaque_ptr(0x10000001), PG), EINVAL);
    EXPECT_ERR("munmap_len_zero", munmap(opaque_ptr(0x10000000), 0), EINVAL);
    EXPECT_ERR("file_map_badfd", mmap(NULL, PG, PROT_READ, MAP_PRIVATE, -1, 0), EBADF);
    return finish();
}
