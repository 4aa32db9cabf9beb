// madvise: MADV_DONTNEED zeroes private anonymous memory and restores file
// contents in private file mappings; harmless hints succeed; errors.
#include "common.h"
#include <sys/mman.h>

#define PG 4096UL

int main(void)
{
    unsigned char *p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(p != MAP_FAILED);
    memset(p, 0x77, 4 * PG);

    EXPECT_OK("dontneed", madvise(p + PG, 2 * PG, MADV_DONTNEED));
    CHECK("dontneed_zeroed", p[PG] == 0 && p[3 * PG - 1] == 0);
    CHECK("dontneed_outside_kept", p[PG - 1] == 0x77 && p[3 * PG] == 0x77);
    p[PG] = 5;
    CHECK("writable_after_dontneed", p[PG] == 5);

    EXPECT_OK("normal", madvise(p, 4 * PG, MADV_NORMAL));
    EXPECT_OK("random", madvise(p, 4 * PG, MADV_RANDOM));
    EXPECT_OK("sequential", madvise(p, 4 * PG, MADV_SEQUENTIAL));
    EXPECT_OK("willneed", madvise(p, 4 * PG, MADV_WILLNEED));
    EXPECT_OK("dontfork", madvise(p, 4 * PG, MADV_DONTFORK));
    EXPECT_OK("dofork", madvise(p, 4 * PG, MADV_DOFORK));
    EXPECT_OK("len_zero", madvise(p, 0, MADV_DONTNEED));
    CHECK("hints_keep_contents", p[0] == 0x77 && p[PG] == 5);
    /* MADV_FREE: contents are either kept or zero; we only check success. */
    EXPECT_OK("free", madvise(p, PG, 8 /* MADV_FREE */));

    /* Private file mapping: DONTNEED drops private changes. */
    const char *dir = scratch_dir("madvise");
    DEF_PATH(f, dir, "f");
    write_file(f, "original", 8);
    int fd = open(f, O_RDONLY);
    char *m = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    REQUIRE(m != MAP_FAILED);
    memcpy(m, "modified", 8);
    EXPECT_OK("dontneed_file", madvise(m, PG, MADV_DONTNEED));
    printf("file_map_after_dontneed: %.8s\n", m);
    munmap(m, PG);
    close(fd);
    rm_rf(dir);

    /* Errors. */
    EXPECT_ERR("unaligned", madvise(p + 1, PG, MADV_NORMAL), EINVAL);
    EXPECT_ERR("bad_advice", madvise(p, PG, 12345), EINVAL);
    EXPECT_ERR("unmapped", madvise(BAD_PTR, PG, MADV_NORMAL), ENOMEM);
    munmap(p + 2 * PG, PG);
    EXPECT_ERR("range_with_hole", madvise(p, 4 * PG, MADV_WILLNEED), ENOMEM);
    munmap(p, 4 * PG);
    return finish();
}
