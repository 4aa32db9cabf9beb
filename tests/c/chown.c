// chown/fchown/lchown/fchownat to the caller's own uid/gid: success,
// ownership visible in stat, set-user-ID bit cleared, and errors.
#include "common.h"

int main(void)
{
    const char *dir = scratch_dir("chown");
    char base[256];
    snprintf(base, sizeof base, "%s", dir);
    DEF_PATH(f, base, "f");
    write_file(f, "x", 1);
    uid_t uid = geteuid();
    gid_t gid = getegid();
    struct stat st;

    EXPECT_OK("chown_self", chown(f, uid, gid));
    stat(f, &st);
    CHECK("owner_is_me", st.st_uid == uid && st.st_gid == gid);
    EXPECT_OK("chown_noop", chown(f, (uid_t)-1, (gid_t)-1));
    EXPECT_OK("chown_uid_only", chown(f, uid, (gid_t)-1));
    EXPECT_OK("chown_gid_only", chown(f, (uid_t)-1, gid));
    int fd = open(f, O_RDONLY);
    EXPECT_OK("fchown", fchown(fd, uid, gid));
    close(fd);

    /* lchown and AT_SYMLINK_NOFOLLOW act on the link itself. */
    REQUIRE(symlink("f", path_in(base, "l")) == 0);
    EXPECT_OK("lchown", lchown(path_in(base, "l"), uid, gid));
    lstat(path_in(base, "l"), &st);
    CHECK("link_owner_is_me", st.st_uid == uid && st.st_gid == gid);
    int dfd = open(base, O_RDONLY | O_DIRECTORY);
    EXPECT_OK("fchownat", fchownat(dfd, "f", uid, gid, 0));
    EXPECT_OK("fchownat_nofollow", fchownat(dfd, "l", uid, gid, AT_SYMLINK_NOFOLLOW));
    fd = open(f, O_RDONLY);
    EXPECT_OK("fchownat_empty_path", fchownat(fd, "", uid, gid, AT_EMPTY_PATH));
    close(fd);
    EXPECT_OK("sys_chown", syscall(SYS_chown, f, uid, gid));
    EXPECT_OK("sys_lchown", syscall(SYS_lchown, path_in(base, "l"), uid, gid));

    /* Changing ownership clears set-user-ID on an executable file. */
    REQUIRE(chmod(f, 04755) == 0);
    EXPECT_OK("chown_suid_file", chown(f, uid, gid));
    stat(f, &st);
    EXPECT_MODE("suid_cleared", st.st_mode & 07777, 0755);
    /* Directories keep their mode. */
    REQUIRE(mkdir(path_in(base, "d"), 0755) == 0);
    REQUIRE(chmod(path_in(base, "d"), 01755) == 0);
    EXPECT_OK("chown_dir", chown(path_in(base, "d"), uid, gid));
    stat(path_in(base, "d"), &st);
    EXPECT_MODE("dir_mode_kept", st.st_mode & 07777, 01755);

    /* Errors. */
    EXPECT_ERR("chown_missing", chown(path_in(base, "none"), uid, gid), ENOENT);
    EXPECT_ERR("fchown_badfd", fchown(-1, uid, gid), EBADF);
    EXPECT_ERR("fchownat_bad_flags", fchownat(dfd, "f", uid, gid, 0x1), EINVAL);
    EXPECT_ERR("fchownat_empty_no_flag", fchownat(dfd, "", uid, gid, 0), ENOENT);
    EXPECT_ERR("chown_efault", syscall(SYS_chown, LOW_PTR, uid, gid), EFAULT);
    close(dfd);

    rm_rf(base);
    return finish();
}
