// access/faccessat/faccessat2 (raw syscalls): existence, execute bits,
// AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH, AT_EACCESS and errors. Only checks whose
// result does not depend on being root are made.
#include "common.h"

static long faccessat2_raw(int dfd, const char *path, int mode, int flags)
{
    return syscall(SYS_faccessat2, dfd, path, mode, flags);
}

int main(void)
{
    const char *dir = scratch_dir("access");
    DEF_PATH(f, dir, "plain");
    DEF_PATH(x, dir, "exec");
    write_file(f, "data", 4);
    write_file(x, "#!/bin/sh\n", 10);
    REQUIRE(chmod(f, 0644) == 0);
    REQUIRE(chmod(x, 0755) == 0);
    REQUIRE(symlink("missing-target", path_in(dir, "dangling")) == 0);
    REQUIRE(symlink("exec", path_in(dir, "tolink")) == 0);

    EXPECT_OK("access_f_ok", access(f, F_OK));
    EXPECT_OK("access_r_ok", access(f, R_OK));
    EXPECT_OK("access_rw_ok", access(f, R_OK | W_OK));
    EXPECT_ERR("access_x_on_0644", access(f, X_OK), EACCES);
    EXPECT_OK("access_x_on_0755", access(x, X_OK));
    EXPECT_OK("access_dir_x", access(dir, X_OK));
    EXPECT_OK("access_dir_rwx", access(dir, R_OK | W_OK | X_OK));
    EXPECT_OK("access_through_link", access(path_in(dir, "tolink"), X_OK));
    EXPECT_ERR("access_missing", access(path_in(dir, "nope"), F_OK), ENOENT);
    EXPECT_ERR("access_dangling", access(path_in(dir, "dangling"), F_OK), ENOENT);
    EXPECT_ERR("access_through_file", access(path_in(dir, "plain/x"), F_OK), ENOTDIR);
    EXPECT_ERR("access_bad_mode", syscall(SYS_access, f, 8), EINVAL);
    EXPECT_ERR("access_efault", syscall(SYS_access, LOW_PTR, F_OK), EFAULT);

    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    EXPECT_OK("faccessat_rel", syscall(SYS_faccessat, dfd, "exec", X_OK));
    EXPECT_ERR("faccessat_rel_x", syscall(SYS_faccessat, dfd, "plain", X_OK), EACCES);
    EXPECT_ERR("faccessat_bad_dirfd", syscall(SYS_faccessat, -4, "plain", F_OK), EBADF);

    EXPECT_OK("faccessat2_plain", faccessat2_raw(dfd, "plain", R_OK, 0));
    EXPECT_OK("faccessat2_eaccess", faccessat2_raw(dfd, "exec", X_OK, AT_EACCESS));
    EXPECT_ERR("faccessat2_follow_dangling", faccessat2_raw(dfd, "dangling", F_OK, 0), ENOENT);
    EXPECT_OK("faccessat2_nofollow_dangling", faccessat2_raw(dfd, "dangling", F_OK, AT_SYMLINK_NOFOLLOW));
    int fd = open(x, O_RDONLY);
    EXPECT_OK("faccessat2_empty_path", faccessat2_raw(fd, "", X_OK, AT_EMPTY_PATH));
    EXPECT_ERR("faccessat2_empty_no_flag", faccessat2_raw(fd, "", F_OK, 0), ENOENT);
    EXPECT_ERR("faccessat2_bad_flags", faccessat2_raw(dfd, "plain", F_OK, 0x4000000), EINVAL);
    EXPECT_ERR("faccessat2_bad_mode", faccessat2_raw(dfd, "plain", 0x10, 0), EINVAL);
    close(fd);
    close(dfd);

    /* libc wrappers agree. */
    EXPECT_OK("libc_faccessat", faccessat(AT_FDCWD, x, X_OK, 0));
    EXPECT_ERR("libc_faccessat_x", faccessat(AT_FDCWD, f, X_OK, 0), EACCES);

    rm_rf(dir);
    return finish();
}
