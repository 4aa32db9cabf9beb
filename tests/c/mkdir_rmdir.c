// mkdir/mkdirat/rmdir: creation with modes, nesting, and errors
// (EEXIST, ENOENT, ENOTDIR, ENOTEMPTY, EINVAL, EFAULT).
#include "common.h"

int main(void)
{
    umask(022);
    const char *dir = scratch_dir("mkdir_rmdir");
    char base[256];
    snprintf(base, sizeof base, "%s", dir);
    struct stat st;

    EXPECT_OK("mkdir", mkdir(path_in(base, "d"), 0755));
    EXPECT_OK("stat_new", stat(path_in(base, "d"), &st));
    CHECK("is_dir", S_ISDIR(st.st_mode));
    EXPECT_MODE("mode_755", st.st_mode & 07777, 0755);
    EXPECT_OK("mkdir_mode_700", mkdir(path_in(base, "p"), 0700));
    stat(path_in(base, "p"), &st);
    EXPECT_MODE("mode_700", st.st_mode & 07777, 0700);
    EXPECT_OK("mkdir_umask_applies", mkdir(path_in(base, "u"), 0777));
    stat(path_in(base, "u"), &st);
    EXPECT_MODE("mode_777_umask_022", st.st_mode & 07777, 0755);
    EXPECT_OK("mkdir_trailing_slash", mkdir(path_in(base, "t/"), 0755));

    int dfd = open(base, O_RDONLY | O_DIRECTORY);
    EXPECT_OK("mkdirat", mkdirat(dfd, "d/sub", 0755));
    EXPECT_OK("mkdirat_nested", mkdirat(dfd, "d/sub/deeper", 0755));
    EXPECT_OK("stat_nested", fstatat(dfd, "d/sub/deeper", &st, 0));
    CHECK("nested_is_dir", S_ISDIR(st.st_mode));
    EXPECT_OK("sys_mkdir", syscall(SYS_mkdir, path_in(base, "raw"), 0755));

    /* Errors. */
    EXPECT_ERR("mkdir_exists", mkdir(path_in(base, "d"), 0755), EEXIST);
    write_file(path_in(base, "file"), "x", 1);
    EXPECT_ERR("mkdir_over_file", mkdir(path_in(base, "file"), 0755), EEXIST);
    EXPECT_ERR("mkdir_missing_parent", mkdir(path_in(base, "no/such"), 0755), ENOENT);
    EXPECT_ERR("mkdir_parent_is_file", mkdir(path_in(base, "file/x"), 0755), ENOTDIR);
    EXPECT_ERR("mkdir_empty", mkdir("", 0755), ENOENT);
    EXPECT_ERR("mkdirat_bad_dirfd", mkdirat(-2, "x", 0755), EBADF);
    EXPECT_ERR("mkdir_efault", syscall(SYS_mkdir, LOW_PTR, 0755), EFAULT);
    REQUIRE(symlink("d", path_in(base, "link")) == 0);
    EXPECT_ERR("mkdir_over_symlink", mkdir(path_in(base, "link"), 0755), EEXIST);

    EXPECT_ERR("rmdir_not_empty", rmdir(path_in(base, "d")), ENOTEMPTY);
    EXPECT_ERR("rmdir_file", rmdir(path_in(base, "file")), ENOTDIR);
    EXPECT_ERR("rmdir_symlink", rmdir(path_in(base, "link")), ENOTDIR);
    EXPECT_ERR("rmdir_missing", rmdir(path_in(base, "nothing")), ENOENT);
    EXPECT_ERR("rmdir_dot", rmdir(path_in(base, "d/.")), EINVAL);
    EXPECT_ERR("rmdir_dotdot", rmdir(path_in(base, "d/sub/..")), ENOTEMPTY);

    /* Removal, deepest first. */
    EXPECT_OK("rmdir_deeper", rmdir(path_in(base, "d/sub/deeper")));
    EXPECT_OK("rmdir_sub", unlinkat(dfd, "d/sub", AT_REMOVEDIR));
    EXPECT_OK("rmdir_d", rmdir(path_in(base, "d")));
    EXPECT_ERR("stat_removed", stat(path_in(base, "d"), &st), ENOENT);
    EXPECT_OK("rmdir_trailing_slash", rmdir(path_in(base, "t/")));
    EXPECT_OK("sys_rmdir", syscall(SYS_rmdir, path_in(base, "raw")));
    EXPECT_OK("mkdir_again", mkdir(path_in(base, "d"), 0755));
    close(dfd);

    rm_rf(base);
    return finish();
}
