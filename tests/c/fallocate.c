// fallocate (raw syscall): extending allocation, FALLOC_FL_KEEP_SIZE,
// punching holes, zero ranges, and errors.
#include "common.h"

#define VT_FALLOC_FL_KEEP_SIZE 0x01
#define VT_FALLOC_FL_PUNCH_HOLE 0x02
#define VT_FALLOC_FL_ZERO_RANGE 0x10

static long falloc(int fd, int mode, off_t off, off_t len)
{
    return syscall(SYS_fallocate, fd, mode, off, len);
}

static long fsize(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 ? (long)st.st_size : -1;
}

int main(void)
{
    const char *dir = scratch_dir("fallocate");
    char base[256];
    snprintf(base, sizeof base, "%s", dir);
    int fd = open(path_in(base, "f"), O_RDWR | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);

    EXPECT_OK("allocate_64k", falloc(fd, 0, 0, 65536));
    EXPECT_EQ("size_after_allocate", fsize(fd), 65536);
    static char buf[65536];
    EXPECT_EQ("read_allocated", pread(fd, buf, sizeof buf, 0), 65536);
    int zero = 1;
    for (size_t i = 0; i < sizeof buf; i++) zero &= buf[i] == 0;
    CHECK("allocated_reads_zero", zero);
    EXPECT_EQ("offset_unchanged", lseek(fd, 0, SEEK_CUR), 0);

    EXPECT_OK("keep_size", falloc(fd, VT_FALLOC_FL_KEEP_SIZE, 65536, 65536));
    EXPECT_EQ("size_kept", fsize(fd), 65536);
    EXPECT_OK("allocate_inside", falloc(fd, 0, 100, 100));
    EXPECT_EQ("size_inside_unchanged", fsize(fd), 65536);
    EXPECT_OK("allocate_extend_partial", falloc(fd, 0, 60000, 10000));
    EXPECT_EQ("size_extended", fsize(fd), 70000);

    /* Punch a hole in written data: reads back as zeros, size unchanged. */
    memset(buf, 'A', 16384);
    REQUIRE(pwrite(fd, buf, 16384, 0) == 16384);
    EXPECT_OK("punch_hole", falloc(fd, VT_FALLOC_FL_PUNCH_HOLE | VT_FALLOC_FL_KEEP_SIZE, 4096, 8192));
    EXPECT_EQ("size_after_punch", fsize(fd), 70000);
    pread(fd, buf, 16384, 0);
    int ok = 1;
    for (int i = 0; i < 16384; i++) ok &= buf[i] == ((i >= 4096 && i < 12288) ? 0 : 'A');
    CHECK("punched_range_zero", ok);
    EXPECT_ERR("punch_without_keep_size", falloc(fd, VT_FALLOC_FL_PUNCH_HOLE, 0, 4096), EOPNOTSUPP);

    /* Zero a range that is not page aligned. */
    memset(buf, 'B', 100);
    pwrite(fd, buf, 100, 0);
    EXPECT_OK("zero_range", falloc(fd, VT_FALLOC_FL_ZERO_RANGE, 10, 20));
    pread(fd, buf, 100, 0);
    ok = 1;
    for (int i = 0; i < 100; i++) ok &= buf[i] == ((i >= 10 && i < 30) ? 0 : 'B');
    CHECK("zeroed_range", ok);

    /* Errors. */
    EXPECT_ERR("zero_len", falloc(fd, 0, 0, 0), EINVAL);
    EXPECT_ERR("negative_offset", falloc(fd, 0, -1, 10), EINVAL);
    EXPECT_ERR("negative_len", falloc(fd, 0, 0, -10), EINVAL);
    EXPECT_ERR("bad_mode", falloc(fd, 0x4000, 0, 10), EOPNOTSUPP);
    EXPECT_ERR("badfd", falloc(-1, 0, 0, 10), EBADF);
    int ro = open(path_in(base, "f"), O_RDONLY);
    EXPECT_ERR("read_only_fd", falloc(ro, 0, 0, 10), EBADF);
    close(ro);
    int null = open("/dev/null", O_WRONLY);
    EXPECT_ERR("char_device", falloc(null, 0, 0, 10), ENODEV);
    close(null);

    /* posix_fadvise and readahead: hints, checked and accepted. */
    EXPECT_EQ("fadvise_sequential", posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL), 0);
    EXPECT_EQ("fadvise_dontneed", posix_fadvise(fd, 0, 4096, POSIX_FADV_DONTNEED), 0);
    EXPECT_EQ("fadvise_bad_advice", posix_fadvise(fd, 0, 0, 99), EINVAL);
    EXPECT_EQ("fadvise_negative_len", posix_fadvise(fd, 0, -1, POSIX_FADV_NORMAL), EINVAL);
    EXPECT_EQ("fadvise_badfd", posix_fadvise(-1, 0, 0, POSIX_FADV_NORMAL), EBADF);
    int pfds[2];
    REQUIRE(pipe(pfds) == 0);
    EXPECT_EQ("fadvise_pipe", posix_fadvise(pfds[0], 0, 0, POSIX_FADV_NORMAL), ESPIPE);
    int rfd = open(path_in(base, "f"), O_RDONLY);
    EXPECT_OK("readahead", syscall(SYS_readahead, rfd, 0L, 4096L));
    int wfd = open(path_in(base, "f"), O_WRONLY);
    EXPECT_ERR("readahead_write_only", syscall(SYS_readahead, wfd, 0L, 4096L), EBADF);
    EXPECT_ERR("readahead_pipe", syscall(SYS_readahead, pfds[0], 0L, 4096L), EINVAL);
    close(wfd);
    close(rfd);
    close(pfds[0]);
    close(pfds[1]);
    close(fd);

    rm_rf(base);
    return finish();
}
