// statfs/fstatfs: success on files, directories and /proc, sane block
// size and name length, agreement between the two, and errors.
#include "common.h"
#include <sys/statfs.h>
#include <sys/statvfs.h>

int main(void)
{
    const char *dir = scratch_dir("statfs");
    char base[256];
    snprintf(base, sizeof base, "%s", dir);
    write_file(path_in(base, "f"), "x", 1);
    struct statfs a, b;

    EXPECT_OK("statfs_tmp", statfs(base, &a));
    CHECK("bsize_positive", a.f_bsize > 0);
    CHECK("namelen_positive", a.f_namelen >= 255);
    CHECK("bfree_le_blocks", a.f_bfree <= a.f_blocks);
    CHECK("bavail_le_bfree", a.f_bavail <= a.f_bfree);
    int fd = open(path_in(base, "f"), O_RDONLY);
    EXPECT_OK("fstatfs_file", fstatfs(fd, &b));
    CHECK("same_fs_type", a.f_type == b.f_type && a.f_bsize == b.f_bsize);
    close(fd);
    EXPECT_OK("statfs_root", statfs("/", &b));
    CHECK("root_bsize_positive", b.f_bsize > 0);
    EXPECT_OK("statfs_proc", statfs("/proc/self", &b));
    EXPECT_EQ("proc_is_procfs", b.f_type == 0x9fa0, 1);
    EXPECT_OK("statfs_dev", statfs("/dev/null", &b));

    struct statvfs v;
    EXPECT_OK("statvfs", statvfs(base, &v));
    CHECK("statvfs_bsize_positive", v.f_bsize > 0);
    CHECK("statvfs_namemax", v.f_namemax >= 255);

    EXPECT_ERR("statfs_missing", statfs(path_in(base, "none"), &a), ENOENT);
    EXPECT_ERR("statfs_through_file", statfs(path_in(base, "f/x"), &a), ENOTDIR);
    EXPECT_ERR("fstatfs_badfd", fstatfs(-1, &a), EBADF);
    EXPECT_ERR("statfs_efault_buf", syscall(SYS_statfs, base, BAD_PTR), EFAULT);
    EXPECT_ERR("statfs_efault_path", syscall(SYS_statfs, LOW_PTR, &a), EFAULT);

    rm_rf(base);
    return finish();
}
