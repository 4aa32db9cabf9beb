// fsync/fdatasync/sync/syncfs/sync_file_range: success on files and
// directories, errors on bad descriptors and devices without sync support.
#include "common.h"

int main(void)
{
    const char *dir = scratch_dir("fsync");
    char base[256];
    snprintf(base, sizeof base, "%s", dir);
    int fd = open(path_in(base, "f"), O_RDWR | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, "data", 4) == 4);

    EXPECT_OK("fsync_file", fsync(fd));
    EXPECT_OK("fdatasync_file", fdatasync(fd));
    EXPECT_OK("sys_fsync", syscall(SYS_fsync, fd));
    EXPECT_OK("syncfs", syscall(SYS_syncfs, fd));
    EXPECT_OK("sync_file_range", syscall(SYS_sync_file_range, fd, 0, 4, 0));
    EXPECT_ERR("sync_file_range_bad_flags", syscall(SYS_sync_file_range, fd, 0, 4, 0x100), EINVAL);
    sync();
    printf("sync: ok\n");
    /* Read-only descriptors can be synced too. */
    int ro = open(path_in(base, "f"), O_RDONLY);
    EXPECT_OK("fsync_rdonly", fsync(ro));
    close(ro);
    int dfd = open(base, O_RDONLY | O_DIRECTORY);
    EXPECT_OK("fsync_dir", fsync(dfd));
    close(dfd);

    EXPECT_ERR("fsync_badfd", fsync(-1), EBADF);
    EXPECT_ERR("fdatasync_badfd", fdatasync(1000), EBADF);
    EXPECT_ERR("syncfs_badfd", syscall(SYS_syncfs, -1), EBADF);
    int null = open("/dev/null", O_WRONLY);
    EXPECT_ERR("fsync_devnull", fsync(null), EINVAL);
    close(null);

    /* Data is still there after syncing and reopening. */
    close(fd);
    char buf[8];
    read_file(path_in(base, "f"), buf, sizeof buf);
    EXPECT_STR("contents", buf, "data");

    rm_rf(base);
    return finish();
}
