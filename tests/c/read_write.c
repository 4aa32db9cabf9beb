// read/write: file position, short reads at EOF, zero-length I/O, errors.
#include "common.h"

int main(void)
{
    const char *dir = scratch_dir("read_write");
    DEF_PATH(f, dir, "data");

    int fd = open(f, O_RDWR | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    EXPECT_EQ("write_10", write(fd, "0123456789", 10), 10);
    EXPECT_EQ("write_zero_len", write(fd, "x", 0), 0);
    EXPECT_EQ("pos_after_write", lseek(fd, 0, SEEK_CUR), 10);
    EXPECT_EQ("read_at_eof", read(fd, (char[8]){0}, 8), 0);

    lseek(fd, 0, SEEK_SET);
    char buf[32] = {0};
    EXPECT_EQ("read_4", read(fd, buf, 4), 4);
    EXPECT_STR("read_4_data", buf, "0123");
    memset(buf, 0, sizeof buf);
    EXPECT_EQ("read_short", read(fd, buf, sizeof buf), 6);
    EXPECT_STR("read_short_data", buf, "456789");
    EXPECT_EQ("read_zero_len", read(fd, buf, 0), 0);

    /* Overwrite in the middle. */
    lseek(fd, 3, SEEK_SET);
    EXPECT_EQ("overwrite", write(fd, "abc", 3), 3);
    lseek(fd, 0, SEEK_SET);
    memset(buf, 0, sizeof buf);
    EXPECT_EQ("reread", read(fd, buf, sizeof buf), 10);
    EXPECT_STR("reread_data", buf, "012abc6789");

    /* A large write in one call. */
    static char big[200000];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (char)('a' + i % 26);
    lseek(fd, 0, SEEK_SET);
    EXPECT_EQ("big_write", write(fd, big, sizeof big), (long)sizeof big);
    static char back[200000];
    lseek(fd, 0, SEEK_SET);
    size_t got = 0;
    for (;;) {
        ssize_t n = read(fd, back + got, sizeof back - got);
        if (n <= 0) break;
        got += (size_t)n;
    }
    EXPECT_EQ("big_read_total", got, sizeof big);
    CHECK("big_read_same", memcmp(big, back, sizeof big) == 0);
    close(fd);

    /* Errors. */
    EXPECT_ERR("read_badfd", read(-1, buf, 1), EBADF);
    EXPECT_ERR("write_badfd", write(-1, buf, 1), EBADF);
    EXPECT_ERR("read_closedfd", read(fd, buf, 1), EBADF);
    fd = open(f, O_RDONLY);
    EXPECT_ERR("read_efault", read(fd, LOW_PTR, 10), EFAULT);
    EXPECT_ERR("write_on_rdonly", write(fd, "x", 1), EBADF);
    close(fd);
    fd = open(f, O_WRONLY);
    EXPECT_ERR("read_on_wronly", read(fd, buf, 1), EBADF);
    EXPECT_ERR("write_efault", write(fd, LOW_PTR, 10), EFAULT);
    close(fd);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    EXPECT_ERR("read_dir", read(dfd, buf, sizeof buf), EISDIR);
    EXPECT_ERR("write_dir", write(dfd, buf, 1), EBADF);
    close(dfd);

    rm_rf(dir);
    return finish();
}
