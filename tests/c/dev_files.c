// /dev files: null (write succeeds, read is EOF), zero (reads zeros),
// full (write fails with ENOSPC), urandom/random (reads requested size),
// file types and device numbers, /dev/fd and /dev/stdout (also opened with O_CREAT).
#include "common.h"
#include <sys/sysmacros.h>

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

    /* O_CREAT follows the magic links to the open files (a shell's `> /dev/stderr`). */
    fd = open("/dev/stdout", O_WRONLY | O_CREAT | O_APPEND, 0666);
    CHECK("dev_stdout_creat_open", fd >= 0);
    EXPECT_EQ("dev_stdout_creat_write", write(fd, "written via O_CREAT\n", 20), 20);
    close(fd);
    fd = open("/dev/stderr", O_WRONLY | O_CREAT | O_TRUNC, 0666);
    CHECK("dev_stderr_creat_trunc_open", fd >= 0);
    close(fd);
    fd = open("/dev/fd/2", O_WRONLY | O_CREAT, 0666);
    CHECK("dev_fd_2_creat_open", fd >= 0);
    close(fd);
    EXPECT_ERR("dev_stdout_creat_excl", open("/dev/stdout", O_WRONLY | O_CREAT | O_EXCL, 0666),
               EEXIST);
    EXPECT_ERR("dev_stdout_creat_nofollow",
               open("/dev/stdout", O_WRONLY | O_CREAT | O_NOFOLLOW, 0666), ELOOP);
    int p[2];
    EXPECT_OK("pipe", pipe(p));
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", p[1]);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    CHECK("proc_fd_pipe_creat_open", fd >= 0);
    EXPECT_EQ("proc_fd_pipe_creat_write", write(fd, "abc", 3), 3);
    memset(buf, 0, sizeof buf);
    EXPECT_EQ("proc_fd_pipe_read", read(p[0], buf, sizeof buf - 1), 3);
    EXPECT_STR("proc_fd_pipe_data", buf, "abc");
    close(fd);
    close(p[0]);
    close(p[1]);

    /* Character devices with Linux's numbers (the same on every Linux system). */
    static const char *const devices[] = {"null", "zero", "full", "random", "urandom", "tty"};
    for (size_t i = 0; i < sizeof devices / sizeof devices[0]; i++) {
        snprintf(path, sizeof path, "/dev/%s", devices[i]);
        if (stat(path, &st) == 0)
            printf("%s_device: chr=%d %u:%u\n", devices[i], S_ISCHR(st.st_mode), major(st.st_rdev),
                   minor(st.st_rdev));
        else
            printf("%s_device: %s\n", devices[i], errname(errno));
    }

    /* Missing device names fail normally. */
    EXPECT_ERR("missing_device", open("/dev/veil-does-not-exist", O_RDONLY), ENOENT);
    EXPECT_OK("stat_dev_dir", stat("/dev", &st));
    CHECK("dev_is_dir", S_ISDIR(st.st_mode));
    return finish();
}
