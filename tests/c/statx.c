// statx (raw syscall, own copy of the kernel ABI struct): masks, types,
// sizes, modes, AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW, errors.
#include "common.h"

struct vt_statx_timestamp {
    int64_t tv_sec;
    uint32_t tv_nsec;
    int32_t reserved;
};

struct vt_statx {
    uint32_t stx_mask;
    uint32_t stx_blksize;
    uint64_t stx_attributes;
    uint32_t stx_nlink;
    uint32_t stx_uid;
    uint32_t stx_gid;
    uint16_t stx_mode;
    uint16_t spare0;
    uint64_t stx_ino;
    uint64_t stx_size;
    uint64_t stx_blocks;
    uint64_t stx_attributes_mask;
    struct vt_statx_timestamp stx_atime, stx_btime, stx_ctime, stx_mtime;
    uint32_t stx_rdev_major, stx_rdev_minor;
    uint32_t stx_dev_major, stx_dev_minor;
    uint64_t spare2[14];
};

#define VT_STATX_TYPE 0x001U
#define VT_STATX_MODE 0x002U
#define VT_STATX_NLINK 0x004U
#define VT_STATX_UID 0x008U
#define VT_STATX_GID 0x010U
#define VT_STATX_MTIME 0x040U
#define VT_STATX_INO 0x100U
#define VT_STATX_SIZE 0x200U
#define VT_STATX_BASIC_STATS 0x7ffU
#define VT_STATX_RESERVED 0x80000000U

static long vstatx(int dfd, const char *path, int flags, unsigned mask, struct vt_statx *sx)
{
    memset(sx, 0xee, sizeof *sx);
    return syscall(SYS_statx, dfd, path, flags, mask, sx);
}

int main(void)
{
    umask(022);
    const char *dir = scratch_dir("statx");
    DEF_PATH(f, dir, "file");
    write_file(f, "twelve bytes", 12);
    REQUIRE(symlink("file", path_in(dir, "link")) == 0);
    REQUIRE(chmod(f, 0640) == 0);

    struct vt_statx sx;
    struct stat st;
    REQUIRE(stat(f, &st) == 0);

    EXPECT_OK("statx_file", vstatx(AT_FDCWD, f, 0, VT_STATX_BASIC_STATS, &sx));
    unsigned want = VT_STATX_TYPE | VT_STATX_MODE | VT_STATX_NLINK | VT_STATX_UID |
                    VT_STATX_GID | VT_STATX_INO | VT_STATX_SIZE | VT_STATX_MTIME;
    CHECK("mask_has_basic", (sx.stx_mask & want) == want);
    CHECK("is_reg", S_ISREG(sx.stx_mode));
    EXPECT_MODE("mode", sx.stx_mode & 07777, 0640);
    EXPECT_EQ("size", sx.stx_size, 12);
    EXPECT_EQ("nlink", sx.stx_nlink, 1);
    CHECK("uid_matches_stat", sx.stx_uid == st.st_uid);
    CHECK("gid_matches_stat", sx.stx_gid == st.st_gid);
    CHECK("ino_matches_stat", sx.stx_ino == st.st_ino);
    CHECK("mtime_matches_stat", (time_t)sx.stx_mtime.tv_sec == st.st_mtim.tv_sec &&
                                    (long)sx.stx_mtime.tv_nsec == st.st_mtim.tv_nsec);
    CHECK("blksize_positive", sx.stx_blksize > 0);
    CHECK("tail_zeroed", sx.spare2[13] == 0);

    EXPECT_OK("statx_link_follow", vstatx(AT_FDCWD, path_in(dir, "link"), 0, VT_STATX_BASIC_STATS, &sx));
    CHECK("link_follow_reg", S_ISREG(sx.stx_mode) && sx.stx_ino == st.st_ino);
    EXPECT_OK("statx_link_nofollow", vstatx(AT_FDCWD, path_in(dir, "link"), AT_SYMLINK_NOFOLLOW,
                                            VT_STATX_BASIC_STATS, &sx));
    CHECK("link_nofollow_lnk", S_ISLNK(sx.stx_mode));
    EXPECT_EQ("link_size", sx.stx_size, 4);

    int fd = open(f, O_RDONLY);
    EXPECT_OK("statx_empty_path", vstatx(fd, "", AT_EMPTY_PATH, VT_STATX_BASIC_STATS, &sx));
    CHECK("empty_path_same", sx.stx_ino == st.st_ino && S_ISREG(sx.stx_mode));
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    EXPECT_OK("statx_dirfd", vstatx(dfd, "file", 0, VT_STATX_SIZE, &sx));
    CHECK("dirfd_size_requested", (sx.stx_mask & VT_STATX_SIZE) && sx.stx_size == 12);
    EXPECT_OK("statx_dir", vstatx(AT_FDCWD, dir, 0, VT_STATX_TYPE, &sx));
    CHECK("dir_is_dir", S_ISDIR(sx.stx_mode));

    EXPECT_ERR("statx_missing", vstatx(AT_FDCWD, path_in(dir, "nope"), 0, VT_STATX_BASIC_STATS, &sx), ENOENT);
    EXPECT_ERR("statx_empty_no_flag", vstatx(fd, "", 0, VT_STATX_BASIC_STATS, &sx), ENOENT);
    EXPECT_ERR("statx_reserved_mask", vstatx(AT_FDCWD, f, 0, VT_STATX_RESERVED, &sx), EINVAL);
    EXPECT_ERR("statx_bad_flags", vstatx(AT_FDCWD, f, 0x40000000, VT_STATX_BASIC_STATS, &sx), EINVAL);
    EXPECT_ERR("statx_bad_dirfd", vstatx(-7, "file", 0, VT_STATX_BASIC_STATS, &sx), EBADF);
    EXPECT_ERR("statx_efault_buf", syscall(SYS_statx, AT_FDCWD, f, 0, VT_STATX_BASIC_STATS, BAD_PTR), EFAULT);
    EXPECT_ERR("statx_efault_path", syscall(SYS_statx, AT_FDCWD, LOW_PTR, 0, VT_STATX_BASIC_STATS, &sx), EFAULT);

    close(fd);
    close(dfd);
    rm_rf(dir);
    return finish();
}
