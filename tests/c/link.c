// link/linkat: hard links share the inode (st_nlink counts), survive
// unlinking the original, AT_SYMLINK_FOLLOW, and errors.
#include "common.h"

static long nlink_of(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) return -1;
    return (long)st.st_nlink;
}

int main(void)
{
    const char *dir = scratch_dir("link");
    char base[256];
    snprintf(base, sizeof base, "%s", dir);
    write_file(path_in(base, "orig"), "shared", 6);
    EXPECT_EQ("nlink_initial", nlink_of(path_in(base, "orig")), 1);

    EXPECT_OK("link", link(path_in(base, "orig"), path_in(base, "h1")));
    EXPECT_EQ("nlink_after_link", nlink_of(path_in(base, "orig")), 2);
    EXPECT_EQ("nlink_of_new_name", nlink_of(path_in(base, "h1")), 2);
    struct stat a, b;
    stat(path_in(base, "orig"), &a);
    stat(path_in(base, "h1"), &b);
    CHECK("same_inode", a.st_ino == b.st_ino && a.st_dev == b.st_dev);

    int dfd = open(base, O_RDONLY | O_DIRECTORY);
    EXPECT_OK("linkat", linkat(dfd, "orig", dfd, "h2", 0));
    EXPECT_EQ("nlink_3", nlink_of(path_in(base, "orig")), 3);
    EXPECT_OK("sys_link", syscall(SYS_link, path_in(base, "orig"), path_in(base, "h3")));
    EXPECT_EQ("nlink_4", nlink_of(path_in(base, "orig")), 4);

    /* Writes through one name are visible through the others. */
    int fd = open(path_in(base, "h2"), O_WRONLY);
    pwrite(fd, "S", 1, 0);
    close(fd);
    char buf[16];
    read_file(path_in(base, "h1"), buf, sizeof buf);
    EXPECT_STR("write_visible", buf, "Shared");

    /* Removing names decrements the count; data survives. */
    EXPECT_OK("unlink_orig", unlink(path_in(base, "orig")));
    EXPECT_EQ("nlink_after_unlink", nlink_of(path_in(base, "h1")), 3);
    read_file(path_in(base, "h3"), buf, sizeof buf);
    EXPECT_STR("data_survives", buf, "Shared");
    fd = open(path_in(base, "h1"), O_RDONLY);
    unlink(path_in(base, "h2"));
    unlink(path_in(base, "h3"));
    fstat(fd, &a);
    EXPECT_EQ("nlink_last_name", a.st_nlink, 1);
    close(fd);

    /* Links to symlinks: linkat without flags links the symlink itself;
     * AT_SYMLINK_FOLLOW links the target. */
    REQUIRE(symlink("h1", path_in(base, "sym")) == 0);
    EXPECT_OK("linkat_nofollow", linkat(dfd, "sym", dfd, "sym_hard", 0));
    lstat(path_in(base, "sym_hard"), &a);
    CHECK("nofollow_is_symlink", S_ISLNK(a.st_mode));
    EXPECT_EQ("symlink_nlink", nlink_of(path_in(base, "sym")), 2);
    EXPECT_OK("linkat_follow", linkat(dfd, "sym", dfd, "followed", AT_SYMLINK_FOLLOW));
    lstat(path_in(base, "followed"), &a);
    CHECK("follow_is_regular", S_ISREG(a.st_mode));
    EXPECT_EQ("target_nlink", nlink_of(path_in(base, "h1")), 2);

    /* Errors. */
    REQUIRE(mkdir(path_in(base, "d"), 0755) == 0);
    EXPECT_ERR("link_dir", link(path_in(base, "d"), path_in(base, "dlink")), EPERM);
    EXPECT_ERR("link_exists", link(path_in(base, "h1"), path_in(base, "followed")), EEXIST);
    EXPECT_ERR("link_missing", link(path_in(base, "none"), path_in(base, "x")), ENOENT);
    EXPECT_ERR("link_missing_dir", link(path_in(base, "h1"), path_in(base, "no/x")), ENOENT);
    EXPECT_ERR("linkat_bad_flags", linkat(dfd, "h1", dfd, "x", 0x1), EINVAL);
    EXPECT_ERR("linkat_bad_dirfd", linkat(-1, "h1", dfd, "x", 0), EBADF);
    EXPECT_ERR("link_efault", syscall(SYS_link, LOW_PTR, path_in(base, "x")), EFAULT);
    close(dfd);

    rm_rf(base);
    return finish();
}
