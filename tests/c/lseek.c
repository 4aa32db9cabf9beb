// lseek: SEEK_SET/CUR/END, seeking past EOF (holes), SEEK_DATA/SEEK_HOLE, errors.
#include "common.h"

#ifndef SEEK_DATA
#define SEEK_DATA 3
#define SEEK_HOLE 4
#endif

int main(void)
{
    const char *dir = scratch_dir("lseek");
    int fd = open(path_in(dir, "f"), O_RDWR | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, "abcdefghij", 10) == 10);

    EXPECT_EQ("set_0", lseek(fd, 0, SEEK_SET), 0);
    EXPECT_EQ("set_4", lseek(fd, 4, SEEK_SET), 4);
    EXPECT_EQ("cur_plus_2", lseek(fd, 2, SEEK_CUR), 6);
    EXPECT_EQ("cur_minus_3", lseek(fd, -3, SEEK_CUR), 3);
    EXPECT_EQ("cur_0", lseek(fd, 0, SEEK_CUR), 3);
    char c = 0;
    EXPECT_EQ("read_after_seek", read(fd, &c, 1), 1);
    printf("byte_at_3: %c\n", c);
    EXPECT_EQ("end_0", lseek(fd, 0, SEEK_END), 10);
    EXPECT_EQ("end_minus_1", lseek(fd, -1, SEEK_END), 9);
    EXPECT_EQ("read_last", read(fd, &c, 1), 1);
    printf("byte_at_9: %c\n", c);

    /* Seeking past EOF does not change the size until something is written. */
    EXPECT_EQ("beyond_eof", lseek(fd, 4096 * 3, SEEK_SET), 4096 * 3);
    struct stat st;
    fstat(fd, &st);
    EXPECT_EQ("size_unchanged", st.st_size, 10);
    EXPECT_EQ("read_beyond_eof", read(fd, &c, 1), 0);
    EXPECT_EQ("write_beyond_eof", write(fd, "Z", 1), 1);
    fstat(fd, &st);
    EXPECT_EQ("size_grown", st.st_size, 4096 * 3 + 1);
    char buf[100];
    EXPECT_EQ("read_hole", pread(fd, buf, sizeof buf, 10), (long)sizeof buf);
    int zeros = 1;
    for (size_t i = 0; i < sizeof buf; i++) zeros &= buf[i] == 0;
    CHECK("hole_reads_zero", zeros);
    EXPECT_EQ("end_after_grow", lseek(fd, 0, SEEK_END), 4096 * 3 + 1);

    /* SEEK_DATA / SEEK_HOLE: a file fully written is all data; the end of
     * file is an implicit hole. */
    int g = open(path_in(dir, "g"), O_RDWR | O_CREAT | O_TRUNC, 0644);
    REQUIRE(write(g, "0123456789", 10) == 10);
    EXPECT_EQ("seek_data_0", lseek(g, 0, SEEK_DATA), 0);
    EXPECT_EQ("seek_hole_0", lseek(g, 0, SEEK_HOLE), 10);
    EXPECT_EQ("seek_hole_5", lseek(g, 5, SEEK_HOLE), 10);
    EXPECT_ERR("seek_data_at_eof", lseek(g, 10, SEEK_DATA), ENXIO);
    EXPECT_ERR("seek_hole_past_eof", lseek(g, 11, SEEK_HOLE), ENXIO);
    close(g);

    /* Errors. */
    EXPECT_ERR("negative_result", lseek(fd, -1, SEEK_SET), EINVAL);
    EXPECT_ERR("negative_cur", lseek(fd, -100000, SEEK_CUR), EINVAL);
    EXPECT_ERR("bad_whence", lseek(fd, 0, 42), EINVAL);
    EXPECT_ERR("bad_fd", lseek(-1, 0, SEEK_SET), EBADF);
    EXPECT_EQ("pos_after_errors", lseek(fd, 0, SEEK_CUR), 4096 * 3 + 1);
    /* Directories can be seeked (to 0). */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    EXPECT_EQ("dir_seek_0", lseek(dfd, 0, SEEK_SET), 0);
    close(dfd);
    /* Character devices: /dev/null accepts any seek and reports 0. */
    int n = open("/dev/null", O_RDWR);
    EXPECT_EQ("devnull_seek", lseek(n, 100, SEEK_SET), 0);
    close(n);
    close(fd);

    rm_rf(dir);
    return finish();
}
