// ioctl on regular files and /dev/null: terminal ioctls fail with ENOTTY,
// generic file ioctls (FIONREAD, FIOCLEX, FIONCLEX, FIONBIO) work.
#include "common.h"
#include <sys/ioctl.h>

int main(void)
{
    const char *dir = scratch_dir("ioctl");
    DEF_PATH(f, dir, "f");
    write_file(f, "0123456789", 10);
    int fd = open(f, O_RDWR);
    REQUIRE(fd >= 0);
    char tbuf[256];

    EXPECT_ERR("tcgets_file", ioctl(fd, TCGETS, tbuf), ENOTTY);
    EXPECT_ERR("tiocgwinsz_file", ioctl(fd, TIOCGWINSZ, tbuf), ENOTTY);
    EXPECT_ERR("tiocgpgrp_file", ioctl(fd, TIOCGPGRP, tbuf), ENOTTY);
    EXPECT_ERR("unknown_file", ioctl(fd, 0x12345678, tbuf), ENOTTY);
    errno = 0;
    EXPECT_EQ("isatty_file", isatty(fd), 0);
    printf("isatty_errno: %s\n", errname(errno));

    int n = open("/dev/null", O_RDWR);
    EXPECT_ERR("tcgets_devnull", ioctl(n, TCGETS, tbuf), ENOTTY);
    EXPECT_EQ("isatty_devnull", isatty(n), 0);
    close(n);

    /* FIONREAD on a regular file: bytes between the offset and EOF. */
    int avail = -1;
    EXPECT_OK("fionread", ioctl(fd, FIONREAD, &avail));
    EXPECT_EQ("fionread_at_0", avail, 10);
    lseek(fd, 4, SEEK_SET);
    ioctl(fd, FIONREAD, &avail);
    EXPECT_EQ("fionread_at_4", avail, 6);

    /* FIOCLEX / FIONCLEX toggle close-on-exec. */
    EXPECT_OK("fioclex", ioctl(fd, FIOCLEX));
    EXPECT_EQ("cloexec_set", fcntl(fd, F_GETFD), FD_CLOEXEC);
    EXPECT_OK("fionclex", ioctl(fd, FIONCLEX));
    EXPECT_EQ("cloexec_cleared", fcntl(fd, F_GETFD), 0);

    /* FIONBIO toggles O_NONBLOCK. */
    int on = 1;
    EXPECT_OK("fionbio_on", ioctl(fd, FIONBIO, &on));
    EXPECT_EQ("nonblock_set", !!(fcntl(fd, F_GETFL) & O_NONBLOCK), 1);
    on = 0;
    EXPECT_OK("fionbio_off", ioctl(fd, FIONBIO, &on));
    EXPECT_EQ("nonblock_cleared", !!(fcntl(fd, F_GETFL) & O_NONBLOCK), 0);

    /* Errors. */
    EXPECT_ERR("badfd", ioctl(-1, FIONREAD, &avail), EBADF);
    EXPECT_ERR("fionread_efault", ioctl(fd, FIONREAD, BAD_PTR), EFAULT);
    close(fd);

    rm_rf(dir);
    return finish();
}
