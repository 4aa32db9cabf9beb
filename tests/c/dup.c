// dup/dup2/dup3: lowest fd, shared offset and flags, close-on-exec handling,
// replacing an open fd, and errors.
#include "common.h"
#include <sys/resource.h>

int main(void)
{
    const char *dir = scratch_dir("dup");
    DEF_PATH(f, dir, "f");
    write_file(f, "abcdefgh", 8);
    int fd = open(f, O_RDWR | O_CLOEXEC);
    REQUIRE(fd == 3);

    int d = dup(fd);
    EXPECT_EQ("dup_lowest", d, 4);
    EXPECT_EQ("dup_clears_cloexec", fcntl(d, F_GETFD), 0);
    char c;
    read(fd, &c, 1);
    read(d, &c, 1);
    printf("shared_offset_read: %c\n", c);
    EXPECT_EQ("shared_offset", lseek(fd, 0, SEEK_CUR), 2);
    /* Closing one does not affect the other. */
    close(fd);
    EXPECT_EQ("survivor_reads", read(d, &c, 1), 1);
    printf("survivor_byte: %c\n", c);

    /* dup2 to a chosen number, replacing an open descriptor silently. */
    int other = open(f, O_RDONLY);
    EXPECT_EQ("other_fd", other, 3);
    EXPECT_EQ("dup2_replace", dup2(d, other), other);
    EXPECT_EQ("dup2_replaced_shares_offset", lseek(other, 0, SEEK_CUR), 3);
    EXPECT_EQ("dup2_high", dup2(d, 100), 100);
    EXPECT_EQ("dup2_high_getfd", fcntl(100, F_GETFD), 0);
    EXPECT_EQ("dup2_same_fd", dup2(d, d), d);
    EXPECT_ERR("dup2_same_closed", dup2(77, 77), EBADF);
    EXPECT_ERR("dup2_bad_old", dup2(-1, 50), EBADF);
    EXPECT_ERR("dup2_bad_new", dup2(d, -1), EBADF);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    EXPECT_ERR("dup2_beyond_limit", dup2(d, (int)rl.rlim_cur), EBADF);

    /* dup3 (errors through the raw syscall: musl checks some flags itself). */
    EXPECT_EQ("dup3_cloexec", dup3(d, 101, O_CLOEXEC), 101);
    EXPECT_EQ("dup3_cloexec_flag", fcntl(101, F_GETFD), FD_CLOEXEC);
    EXPECT_EQ("dup3_plain", dup3(d, 101, 0), 101);
    EXPECT_EQ("dup3_plain_flag", fcntl(101, F_GETFD), 0);
    EXPECT_ERR("dup3_same_fd", syscall(SYS_dup3, d, d, 0), EINVAL);
    EXPECT_ERR("dup3_bad_flags", syscall(SYS_dup3, d, 102, O_NONBLOCK), EINVAL);
    EXPECT_ERR("dup3_bad_old", syscall(SYS_dup3, -1, 102, 0), EBADF);
    EXPECT_ERR("dup_bad", dup(-1), EBADF);
    EXPECT_ERR("dup_closed", dup(555), EBADF);

    /* Raw dup2 syscall as well (glibc may implement dup2 with dup3). */
    EXPECT_EQ("sys_dup2", syscall(SYS_dup2, d, 103), 103);
    EXPECT_EQ("sys_dup2_same", syscall(SYS_dup2, d, d), d);

    /* A write through one descriptor is visible through all. */
    lseek(100, 0, SEEK_SET);
    write(101, "XY", 2);
    char buf[9] = {0};
    pread(103, buf, 8, 0);
    EXPECT_STR("contents", buf, "XYcdefgh");

    close(d);
    close(other);
    close(100);
    close(101);
    close(103);
    EXPECT_EQ("next_fd_after_closing", dup(1), 3);
    close(3);

    rm_rf(dir);
    return finish();
}
