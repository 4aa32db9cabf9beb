// chmod/fchmod/fchmodat: permission and special bits visible in stat,
// symlink following, and errors.
#include "common.h"

static unsigned mode_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (unsigned)(st.st_mode & 07777) : 0xffff;
}

int main(void)
{
    const char *dir = scratch_dir("chmod");
    char base[256];
    snprintf(base, sizeof base, "%s", dir);
    DEF_PATH(f, base, "f");
    write_file(f, "x", 1);

    EXPECT_OK("chmod_600", chmod(f, 0600));
    EXPECT_MODE("mode_600", mode_of(f), 0600);
    EXPECT_OK("chmod_0", chmod(f, 0));
    EXPECT_MODE("mode_0", mode_of(f), 0);
    EXPECT_OK("chmod_4755", chmod(f, 04755));
    EXPECT_MODE("mode_4755", mode_of(f), 04755);
    EXPECT_OK("chmod_1777", chmod(f, 01777));
    EXPECT_MODE("mode_1777", mode_of(f), 01777);
    /* Only the 07777 bits are used; the file type is unchanged. */
    EXPECT_OK("chmod_extra_bits", syscall(SYS_chmod, f, 0170644));
    struct stat st;
    stat(f, &st);
    EXPECT_MODE("mode_after_extra_bits", st.st_mode & 07777, 0644);
    CHECK("still_regular", S_ISREG(st.st_mode));

    int fd = open(f, O_RDONLY);
    EXPECT_OK("fchmod", fchmod(fd, 0640));
    EXPECT_MODE("fchmod_mode", mode_of(f), 0640);
    /* chmod of a file with an open fd is visible through fstat. */
    chmod(f, 0604);
    fstat(fd, &st);
    EXPECT_MODE("fstat_sees_chmod", st.st_mode & 07777, 0604);
    close(fd);

    /* fchmodat relative to a directory fd; follows symlinks. */
    int dfd = open(base, O_RDONLY | O_DIRECTORY);
    EXPECT_OK("fchmodat", fchmodat(dfd, "f", 0444, 0));
    EXPECT_MODE("fchmodat_mode", mode_of(f), 0444);
    REQUIRE(symlink("f", path_in(base, "l")) == 0);
    EXPECT_OK("chmod_via_symlink", chmod(path_in(base, "l"), 0700));
    EXPECT_MODE("target_mode_via_link", mode_of(f), 0700);
    struct stat lst;
    lstat(path_in(base, "l"), &lst);
    EXPECT_MODE("link_mode_unchanged", lst.st_mode & 07777, 0777);

    /* Directories. */
    REQUIRE(mkdir(path_in(base, "d"), 0755) == 0);
    EXPECT_OK("chmod_dir", chmod(path_in(base, "d"), 0711));
    EXPECT_MODE("dir_mode", mode_of(path_in(base, "d")), 0711);
    /* An O_PATH descriptor cannot be used with fchmod (raw: musl falls back
     * to chmod through /proc/self/fd). */
    int pfd = open(f, O_PATH);
    EXPECT_ERR("fchmod_opath", syscall(SYS_fchmod, pfd, 0600), EBADF);
    close(pfd);

    /* Errors. */
    EXPECT_ERR("chmod_missing", chmod(path_in(base, "none"), 0644), ENOENT);
    EXPECT_ERR("chmod_through_file", chmod(path_in(base, "f/x"), 0644), ENOTDIR);
    EXPECT_ERR("fchmod_badfd", fchmod(-1, 0644), EBADF);
    EXPECT_ERR("fchmodat_bad_dirfd", syscall(SYS_fchmodat, -1, "f", 0644), EBADF);
    EXPECT_ERR("chmod_efault", syscall(SYS_chmod, LOW_PTR, 0644), EFAULT);
    close(dfd);

    rm_rf(base);
    return finish();
}
