// getcwd/chdir/fchdir: relative path resolution, "..", errors, and a
// removed working directory.
#include "common.h"

static void show_cwd(const char *label)
{
    char buf[512];
    if (getcwd(buf, sizeof buf)) printf("%s: %s\n", label, buf);
    else printf("%s: %s\n", label, errname(errno));
}

int main(void)
{
    const char *dir = scratch_dir("cwd");
    char base[256];
    snprintf(base, sizeof base, "%s", dir);
    REQUIRE(mkdir(path_in(base, "a"), 0755) == 0);
    REQUIRE(mkdir(path_in(base, "a/b"), 0755) == 0);
    write_file(path_in(base, "a/file"), "in a", 4);
    REQUIRE(symlink("a/b", path_in(base, "link_to_b")) == 0);

    show_cwd("initial");
    EXPECT_OK("chdir_abs", chdir(base));
    show_cwd("after_chdir_abs");
    EXPECT_OK("chdir_rel", chdir("a"));
    show_cwd("after_chdir_rel");
    char buf[64] = {0};
    EXPECT_EQ("read_relative", read_file("file", buf, sizeof buf), 4);
    EXPECT_OK("chdir_dotdot", chdir(".."));
    show_cwd("after_dotdot");
    EXPECT_OK("chdir_symlink", chdir("link_to_b"));
    show_cwd("after_symlink");
    EXPECT_OK("chdir_dot", chdir("./../.."));
    show_cwd("after_dot_dotdot");

    /* fchdir. */
    int afd = open(path_in(base, "a"), O_RDONLY | O_DIRECTORY);
    EXPECT_OK("fchdir", fchdir(afd));
    show_cwd("after_fchdir");
    int ffd = open(path_in(base, "a/file"), O_RDONLY);
    EXPECT_ERR("fchdir_file", fchdir(ffd), ENOTDIR);
    EXPECT_ERR("fchdir_badfd", fchdir(-1), EBADF);
    close(ffd);
    close(afd);

    /* getcwd: buffer sizes and the raw syscall's return value (length + NUL). */
    char small[4];
    EXPECT_ERR("getcwd_erange", getcwd(small, sizeof small) ? 0 : -1, ERANGE);
    char big[512];
    long r = syscall(SYS_getcwd, big, sizeof big);
    EXPECT_EQ("sys_getcwd_len", r, (long)strlen(base) + 3);
    EXPECT_ERR("sys_getcwd_erange", syscall(SYS_getcwd, big, 5), ERANGE);
    EXPECT_ERR("sys_getcwd_efault", syscall(SYS_getcwd, BAD_PTR, 512), EFAULT);

    /* chdir errors. */
    EXPECT_ERR("chdir_missing", chdir("nope"), ENOENT);
    EXPECT_ERR("chdir_file", chdir("file"), ENOTDIR);
    EXPECT_ERR("chdir_empty", chdir(""), ENOENT);
    EXPECT_ERR("chdir_efault", syscall(SYS_chdir, LOW_PTR), EFAULT);
    show_cwd("unchanged_after_errors");

    /* Removing the current directory: getcwd (raw) reports ENOENT. */
    EXPECT_OK("chdir_b", chdir("b"));
    EXPECT_OK("rmdir_cwd", rmdir(path_in(base, "a/b")));
    EXPECT_ERR("sys_getcwd_removed", syscall(SYS_getcwd, big, sizeof big), ENOENT);
    EXPECT_ERR("create_in_removed", open("x", O_CREAT | O_WRONLY, 0644), ENOENT);
    EXPECT_OK("chdir_root", chdir("/"));
    show_cwd("final");

    rm_rf(base);
    return finish();
}
