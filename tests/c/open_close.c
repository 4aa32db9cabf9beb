// open/openat/creat/close: creation, lowest-fd allocation and error cases.
#include "common.h"

int main(void)
{
    umask(022);
    const char *dir = scratch_dir("open_close");
    DEF_PATH(f, dir, "file");

    /* creat() creates and truncates, write-only. */
    int fd = creat(f, 0644);
    CHECK("creat", fd >= 0);
    EXPECT_EQ("creat_write", write(fd, "hello", 5), 5);
    EXPECT_ERR("creat_is_write_only", read(fd, (char[4]){0}, 4), EBADF);
    EXPECT_OK("close", close(fd));
    EXPECT_ERR("close_again", close(fd), EBADF);
    EXPECT_ERR("close_negative", close(-1), EBADF);
    EXPECT_ERR("close_huge", close(1 << 30), EBADF);

    /* open() an existing file read-only. */
    fd = open(f, O_RDONLY);
    CHECK("open_rdonly", fd >= 0);
    char buf[16] = {0};
    EXPECT_EQ("open_read", read(fd, buf, sizeof buf), 5);
    EXPECT_STR("open_read_data", buf, "hello");
    EXPECT_ERR("open_rdonly_write", write(fd, "x", 1), EBADF);
    close(fd);

    /* Raw open syscall (x86-64 still has SYS_open). */
    fd = (int)syscall(SYS_open, f, O_RDWR);
    CHECK("sys_open", fd >= 0);
    close(fd);

    /* openat relative to a directory fd and with AT_FDCWD. */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    CHECK("open_dir", dfd >= 0);
    fd = openat(dfd, "file", O_RDONLY);
    CHECK("openat_dirfd", fd >= 0);
    close(fd);
    fd = openat(AT_FDCWD, f, O_RDONLY);
    CHECK("openat_fdcwd_abs", fd >= 0);
    close(fd);
    /* An absolute path ignores the dirfd, even an invalid one. */
    fd = openat(12345, f, O_RDONLY);
    CHECK("openat_abs_ignores_dirfd", fd >= 0);
    close(fd);
    EXPECT_ERR("openat_bad_dirfd", openat(12345, "file", O_RDONLY), EBADF);
    int ffd = open(f, O_RDONLY);
    EXPECT_ERR("openat_file_as_dirfd", openat(ffd, "file", O_RDONLY), ENOTDIR);
    close(ffd);

    /* Creation with O_CREAT and a mode. */
    fd = openat(dfd, "new", O_WRONLY | O_CREAT, 0600);
    CHECK("openat_creat", fd >= 0);
    struct stat st;
    fstat(fd, &st);
    EXPECT_MODE("creat_mode", st.st_mode & 07777, 0600);
    EXPECT_EQ("creat_size", st.st_size, 0);
    close(fd);

    /* Error cases. */
    EXPECT_ERR("open_missing", open(path_in(dir, "missing"), O_RDONLY), ENOENT);
    EXPECT_ERR("open_missing_parent", open(path_in(dir, "nope/x"), O_RDONLY | O_CREAT, 0644), ENOENT);
    EXPECT_ERR("open_through_file", open(path_in(dir, "file/x"), O_RDONLY), ENOTDIR);
    EXPECT_ERR("open_dir_for_write", open(dir, O_WRONLY), EISDIR);
    EXPECT_ERR("open_dir_rdwr", open(dir, O_RDWR), EISDIR);
    EXPECT_ERR("open_empty_path", open("", O_RDONLY), ENOENT);
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    EXPECT_ERR("open_name_too_long", openat(dfd, longname, O_RDONLY), ENAMETOOLONG);

    /* Lowest free descriptor is returned. */
    int a = open(f, O_RDONLY);
    int b = open(f, O_RDONLY);
    int c = open(f, O_RDONLY);
    CHECK("fd_sequential", b == a + 1 && c == b + 1);
    close(b);
    int d = open(f, O_RDONLY);
    CHECK("fd_lowest_reused", d == b);
    close(a);
    close(c);
    close(d);
    /* Standard descriptors exist. */
    CHECK("stdin_open", fcntl(0, F_GETFD) != -1);
    CHECK("stdout_open", fcntl(1, F_GETFD) != -1);
    CHECK("stderr_open", fcntl(2, F_GETFD) != -1);
    CHECK("first_free_is_3", (a = open(f, O_RDONLY)) > 2 && a == dfd + 1);
    close(a);

    close(dfd);
    rm_rf(dir);
    return finish();
}
