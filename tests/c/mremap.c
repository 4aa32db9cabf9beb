// mremap: growing with MREMAP_MAYMOVE preserves contents, shrinking in
// place, growing in place when there is room, MREMAP_FIXED, and errors.
#include "common.h"
#include <sys/mman.h>

#ifndef MREMAP_MAYMOVE
#define MREMAP_MAYMOVE 1
#endif
#ifndef MREMAP_FIXED
#define MREMAP_FIXED 2
#endif

#define PG 4096UL

static int pattern_ok(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(i * 13 + i / PG)) return 0;
    return 1;
}

static void *mremap_raw(void *old, size_t old_len, size_t new_len, int flags, void *new_addr)
{
    return (void *)syscall(SYS_mremap, old, old_len, new_len, flags, new_addr);
}

int main(void)
{
    /* Reserve 16 pages so we control what lies after our mapping. */
    unsigned char *area = mmap(NULL, 16 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(area != MAP_FAILED);
    REQUIRE(munmap(area, 16 * PG) == 0);
    unsigned char *p = mmap(area, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    REQUIRE(p == area);
    for (size_t i = 0; i < 2 * PG; i++) p[i] = (unsigned char)(i * 13 + i / PG);

    /* Grow in place: the following pages are free. */
    unsigned char *g = mremap_raw(p, 2 * PG, 4 * PG, 0, NULL);
    CHECK("grow_in_place", g == p);
    CHECK("grow_in_place_contents", pattern_ok(g, 2 * PG));
    CHECK("grow_in_place_new_zero", g[2 * PG] == 0 && g[4 * PG - 1] == 0);
    g[4 * PG - 1] = 9;

    /* Shrink in place. */
    unsigned char *s = mremap_raw(g, 4 * PG, 2 * PG, 0, NULL);
    CHECK("shrink_in_place", s == p);
    CHECK("shrink_contents", pattern_ok(s, 2 * PG));

    /* Block the next page: growing without MAYMOVE fails, with it moves. */
    unsigned char *blocker = mmap(p + 2 * PG, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    REQUIRE(blocker == p + 2 * PG);
    EXPECT_ERR("grow_blocked", mremap_raw(p, 2 * PG, 8 * PG, 0, NULL), ENOMEM);
    unsigned char *m = mremap_raw(p, 2 * PG, 64 * PG, MREMAP_MAYMOVE, NULL);
    CHECK("grow_maymove", m != MAP_FAILED);
    CHECK("grow_maymove_moved", m != p);
    CHECK("grow_maymove_contents", pattern_ok(m, 2 * PG));
    CHECK("grow_maymove_new_zero", m[2 * PG] == 0 && m[64 * PG - 1] == 0);
    m[64 * PG - 1] = 1;
    /* The old range is free now: MAP_FIXED_NOREPLACE can take it. */
    unsigned char *again = mmap(p, 2 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | 0x100000, -1, 0);
    CHECK("old_range_free", again == p);
    munmap(again, 2 * PG);

    /* MREMAP_FIXED moves to a chosen address. */
    unsigned char *target = p + 4 * PG;
    unsigned char *fx = mremap_raw(m, 64 * PG, 4 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, target);
    CHECK("fixed_move", fx == target);
    CHECK("fixed_move_contents", pattern_ok(fx, 2 * PG));

    /* Protection is carried over. */
    EXPECT_OK("mprotect_ro", mprotect(fx, 4 * PG, PROT_READ));
    unsigned char *ro = mremap_raw(fx, 4 * PG, 32 * PG, MREMAP_MAYMOVE, NULL);
    CHECK("ro_moved_contents", ro != MAP_FAILED && pattern_ok(ro, 2 * PG));

    /* Errors. */
    EXPECT_ERR("unaligned", mremap_raw(ro + 1, PG, 2 * PG, MREMAP_MAYMOVE, NULL), EINVAL);
    EXPECT_ERR("bad_flags", mremap_raw(ro, PG, 2 * PG, 0x80, NULL), EINVAL);
    EXPECT_ERR("fixed_without_maymove", mremap_raw(ro, PG, PG, MREMAP_FIXED, target), EINVAL);
    EXPECT_ERR("new_len_zero", mremap_raw(ro, PG, 0, MREMAP_MAYMOVE, NULL), EINVAL);
    EXPECT_ERR("unmapped_source", mremap_raw(BAD_PTR, PG, 2 * PG, MREMAP_MAYMOVE, NULL), EFAULT);
    EXPECT_ERR("source_too_long", mremap_raw(blocker, 4 * PG, 8 * PG, MREMAP_MAYMOVE, NULL), EFAULT);
    munmap(ro, 32 * PG);
    munmap(blocker, PG);
    return finish();
}
