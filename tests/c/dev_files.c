// /dev files: null (write succeeds, read is EOF), zero (reads zeros),
// full (write fails with ENOSPC), urandom/random (reads requested size),
// file types, /dev/fd and /dev/stdout.
#include "common.h"

int main(void)
{
    char buf[4096];
    struct stat st;

    int fd = open("/dev/null", O_RDWR);
    CHECK("null_open", fd >= 0);
    EXPECT_EQ("null_write", write(fd, "discarded", 9), 9);
    EXPECT_EQ("null_write_big", write(fd, buf, sizeof buf), (long)sizeof buf);
    EXPECT_EQ("null_read_eof", read(fd, buf, sizeof buf), 0);
    EXPECT_EQ("null_pread", pread(fd, buf, 10, 100), 0);
    fstat(fd, &st);
    CHECK("null_is_chr", S_ISCHR(st.st_mode));
    EXPECT_MODE("null_mode", st.st_mode & 0777, 0666);
    close(fd);

    fd = open("/dev/zero", O_RDWR);
    CHECK("zero_open", fd >= 0);
    memset(buf, 0x5a, sizeof buf);
    EXPECT_EQ("zero_read", read(fd, buf, sizeof buf), (long)sizeof buf);
    int zeros = 1;
    for (size_t i = 0; i < sizeof buf; i++) zeros &= buf[i] == 0;
    CHECK("zero_reads_zeros", zeros);
    EXPECT_EQ("zero_write", write(fd, "x", 1), 1);
    static char big[1 << 20];
    memset(big, 1, sizeof big);
    EXPECT_EQ("zero_read_1m", read(fd, big, sizeof big), (long)sizeof big);
    CHECK("zero_1m_zeros", big[0] == 0 && big[sizeof big / 2] == 0 && big[sizeof big - 1] == 0);
    close(fd);

    fd = open("/dev/full", O_RDWR);
    CHECK("full_open", fd >= 0);
    EXPECT_ERR("full_write", write(fd, "x", 1), ENOSPC);
    memset(buf, 7, 16);
    EXPECT_EQ("full_read", read(fd, buf, 16), 16);
    CHECK("full_reads_zeros", buf[0] == 0 && buf[15] == 0);
    close(fd);

    fd = open("/dev/urandom", O_RDONLY);
    CHECK("urandom_open", fd >= 0);
    EXPECT_EQ("urandom_read_32", read(fd, buf, 32), 32);
    EXPECT_EQ("urandom_read_4096", read(fd, buf, 4096), 4096);
    fstat(fd, &st);
    CHECK("urandom_is_chr", S_ISCHR(st.st_mode));
    close(fd);
    fd = open("/dev/random", O_RDONLY);
    CHECK("random_open", fd >= 0);
    EXPECT_EQ("random_read_16", read(fd, buf, 16), 16);
    close(fd);

    /* /dev/fd points at /proc/self/fd; /dev/stdout reaches fd 1. */
    ssize_t n = readlink("/dev/fd", buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    EXPECT_STR("dev_fd_link", buf, "/proc/self/fd");
    fflush(stdout);
    /* O_APPEND: correct whether stdout is a pipe or a file. */
    fd = open("/dev/stdout", O_WRONLY | O_APPEND);
    CHECK("dev_stdout_open", fd >= 0);
    EXPECT_EQ("dev_stdout_write", write(fd, "written via /dev/stdout\n", 24), 24);
    close(fd);
    fd = open("/dev/fd/1", O_WRONLY);
    CHECK("dev_fd_1_open", fd >= 0);
    close(fd);

    /* Missing device names fail normally. */
    EXPECT_ERR("missing_device", open("/dev/veil-does-not-exist", O_RDONLY), ENOENT);
    EXPECT_OK("stat_dev_dir", stat("/dev", &st));
    CHECK("dev_is_dir", S_ISDIR(st.st_mode));
    return finish();
}
