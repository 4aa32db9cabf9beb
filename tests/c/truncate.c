// truncate/ftruncate: shrinking, growing (zero fill), offsets unchanged,
// and errors.
#include "common.h"

static long size_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

int main(void)
{
    const char *dir = scratch_dir("truncate");
    char base[256];
    snprintf(base, sizeof base, "%s", dir);
    DEF_PATH(f, base, "f");
    write_file(f, "0123456789", 10);

    EXPECT_OK("truncate_shrink", truncate(f, 4));
    EXPECT_EQ("size_4", size_of(f), 4);
    char buf[64] = {0};
    read_file(f, buf, sizeof buf);
    EXPECT_STR("shrunk_contents", buf, "0123");
    EXPECT_OK("truncate_grow", truncate(f, 8));
    EXPECT_EQ("size_8", size_of(f), 8);
    int fd = open(f, O_RDWR);
    memset(buf, 'x', sizeof buf);
    EXPECT_EQ("read_grown", read(fd, buf, sizeof buf), 8);
    CHECK("grown_is_zero", memcmp(buf, "0123\0\0\0\0", 8) == 0);

    /* ftruncate does not move the file offset. */
    EXPECT_EQ("offset_before", lseek(fd, 0, SEEK_CUR), 8);
    EXPECT_OK("ftruncate_shrink", ftruncate(fd, 2));
    EXPECT_EQ("offset_after", lseek(fd, 0, SEEK_CUR), 8);
    EXPECT_EQ("size_2", size_of(f), 2);
    /* Writing at the old offset leaves a zero-filled gap. */
    EXPECT_EQ("write_after_truncate", write(fd, "Z", 1), 1);
    EXPECT_EQ("size_9", size_of(f), 9);
    pread(fd, buf, 9, 0);
    CHECK("gap_is_zero", memcmp(buf, "01\0\0\0\0\0\0Z", 9) == 0);
    EXPECT_OK("ftruncate_big", ftruncate(fd, 1 << 24));
    EXPECT_EQ("size_16m", size_of(f), 1 << 24);
    EXPECT_EQ("read_far", pread(fd, buf, 4, (1 << 24) - 2), 2);
    CHECK("far_is_zero", buf[0] == 0 && buf[1] == 0);
    EXPECT_OK("ftruncate_zero", ftruncate(fd, 0));
    EXPECT_EQ("size_0", size_of(f), 0);
    EXPECT_OK("ftruncate_same", ftruncate(fd, 0));

    /* Errors. */
    EXPECT_ERR("ftruncate_negative", ftruncate(fd, -1), EINVAL);
    EXPECT_ERR("truncate_negative", truncate(f, -1), EINVAL);
    close(fd);
    fd = open(f, O_RDONLY);
    EXPECT_ERR("ftruncate_rdonly", ftruncate(fd, 1), EINVAL);
    close(fd);
    EXPECT_ERR("ftruncate_badfd", ftruncate(-1, 0), EBADF);
    EXPECT_ERR("truncate_dir", truncate(base, 0), EISDIR);
    int dfd = open(base, O_RDONLY | O_DIRECTORY);
    EXPECT_ERR("ftruncate_dir", ftruncate(dfd, 0), EINVAL);
    close(dfd);
    EXPECT_ERR("truncate_missing", truncate(path_in(base, "none"), 0), ENOENT);
    EXPECT_ERR("truncate_efault", syscall(SYS_truncate, LOW_PTR, 0), EFAULT);
    /* truncate follows symlinks. */
    REQUIRE(symlink("f", path_in(base, "l")) == 0);
    EXPECT_OK("truncate_via_link", truncate(path_in(base, "l"), 3));
    EXPECT_EQ("size_via_link", size_of(f), 3);

    rm_rf(base);
    return finish();
}
