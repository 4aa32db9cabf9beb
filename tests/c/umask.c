// umask: return value, and its effect on files, directories, symlinks
// and explicit fchmod (which it does not affect).
#include "common.h"

static unsigned mode_of(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 ? (unsigned)(st.st_mode & 07777) : 0xffff;
}

int main(void)
{
    const char *dir = scratch_dir("umask");
    char base[256];
    snprintf(base, sizeof base, "%s", dir);

    umask(022);
    EXPECT_MODE("umask_returns_previous", umask(077), 022);
    EXPECT_MODE("umask_returns_077", umask(027), 077);
    EXPECT_MODE("umask_raw", syscall(SYS_umask, 022), 027);
    /* Only the permission bits are kept. */
    EXPECT_MODE("umask_masked_set", umask(0777777), 022);
    EXPECT_MODE("umask_masked_get", umask(022), 0777);

    umask(022);
    int fd = open(path_in(base, "f022"), O_CREAT | O_WRONLY, 0666);
    close(fd);
    EXPECT_MODE("file_0666_umask_022", mode_of(path_in(base, "f022")), 0644);
    umask(077);
    fd = open(path_in(base, "f077"), O_CREAT | O_WRONLY, 0666);
    close(fd);
    EXPECT_MODE("file_0666_umask_077", mode_of(path_in(base, "f077")), 0600);
    umask(0);
    fd = open(path_in(base, "f000"), O_CREAT | O_WRONLY, 0777);
    close(fd);
    EXPECT_MODE("file_0777_umask_000", mode_of(path_in(base, "f000")), 0777);
    umask(027);
    EXPECT_OK("mkdir", mkdir(path_in(base, "d027"), 0777));
    EXPECT_MODE("dir_0777_umask_027", mode_of(path_in(base, "d027")), 0750);
    umask(0222);
    fd = creat(path_in(base, "creat0222"), 0666);
    EXPECT_MODE("creat_0666_umask_0222", mode_of(path_in(base, "creat0222")), 0444);
    /* The mode only applies to later opens: this descriptor is writable. */
    EXPECT_EQ("write_to_new_readonly_file", write(fd, "x", 1), 1);
    /* fchmod/chmod ignore the umask. */
    EXPECT_OK("fchmod", fchmod(fd, 0666));
    EXPECT_MODE("fchmod_ignores_umask", mode_of(path_in(base, "creat0222")), 0666);
    close(fd);
    /* Symlinks are always 0777. */
    umask(077);
    REQUIRE(symlink("f022", path_in(base, "sl")) == 0);
    EXPECT_MODE("symlink_mode", mode_of(path_in(base, "sl")), 0777);

    umask(022);
    rm_rf(base);
    return finish();
}
