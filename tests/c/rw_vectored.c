// readv/writev/pread64/pwrite64/preadv/pwritev: scatter-gather and positional I/O.
#include "common.h"
#include <sys/uio.h>

int main(void)
{
    const char *dir = scratch_dir("rw_vectored");
    int fd = open(path_in(dir, "f"), O_RDWR | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);

    /* writev gathers in order, including an empty iovec. */
    struct iovec wv[3] = {
        {.iov_base = "hello ", .iov_len = 6},
        {.iov_base = "", .iov_len = 0},
        {.iov_base = "world", .iov_len = 5},
    };
    EXPECT_EQ("writev", writev(fd, wv, 3), 11);
    EXPECT_EQ("writev_pos", lseek(fd, 0, SEEK_CUR), 11);

    /* readv scatters; the last buffer is only partly filled. */
    lseek(fd, 0, SEEK_SET);
    char a[4] = {0}, b[3] = {0}, c[10] = {0};
    struct iovec rv[3] = {{a, 3}, {b, 2}, {c, 9}};
    EXPECT_EQ("readv", readv(fd, rv, 3), 11);
    printf("readv_parts: [%.3s][%.2s][%s]\n", a, b, c);
    EXPECT_EQ("readv_at_eof", readv(fd, rv, 3), 0);

    /* pread/pwrite do not move the file position. */
    lseek(fd, 2, SEEK_SET);
    char p[8] = {0};
    EXPECT_EQ("pread", pread(fd, p, 5, 6), 5);
    EXPECT_STR("pread_data", p, "world");
    EXPECT_EQ("pread_pos_unchanged", lseek(fd, 0, SEEK_CUR), 2);
    EXPECT_EQ("pwrite", pwrite(fd, "W", 1, 6), 1);
    EXPECT_EQ("pwrite_pos_unchanged", lseek(fd, 0, SEEK_CUR), 2);
    EXPECT_EQ("pread_past_eof", pread(fd, p, 5, 100), 0);
    /* pwrite beyond EOF extends the file with a hole. */
    EXPECT_EQ("pwrite_far", pwrite(fd, "Z", 1, 20), 1);
    struct stat st;
    fstat(fd, &st);
    EXPECT_EQ("size_after_pwrite_far", st.st_size, 21);
    char hole[9];
    EXPECT_EQ("pread_hole", pread(fd, hole, 9, 11), 9);
    CHECK("hole_is_zero", memcmp(hole, "\0\0\0\0\0\0\0\0\0", 9) == 0);

    /* preadv/pwritev at an offset. */
    struct iovec pw[2] = {{"AB", 2}, {"CD", 2}};
    EXPECT_EQ("pwritev", pwritev(fd, pw, 2, 0), 4);
    EXPECT_EQ("pwritev_pos_unchanged", lseek(fd, 0, SEEK_CUR), 2);
    char x[3] = {0}, y[6] = {0};
    struct iovec pr[2] = {{x, 2}, {y, 5}};
    EXPECT_EQ("preadv", preadv(fd, pr, 2, 1), 7);
    printf("preadv_parts: [%.2s][%s]\n", x, y);

    char all[32] = {0};
    EXPECT_EQ("final_read", pread(fd, all, 11, 0), 11);
    EXPECT_STR("final_data", all, "ABCDo World");

    /* Errors. */
    EXPECT_ERR("pread_negative_off", pread(fd, p, 1, -1), EINVAL);
    EXPECT_ERR("pwrite_negative_off", pwrite(fd, p, 1, -1), EINVAL);
    EXPECT_ERR("readv_negative_cnt", syscall(SYS_readv, fd, rv, -1), EINVAL);
    EXPECT_ERR("writev_too_many", syscall(SYS_writev, fd, wv, 1025), EINVAL);
    EXPECT_ERR("readv_badfd", readv(-1, rv, 1), EBADF);
    EXPECT_ERR("readv_iov_efault", syscall(SYS_readv, fd, LOW_PTR, 1), EFAULT);
    struct iovec bad = {LOW_PTR, 4};
    EXPECT_ERR("readv_base_efault", preadv(fd, &bad, 1, 0), EFAULT);
    /* A length that is negative as ssize_t is rejected before any I/O. */
    struct iovec neg = {x, (size_t)-1};
    EXPECT_ERR("readv_negative_len", readv(fd, &neg, 1), EINVAL);
    EXPECT_EQ("readv_zero_cnt", readv(fd, rv, 0), 0);
    close(fd);

    rm_rf(dir);
    return finish();
}
