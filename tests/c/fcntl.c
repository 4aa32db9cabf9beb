// fcntl: F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD/F_SETFD, F_GETFL/F_SETFL
// (O_APPEND, O_NONBLOCK, access mode), record locks, errors.
#include "common.h"

int main(void)
{
    const char *dir = scratch_dir("fcntl");
    DEF_PATH(f, dir, "f");
    write_file(f, "0123456789", 10);
    int fd = open(f, O_RDWR);
    REQUIRE(fd == 3);

    /* F_DUPFD returns the lowest free fd >= arg. */
    int d = fcntl(fd, F_DUPFD, 0);
    EXPECT_EQ("dupfd_0", d, 4);
    int d10 = fcntl(fd, F_DUPFD, 10);
    EXPECT_EQ("dupfd_10", d10, 10);
    int d10b = fcntl(fd, F_DUPFD, 10);
    EXPECT_EQ("dupfd_10_again", d10b, 11);
    EXPECT_EQ("dupfd_no_cloexec", fcntl(d10, F_GETFD), 0);
    int dc = fcntl(fd, F_DUPFD_CLOEXEC, 20);
    EXPECT_EQ("dupfd_cloexec", dc, 20);
    EXPECT_EQ("dupfd_cloexec_flag", fcntl(dc, F_GETFD), FD_CLOEXEC);
    /* The duplicate shares the file offset. */
    lseek(fd, 7, SEEK_SET);
    EXPECT_EQ("dup_shares_offset", lseek(d, 0, SEEK_CUR), 7);
    close(d10);
    close(d10b);
    close(dc);
    close(d);

    /* F_GETFD / F_SETFD. */
    EXPECT_EQ("getfd_initial", fcntl(fd, F_GETFD), 0);
    EXPECT_OK("setfd_cloexec", fcntl(fd, F_SETFD, FD_CLOEXEC));
    EXPECT_EQ("getfd_after_set", fcntl(fd, F_GETFD), FD_CLOEXEC);
    EXPECT_OK("setfd_clear", fcntl(fd, F_SETFD, 0));
    EXPECT_EQ("getfd_after_clear", fcntl(fd, F_GETFD), 0);
    int oc = open(f, O_RDONLY | O_CLOEXEC);
    EXPECT_EQ("o_cloexec_getfd", fcntl(oc, F_GETFD), FD_CLOEXEC);
    close(oc);

    /* F_GETFL: access mode and status flags. */
    int fl = fcntl(fd, F_GETFL);
    EXPECT_EQ("getfl_accmode_rdwr", fl & O_ACCMODE, O_RDWR);
    EXPECT_EQ("getfl_append", !!(fl & O_APPEND), 0);
    EXPECT_EQ("getfl_nonblock", !!(fl & O_NONBLOCK), 0);
    int ro = open(f, O_RDONLY);
    EXPECT_EQ("getfl_accmode_rdonly", fcntl(ro, F_GETFL) & O_ACCMODE, O_RDONLY);
    int wo = open(f, O_WRONLY | O_APPEND);
    fl = fcntl(wo, F_GETFL);
    EXPECT_EQ("getfl_accmode_wronly", fl & O_ACCMODE, O_WRONLY);
    EXPECT_EQ("getfl_open_append", !!(fl & O_APPEND), 1);
    close(ro);
    close(wo);

    /* F_SETFL changes O_APPEND/O_NONBLOCK but not the access mode. */
    EXPECT_OK("setfl_append_nonblock", fcntl(fd, F_SETFL, O_APPEND | O_NONBLOCK | O_RDONLY));
    fl = fcntl(fd, F_GETFL);
    EXPECT_EQ("setfl_append_set", !!(fl & O_APPEND), 1);
    EXPECT_EQ("setfl_nonblock_set", !!(fl & O_NONBLOCK), 1);
    EXPECT_EQ("setfl_accmode_kept", fl & O_ACCMODE, O_RDWR);
    /* O_APPEND now makes writes go to the end. */
    lseek(fd, 0, SEEK_SET);
    EXPECT_EQ("append_write", write(fd, "AB", 2), 2);
    EXPECT_EQ("append_pos", lseek(fd, 0, SEEK_CUR), 12);
    /* The flag is per open file description: visible through a dup. */
    d = dup(fd);
    EXPECT_EQ("dup_sees_append", !!(fcntl(d, F_GETFL) & O_APPEND), 1);
    close(d);
    EXPECT_OK("setfl_clear", fcntl(fd, F_SETFL, 0));
    fl = fcntl(fd, F_GETFL);
    EXPECT_EQ("setfl_cleared", !!(fl & (O_APPEND | O_NONBLOCK)), 0);
    lseek(fd, 0, SEEK_SET);
    EXPECT_EQ("write_at_0", write(fd, "z", 1), 1);
    char buf[16] = {0};
    pread(fd, buf, sizeof buf - 1, 0);
    EXPECT_STR("contents", buf, "z123456789AB");

    /* Record locks: a single process never conflicts with itself. */
    struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 4};
    EXPECT_OK("setlk_write", fcntl(fd, F_SETLK, &lk));
    lk.l_type = F_WRLCK;
    EXPECT_OK("getlk", fcntl(fd, F_GETLK, &lk));
    EXPECT_EQ("getlk_unlocked_for_self", lk.l_type, F_UNLCK);
    lk.l_type = F_UNLCK;
    EXPECT_OK("setlk_unlock", fcntl(fd, F_SETLK, &lk));
    lk.l_type = F_RDLCK;
    int wfd = open(f, O_WRONLY);
    EXPECT_ERR("setlk_read_on_wronly", fcntl(wfd, F_SETLK, &lk), EBADF);
    close(wfd);

    /* Errors. */
    EXPECT_ERR("getfd_badfd", fcntl(-1, F_GETFD), EBADF);
    EXPECT_ERR("getfl_closed", fcntl(99, F_GETFL), EBADF);
    EXPECT_ERR("dupfd_negative", fcntl(fd, F_DUPFD, -1), EINVAL);
    EXPECT_ERR("dupfd_too_big", fcntl(fd, F_DUPFD, 1 << 30), EINVAL);
    EXPECT_ERR("bad_cmd", fcntl(fd, 0x7fff), EINVAL);
    close(fd);

    rm_rf(dir);
    return finish();
}
