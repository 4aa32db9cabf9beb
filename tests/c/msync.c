// msync on anonymous and private mappings: flags accepted, contents
// unchanged, and errors (unaligned, bad flags, unmapped range).
#include "common.h"
#include <sys/mman.h>

#define PG 4096UL

int main(void)
{
    unsigned char *p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(p != MAP_FAILED);
    memset(p, 3, 4 * PG);

    EXPECT_OK("ms_sync", msync(p, 4 * PG, MS_SYNC));
    EXPECT_OK("ms_async", msync(p, 4 * PG, MS_ASYNC));
    EXPECT_OK("ms_invalidate", msync(p, 4 * PG, MS_INVALIDATE));
    EXPECT_OK("ms_sync_invalidate", msync(p, PG, MS_SYNC | MS_INVALIDATE));
    EXPECT_OK("partial_range", msync(p + PG, PG, MS_SYNC));
    EXPECT_OK("len_not_page_multiple", msync(p, 10, MS_SYNC));
    EXPECT_OK("len_zero", msync(p, 0, MS_SYNC));
    CHECK("contents_unchanged", p[0] == 3 && p[4 * PG - 1] == 3);
    EXPECT_OK("flags_zero", msync(p, PG, 0));

    EXPECT_ERR("sync_and_async", msync(p, PG, MS_SYNC | MS_ASYNC), EINVAL);
    EXPECT_ERR("bad_flags", msync(p, PG, 0x100), EINVAL);
    EXPECT_ERR("unaligned", syscall(SYS_msync, p + 1, PG, MS_SYNC), EINVAL);
    EXPECT_ERR("unmapped", msync(BAD_PTR, PG, MS_SYNC), ENOMEM);
    munmap(p + 2 * PG, PG);
    EXPECT_ERR("range_with_hole", msync(p, 4 * PG, MS_SYNC), ENOMEM);
    munmap(p, 4 * PG);
    EXPECT_ERR("fully_unmapped", msync(p, PG, MS_SYNC), ENOMEM);
    return finish();
}
