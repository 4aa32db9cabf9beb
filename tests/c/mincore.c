// mincore: touched anonymous pages are resident, vector size, and errors.
#include "common.h"
#include <sys/mman.h>

#define PG 4096UL

int main(void)
{
    unsigned char *p = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(p != MAP_FAILED);
    for (size_t i = 0; i < 8 * PG; i += PG) p[i] = 1;

    unsigned char vec[9];
    memset(vec, 0xee, sizeof vec);
    EXPECT_OK("mincore", mincore(p, 8 * PG, vec));
    int all = 1;
    for (int i = 0; i < 8; i++) all &= vec[i] & 1;
    CHECK("touched_resident", all);
    EXPECT_EQ("vector_not_overrun", vec[8], 0xee);
    /* Partial last page counts as a page. */
    memset(vec, 0xee, sizeof vec);
    EXPECT_OK("len_rounded", mincore(p, PG + 1, vec));
    CHECK("two_entries", (vec[0] & 1) && (vec[1] & 1) && vec[2] == 0xee);
    /* The stack and the program's data are resident. */
    static int data_var = 5;
    unsigned char v1;
    EXPECT_OK("mincore_data", mincore((void *)((uintptr_t)&data_var & ~(PG - 1)), PG, &v1));
    CHECK("data_resident", (v1 & 1) && data_var == 5);
    EXPECT_OK("mincore_stack", mincore((void *)((uintptr_t)&v1 & ~(PG - 1)), PG, &v1));

    EXPECT_ERR("unaligned", mincore(p + 1, PG, vec), EINVAL);
    EXPECT_ERR("unmapped", mincore(BAD_PTR, PG, vec), ENOMEM);
    EXPECT_ERR("vec_efault", mincore(p, PG, BAD_PTR), EFAULT);
    munmap(p + 4 * PG, PG);
    EXPECT_ERR("range_with_hole", mincore(p, 8 * PG, vec), ENOMEM);
    munmap(p, 8 * PG);
    return finish();
}
