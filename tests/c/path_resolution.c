// Path walking: ".", "..", repeated and trailing slashes, ".." at the root,
// dirfd-relative and absolute paths, symlinks to directories with "..",
// ENOTDIR / ENOENT / ENAMETOOLONG on components, and very long paths.
#include "common.h"

static void show(const char *label, const char *path)
{
    char buf[64];
    if (read_file(path, buf, sizeof buf) < 0) printf("%s: %s\n", label, errname(errno));
    else printf("%s: \"%s\"\n", label, buf);
}

int main(void)
{
    const char *dir = scratch_dir("path_resolution");
    char base[256];
    snprintf(base, sizeof base, "%s", dir);
    REQUIRE(mkdir(path_in(base, "a"), 0755) == 0);
    REQUIRE(mkdir(path_in(base, "a/b"), 0755) == 0);
    write_file(path_in(base, "a/b/f"), "deep", 4);
    write_file(path_in(base, "top"), "top", 3);
    REQUIRE(symlink("a/b", path_in(base, "lb")) == 0);
    REQUIRE(chdir(base) == 0);

    show("plain", "a/b/f");
    show("dot_components", "./a/./b/./f");
    show("dotdot_components", "a/b/../b/../../a/b/f");
    show("double_slashes", "a//b///f");
    show("leading_slashes", "//tmp/vt_path_resolution/top");
    show("root_dotdot", "/../../tmp/vt_path_resolution/top");
    /* ".." after a symlink goes to the link target's parent. */
    show("symlink_then_dotdot", "lb/../b/f");
    show("symlink_dotdot_top", "lb/../../top");
    struct stat st;
    EXPECT_OK("trailing_slash_dir", stat("a/", &st));
    EXPECT_OK("trailing_dot_dir", stat("a/.", &st));
    EXPECT_ERR("trailing_slash_file", stat("top/", &st), ENOTDIR);
    EXPECT_ERR("trailing_dot_file", stat("top/.", &st), ENOTDIR);
    EXPECT_ERR("dotdot_through_file", stat("top/..", &st), ENOTDIR);
    EXPECT_ERR("missing_middle", stat("a/zz/f", &st), ENOENT);
    EXPECT_ERR("missing_middle_dotdot", stat("a/zz/../b/f", &st), ENOENT);
    EXPECT_ERR("empty", stat("", &st), ENOENT);

    /* dirfd-relative walking. */
    int afd = open("a", O_RDONLY | O_DIRECTORY);
    int fd = openat(afd, "b/f", O_RDONLY);
    CHECK("openat_rel", fd >= 0);
    close(fd);
    fd = openat(afd, "../top", O_RDONLY);
    CHECK("openat_dotdot", fd >= 0);
    close(fd);
    fd = openat(afd, "/tmp/vt_path_resolution/top", O_RDONLY);
    CHECK("openat_absolute", fd >= 0);
    close(fd);
    fd = openat(afd, ".", O_RDONLY | O_DIRECTORY);
    CHECK("openat_dot", fd >= 0);
    struct stat s1, s2;
    fstat(fd, &s1);
    fstat(afd, &s2);
    CHECK("openat_dot_same_dir", s1.st_ino == s2.st_ino);
    close(fd);
    close(afd);
    /* The root's ".." is the root. */
    stat("/", &s1);
    stat("/..", &s2);
    CHECK("root_dotdot_is_root", s1.st_ino == s2.st_ino && s1.st_dev == s2.st_dev);

    /* Name length limits: 255 bytes per component is fine, 256 is not. */
    char name[300];
    memset(name, 'n', 255);
    name[255] = 0;
    fd = open(name, O_WRONLY | O_CREAT, 0644);
    CHECK("component_255_ok", fd >= 0);
    close(fd);
    unlink(name);
    memset(name, 'n', 256);
    name[256] = 0;
    EXPECT_ERR("component_256", open(name, O_WRONLY | O_CREAT, 0644), ENAMETOOLONG);
    /* A path of 4096 bytes or more is too long. */
    static char longpath[5000];
    size_t len = 0;
    while (len < 4200) {
        memcpy(longpath + len, "./", 2);
        len += 2;
    }
    strcpy(longpath + len, "top");
    EXPECT_ERR("path_too_long", open(longpath, O_RDONLY), ENAMETOOLONG);
    /* Just under the limit (4095 bytes plus the NUL) works. */
    len = 0;
    while (len + 2 + 3 <= 4095) {
        memcpy(longpath + len, "./", 2);
        len += 2;
    }
    strcpy(longpath + len, "top");
    fd = open(longpath, O_RDONLY);
    CHECK("path_4095_ok", fd >= 0 && strlen(longpath) <= 4095);
    close(fd);
    /* A deep directory tree, walked relative to the cwd. */
    char deep[4096] = "";
    for (int i = 0; i < 40; i++) {
        strcat(deep, i ? "/d" : "d");
        REQUIRE(mkdir(deep, 0755) == 0);
    }
    strcat(deep, "/leaf");
    write_file(deep, "leaf", 4);
    show("deep_tree", deep);

    REQUIRE(chdir("/") == 0);
    rm_rf(base);
    return finish();
}
