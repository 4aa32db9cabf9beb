// open flags: O_APPEND, O_TRUNC, O_EXCL, O_DIRECTORY, O_NOFOLLOW,
// O_CLOEXEC, O_PATH, O_TMPFILE, O_SYNC.
#include "common.h"

static long fsize(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

int main(void)
{
    const char *dir = scratch_dir("open_flags");
    char base[256];
    snprintf(base, sizeof base, "%s", dir);
    DEF_PATH(f, base, "f");
    write_file(f, "0123456789", 10);
    REQUIRE(symlink("f", path_in(base, "link")) == 0);
    REQUIRE(mkdir(path_in(base, "d"), 0755) == 0);
    char buf[64];

    /* O_APPEND: every write goes to the end, even after lseek. */
    int fd = open(f, O_WRONLY | O_APPEND);
    lseek(fd, 0, SEEK_SET);
    EXPECT_EQ("append_write", write(fd, "AB", 2), 2);
    EXPECT_EQ("append_pos", lseek(fd, 0, SEEK_CUR), 12);
    /* pwrite on an O_APPEND fd also appends (Linux quirk). */
    EXPECT_EQ("append_pwrite", pwrite(fd, "C", 1, 0), 1);
    close(fd);
    read_file(f, buf, sizeof buf);
    EXPECT_STR("append_contents", buf, "0123456789ABC");
    /* O_RDWR|O_APPEND reads from the position but writes at the end. */
    fd = open(f, O_RDWR | O_APPEND);
    char c2[3] = {0};
    EXPECT_EQ("append_read", read(fd, c2, 2), 2);
    EXPECT_STR("append_read_data", c2, "01");
    write(fd, "D", 1);
    EXPECT_EQ("append_rdwr_pos", lseek(fd, 0, SEEK_CUR), 14);
    close(fd);

    /* O_TRUNC empties an existing file (even with O_RDONLY on Linux). */
    fd = open(f, O_WRONLY | O_TRUNC);
    EXPECT_EQ("trunc_size", fsize(f), 0);
    write(fd, "xyz", 3);
    close(fd);
    fd = open(f, O_RDONLY | O_TRUNC);
    EXPECT_EQ("rdonly_trunc_size", fsize(f), 0);
    close(fd);
    write_file(f, "0123456789", 10);
    fd = open(f, O_RDONLY);
    EXPECT_EQ("no_trunc_size", fsize(f), 10);
    close(fd);

    /* O_CREAT | O_EXCL. */
    fd = open(path_in(base, "new"), O_WRONLY | O_CREAT | O_EXCL, 0644);
    CHECK("excl_creates", fd >= 0);
    close(fd);
    EXPECT_ERR("excl_exists", open(path_in(base, "new"), O_WRONLY | O_CREAT | O_EXCL, 0644), EEXIST);
    EXPECT_ERR("excl_symlink", open(path_in(base, "link"), O_WRONLY | O_CREAT | O_EXCL, 0644), EEXIST);
    REQUIRE(symlink("nowhere", path_in(base, "dang")) == 0);
    EXPECT_ERR("excl_dangling", open(path_in(base, "dang"), O_WRONLY | O_CREAT | O_EXCL, 0644), EEXIST);
    fd = open(f, O_RDONLY | O_CREAT, 0600);
    CHECK("creat_existing_ok", fd >= 0);
    close(fd);

    /* O_DIRECTORY. */
    fd = open(path_in(base, "d"), O_RDONLY | O_DIRECTORY);
    CHECK("directory_on_dir", fd >= 0);
    close(fd);
    EXPECT_ERR("directory_on_file", open(f, O_RDONLY | O_DIRECTORY), ENOTDIR);
    EXPECT_ERR("directory_on_link_to_file", open(path_in(base, "link"), O_RDONLY | O_DIRECTORY), ENOTDIR);

    /* O_NOFOLLOW. */
    EXPECT_ERR("nofollow_link", open(path_in(base, "link"), O_RDONLY | O_NOFOLLOW), ELOOP);
    fd = open(f, O_RDONLY | O_NOFOLLOW);
    CHECK("nofollow_regular", fd >= 0);
    close(fd);

    /* O_CLOEXEC. */
    fd = open(f, O_RDONLY | O_CLOEXEC);
    EXPECT_EQ("cloexec_flag", fcntl(fd, F_GETFD), FD_CLOEXEC);
    close(fd);
    fd = open(f, O_RDONLY);
    EXPECT_EQ("no_cloexec_flag", fcntl(fd, F_GETFD), 0);
    close(fd);

    /* O_PATH: a location only; fstat works, I/O does not. */
    fd = open(f, O_PATH);
    CHECK("opath_open", fd >= 0);
    struct stat st;
    EXPECT_OK("opath_fstat", fstat(fd, &st));
    EXPECT_EQ("opath_size", st.st_size, 10);
    EXPECT_ERR("opath_read", read(fd, buf, 1), EBADF);
    EXPECT_ERR("opath_write", write(fd, "x", 1), EBADF);
    EXPECT_EQ("opath_getfl_has_opath", !!(fcntl(fd, F_GETFL) & O_PATH), 1);
    close(fd);
    fd = open(path_in(base, "d"), O_PATH | O_DIRECTORY);
    int sub = openat(fd, "../f", O_RDONLY);
    CHECK("opath_dir_as_dirfd", sub >= 0);
    close(sub);
    close(fd);

    /* O_TMPFILE: an unnamed file in a directory. */
    fd = open(path_in(base, "d"), O_TMPFILE | O_RDWR, 0600);
    CHECK("tmpfile_open", fd >= 0);
    EXPECT_EQ("tmpfile_write", write(fd, "tmp", 3), 3);
    fstat(fd, &st);
    EXPECT_EQ("tmpfile_nlink", st.st_nlink, 0);
    CHECK("tmpfile_is_reg", S_ISREG(st.st_mode));
    memset(buf, 0, sizeof buf);
    EXPECT_EQ("tmpfile_read", pread(fd, buf, 10, 0), 3);
    close(fd);
    EXPECT_EQ("tmpfile_dir_still_empty", rmdir(path_in(base, "d")), 0);
    EXPECT_ERR("tmpfile_rdonly", open(base, O_TMPFILE | O_RDONLY, 0600), EINVAL);

    /* O_SYNC / O_DSYNC open and write normally. */
    fd = open(f, O_WRONLY | O_SYNC);
    EXPECT_EQ("sync_write", write(fd, "S", 1), 1);
    close(fd);
    fd = open(f, O_WRONLY | O_DSYNC);
    EXPECT_EQ("dsync_write", write(fd, "D", 1), 1);
    close(fd);
    read_file(f, buf, sizeof buf);
    EXPECT_STR("final_contents", buf, "D123456789");

    rm_rf(base);
    return finish();
}
