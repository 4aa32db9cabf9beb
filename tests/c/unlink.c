// unlink/unlinkat: removing files and symlinks, AT_REMOVEDIR, open files
// surviving their name, and errors.
#include "common.h"

int main(void)
{
    const char *dir = scratch_dir("unlink");
    char base[256];
    snprintf(base, sizeof base, "%s", dir);
    struct stat st;

    write_file(path_in(base, "f"), "hello", 5);
    EXPECT_OK("unlink", unlink(path_in(base, "f")));
    EXPECT_ERR("gone", stat(path_in(base, "f"), &st), ENOENT);
    EXPECT_ERR("unlink_again", unlink(path_in(base, "f")), ENOENT);

    /* An open file stays usable after its last name is removed. */
    write_file(path_in(base, "open"), "still here", 10);
    int fd = open(path_in(base, "open"), O_RDWR);
    EXPECT_OK("unlink_open", unlink(path_in(base, "open")));
    EXPECT_OK("fstat_unlinked", fstat(fd, &st));
    EXPECT_EQ("unlinked_nlink", st.st_nlink, 0);
    EXPECT_EQ("unlinked_size", st.st_size, 10);
    char buf[32] = {0};
    EXPECT_EQ("read_unlinked", pread(fd, buf, sizeof buf, 0), 10);
    EXPECT_STR("read_unlinked_data", buf, "still here");
    EXPECT_EQ("write_unlinked", pwrite(fd, "!", 1, 10), 1);
    fstat(fd, &st);
    EXPECT_EQ("unlinked_size_after_write", st.st_size, 11);
    close(fd);
    /* Recreating the name gives a new, empty file. */
    fd = open(path_in(base, "open"), O_RDWR | O_CREAT, 0644);
    fstat(fd, &st);
    EXPECT_EQ("recreated_size", st.st_size, 0);
    close(fd);

    /* Unlinking a symlink removes the link, not the target. */
    write_file(path_in(base, "target"), "t", 1);
    REQUIRE(symlink("target", path_in(base, "sl")) == 0);
    EXPECT_OK("unlink_symlink", unlink(path_in(base, "sl")));
    EXPECT_OK("target_survives", stat(path_in(base, "target"), &st));
    REQUIRE(symlink("nowhere", path_in(base, "dangling")) == 0);
    EXPECT_OK("unlink_dangling", unlink(path_in(base, "dangling")));

    /* unlinkat. */
    int dfd = open(base, O_RDONLY | O_DIRECTORY);
    write_file(path_in(base, "g"), "", 0);
    EXPECT_OK("unlinkat_file", unlinkat(dfd, "g", 0));
    REQUIRE(mkdir(path_in(base, "sub"), 0755) == 0);
    EXPECT_ERR("unlinkat_dir_no_flag", unlinkat(dfd, "sub", 0), EISDIR);
    EXPECT_ERR("unlink_dir", unlink(path_in(base, "sub")), EISDIR);
    write_file(path_in(base, "sub/inner"), "", 0);
    EXPECT_ERR("unlinkat_removedir_nonempty", unlinkat(dfd, "sub", AT_REMOVEDIR), ENOTEMPTY);
    EXPECT_ERR("unlinkat_removedir_file", unlinkat(dfd, "target", AT_REMOVEDIR), ENOTDIR);
    EXPECT_OK("unlinkat_inner", unlinkat(dfd, "sub/inner", 0));
    EXPECT_OK("unlinkat_removedir", unlinkat(dfd, "sub", AT_REMOVEDIR));
    EXPECT_ERR("unlinkat_bad_flags", unlinkat(dfd, "target", 0x1), EINVAL);
    EXPECT_ERR("unlinkat_bad_dirfd", unlinkat(-9, "target", 0), EBADF);
    EXPECT_OK("sys_unlink", syscall(SYS_unlink, path_in(base, "target")));

    /* Errors. */
    EXPECT_ERR("unlink_missing_parent", unlink(path_in(base, "no/x")), ENOENT);
    write_file(path_in(base, "file"), "", 0);
    EXPECT_ERR("unlink_through_file", unlink(path_in(base, "file/x")), ENOTDIR);
    EXPECT_ERR("unlink_trailing_slash", unlink(path_in(base, "file/")), ENOTDIR);
    EXPECT_ERR("unlink_empty", unlink(""), ENOENT);
    EXPECT_ERR("unlink_efault", syscall(SYS_unlink, LOW_PTR), EFAULT);

    /* Only "file" and "open" remain. */
    EXPECT_OK("unlink_file", unlinkat(dfd, "file", 0));
    EXPECT_OK("unlink_open_name", unlinkat(dfd, "open", 0));
    close(dfd);
    EXPECT_OK("rmdir_now_empty", rmdir(base));
    return finish();
}
