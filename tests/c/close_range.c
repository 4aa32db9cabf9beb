// close_range (raw syscall): closing ranges, CLOSE_RANGE_CLOEXEC, ranges
// reaching past the highest fd, and errors.
#include "common.h"

#define VT_CLOSE_RANGE_UNSHARE (1U << 1)
#define VT_CLOSE_RANGE_CLOEXEC (1U << 2)

static long cr(unsigned first, unsigned last, unsigned flags)
{
    return syscall(SYS_close_range, first, last, flags);
}

/* Bitmap of which of fds 0..31 are open, as a string. */
static void show_open(const char *label)
{
    char s[33];
    for (int i = 0; i < 32; i++) s[i] = fcntl(i, F_GETFD) == -1 ? '.' : 'o';
    s[32] = 0;
    printf("%s: %s\n", label, s);
}

int main(void)
{
    for (int i = 3; i < 20; i++) REQUIRE(dup2(1, i) == i);
    show_open("initial");

    EXPECT_OK("close_5_7", cr(5, 7, 0));
    show_open("after_5_7");
    EXPECT_OK("close_single", cr(10, 10, 0));
    show_open("after_10");
    EXPECT_OK("close_already_closed", cr(5, 7, 0));
    /* CLOSE_RANGE_CLOEXEC marks instead of closing. */
    EXPECT_OK("cloexec_12_14", cr(12, 14, VT_CLOSE_RANGE_CLOEXEC));
    show_open("after_cloexec");
    printf("cloexec_flags:");
    for (int i = 11; i <= 15; i++) printf(" %d", fcntl(i, F_GETFD));
    printf("\n");
    EXPECT_OK("unshare", cr(19, 19, VT_CLOSE_RANGE_UNSHARE));
    show_open("after_unshare");
    /* A range to ~0 closes everything from `first`. */
    EXPECT_OK("close_to_max", cr(15, ~0U, 0));
    show_open("after_to_max");
    EXPECT_OK("beyond_all", cr(1000, 2000, 0));

    EXPECT_ERR("first_gt_last", cr(8, 4, 0), EINVAL);
    EXPECT_ERR("bad_flags", cr(3, 4, 0x80), EINVAL);
    show_open("after_errors");
    /* Lowest fd reuse after a range close. */
    EXPECT_EQ("dup_lowest", dup(0), 5);
    return finish();
}
