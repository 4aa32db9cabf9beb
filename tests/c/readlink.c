// readlink/readlinkat: contents, truncation, no NUL terminator, errors.
#include "common.h"

int main(void)
{
    const char *dir = scratch_dir("readlink");
    write_file(path_in(dir, "target"), "x", 1);
    REQUIRE(symlink("target", path_in(dir, "rel")) == 0);
    REQUIRE(symlink("/some/absolute/path", path_in(dir, "abs")) == 0);
    REQUIRE(symlink("dangling-target", path_in(dir, "dangling")) == 0);
    REQUIRE(symlink("rel", path_in(dir, "chain")) == 0);

    char buf[64];
    memset(buf, 'X', sizeof buf);
    ssize_t n = readlink(path_in(dir, "rel"), buf, sizeof buf);
    EXPECT_EQ("rel_len", n, 6);
    printf("rel: %.*s\n", (int)n, buf);
    CHECK("no_nul_terminator", buf[6] == 'X');

    n = readlink(path_in(dir, "abs"), buf, sizeof buf);
    EXPECT_EQ("abs_len", n, 19);
    printf("abs: %.*s\n", (int)n, buf);
    n = readlink(path_in(dir, "dangling"), buf, sizeof buf);
    printf("dangling: %.*s\n", (int)(n > 0 ? n : 0), buf);
    /* readlink reads only the last link, not the chain. */
    n = readlink(path_in(dir, "chain"), buf, sizeof buf);
    printf("chain: %.*s\n", (int)(n > 0 ? n : 0), buf);

    /* Truncation: returns the buffer size, no error. */
    memset(buf, 'X', sizeof buf);
    n = readlink(path_in(dir, "abs"), buf, 5);
    EXPECT_EQ("truncated_len", n, 5);
    printf("truncated: %.*s\n", (int)n, buf);
    CHECK("truncated_untouched_after", buf[5] == 'X');

    /* readlinkat relative to a directory fd. */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    n = readlinkat(dfd, "rel", buf, sizeof buf);
    EXPECT_EQ("readlinkat_len", n, 6);
    printf("readlinkat: %.*s\n", (int)n, buf);
    /* Empty path on an O_PATH|O_NOFOLLOW fd of the link itself. */
    int lfd = open(path_in(dir, "rel"), O_PATH | O_NOFOLLOW);
    n = readlinkat(lfd, "", buf, sizeof buf);
    EXPECT_EQ("readlinkat_empty_path", n, 6);
    close(lfd);

    /* Errors. */
    EXPECT_ERR("not_a_link", readlink(path_in(dir, "target"), buf, sizeof buf), EINVAL);
    EXPECT_ERR("dir_not_a_link", readlink(dir, buf, sizeof buf), EINVAL);
    EXPECT_ERR("missing", readlink(path_in(dir, "nope"), buf, sizeof buf), ENOENT);
    EXPECT_ERR("zero_bufsize", syscall(SYS_readlink, path_in(dir, "rel"), buf, 0), EINVAL);
    EXPECT_ERR("negative_bufsize", syscall(SYS_readlink, path_in(dir, "rel"), buf, -1), EINVAL);
    EXPECT_ERR("efault_buf", syscall(SYS_readlink, path_in(dir, "rel"), BAD_PTR, 64), EFAULT);
    EXPECT_ERR("efault_path", syscall(SYS_readlink, LOW_PTR, buf, 64), EFAULT);
    EXPECT_ERR("readlinkat_bad_dirfd", readlinkat(-3, "rel", buf, sizeof buf), EBADF);
    EXPECT_ERR("through_file", readlink(path_in(dir, "target/x"), buf, sizeof buf), ENOTDIR);
    close(dfd);

    rm_rf(dir);
    return finish();
}
