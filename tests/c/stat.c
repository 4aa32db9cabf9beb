// stat/fstat/lstat/newfstatat: file types, sizes, modes, link counts,
// AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW, and errors.
#include "common.h"
#include <time.h>

static int same_file(const struct stat *a, const struct stat *b)
{
    return a->st_ino == b->st_ino && a->st_dev == b->st_dev;
}

static long fstatat_raw(int dfd, const char *path, struct stat *st, int flags)
{
    return syscall(SYS_newfstatat, dfd, path, st, flags);
}

int main(void)
{
    umask(022);
    const char *dir = scratch_dir("stat");
    DEF_PATH(f, dir, "file");
    DEF_PATH(l, dir, "link");
    write_file(f, "0123456789abcdef", 16);
    REQUIRE(symlink("file", l) == 0);
    REQUIRE(mkdir(path_in(dir, "sub"), 0750) == 0);

    struct stat st, st2;
    EXPECT_OK("stat_file", stat(f, &st));
    CHECK("file_is_reg", S_ISREG(st.st_mode));
    EXPECT_EQ("file_size", st.st_size, 16);
    EXPECT_MODE("file_mode", st.st_mode & 07777, 0644);
    EXPECT_EQ("file_nlink", st.st_nlink, 1);
    CHECK("file_uid_is_mine", st.st_uid == geteuid());
    CHECK("file_gid_is_mine", st.st_gid == getegid());
    CHECK("blksize_positive", st.st_blksize > 0);
    CHECK("ino_nonzero", st.st_ino != 0);
    time_t now = time(NULL);
    CHECK("mtime_recent", st.st_mtime <= now + 2 && st.st_mtime >= now - 60);
    CHECK("ctime_recent", st.st_ctime <= now + 2 && st.st_ctime >= now - 60);

    int fd = open(f, O_RDONLY);
    EXPECT_OK("fstat", fstat(fd, &st2));
    CHECK("fstat_same_file", same_file(&st, &st2));
    EXPECT_EQ("fstat_size", st2.st_size, 16);

    /* Symlinks: stat follows, lstat does not. */
    EXPECT_OK("stat_link", stat(l, &st2));
    CHECK("stat_link_follows", S_ISREG(st2.st_mode) && same_file(&st, &st2));
    EXPECT_OK("lstat_link", lstat(l, &st2));
    CHECK("lstat_is_link", S_ISLNK(st2.st_mode));
    EXPECT_EQ("lstat_link_size", st2.st_size, 4);
    CHECK("lstat_link_other_inode", !same_file(&st, &st2));
    EXPECT_OK("lstat_file", lstat(f, &st2));
    CHECK("lstat_file_is_reg", S_ISREG(st2.st_mode));

    /* Directories and devices. */
    EXPECT_OK("stat_dir", stat(path_in(dir, "sub"), &st2));
    CHECK("dir_is_dir", S_ISDIR(st2.st_mode));
    EXPECT_MODE("dir_mode", st2.st_mode & 07777, 0750);
    EXPECT_OK("stat_devnull", stat("/dev/null", &st2));
    CHECK("devnull_is_chr", S_ISCHR(st2.st_mode));
    EXPECT_OK("stat_root", stat("/", &st2));
    CHECK("root_is_dir", S_ISDIR(st2.st_mode));

    /* newfstatat (raw syscall). */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    EXPECT_OK("fstatat_rel", fstatat_raw(dfd, "file", &st2, 0));
    CHECK("fstatat_rel_same", same_file(&st, &st2));
    EXPECT_OK("fstatat_cwd", fstatat_raw(AT_FDCWD, f, &st2, 0));
    CHECK("fstatat_cwd_same", same_file(&st, &st2));
    EXPECT_OK("fstatat_follow", fstatat_raw(dfd, "link", &st2, 0));
    CHECK("fstatat_follow_reg", S_ISREG(st2.st_mode));
    EXPECT_OK("fstatat_nofollow", fstatat_raw(dfd, "link", &st2, AT_SYMLINK_NOFOLLOW));
    CHECK("fstatat_nofollow_lnk", S_ISLNK(st2.st_mode));
    EXPECT_OK("fstatat_empty_path", fstatat_raw(fd, "", &st2, AT_EMPTY_PATH));
    CHECK("fstatat_empty_path_same", same_file(&st, &st2));
    EXPECT_OK("fstatat_empty_path_dir", fstatat_raw(dfd, "", &st2, AT_EMPTY_PATH));
    CHECK("fstatat_empty_path_dir_is_dir", S_ISDIR(st2.st_mode));
    int pfd = open(l, O_PATH | O_NOFOLLOW);
    CHECK("open_opath_nofollow", pfd >= 0);
    EXPECT_OK("fstatat_empty_path_opath_link", fstatat_raw(pfd, "", &st2, AT_EMPTY_PATH));
    CHECK("opath_link_is_lnk", S_ISLNK(st2.st_mode));
    close(pfd);
    EXPECT_ERR("fstatat_empty_no_flag", fstatat_raw(fd, "", &st2, 0), ENOENT);
    EXPECT_ERR("fstatat_bad_flags", fstatat_raw(dfd, "file", &st2, 0x40000000), EINVAL);
    EXPECT_ERR("fstatat_bad_dirfd", fstatat_raw(-5, "file", &st2, 0), EBADF);
    EXPECT_ERR("fstatat_file_dirfd", fstatat_raw(fd, "x", &st2, 0), ENOTDIR);

    /* Errors. */
    EXPECT_ERR("stat_missing", stat(path_in(dir, "missing"), &st2), ENOENT);
    EXPECT_ERR("stat_through_file", stat(path_in(dir, "file/x"), &st2), ENOTDIR);
    EXPECT_ERR("stat_trailing_slash_file", stat(path_in(dir, "file/"), &st2), ENOTDIR);
    EXPECT_ERR("fstat_badfd", fstat(-1, &st2), EBADF);
    EXPECT_ERR("stat_efault_path", syscall(SYS_stat, LOW_PTR, &st2), EFAULT);
    EXPECT_ERR("stat_efault_buf", syscall(SYS_stat, f, LOW_PTR), EFAULT);
    EXPECT_ERR("fstat_efault_buf", syscall(SYS_fstat, fd, BAD_PTR), EFAULT);
    char longname[300];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    EXPECT_ERR("stat_name_too_long", fstatat_raw(dfd, longname, &st2, 0), ENAMETOOLONG);

    close(fd);
    close(dfd);
    rm_rf(dir);
    return finish();
}
