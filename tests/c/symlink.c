// symlink/symlinkat: creation, resolution (relative to the link's
// directory, chains, directories), O_NOFOLLOW, loops (ELOOP) and errors.
#include "common.h"

static void show(const char *label, const char *path)
{
    char buf[64];
    if (read_file(path, buf, sizeof buf) < 0) printf("%s: %s\n", label, errname(errno));
    else printf("%s: \"%s\"\n", label, buf);
}

int main(void)
{
    const char *dir = scratch_dir("symlink");
    char base[256];
    snprintf(base, sizeof base, "%s", dir);
    struct stat st;
    REQUIRE(mkdir(path_in(base, "sub"), 0755) == 0);
    write_file(path_in(base, "sub/target"), "TARGET", 6);
    write_file(path_in(base, "top"), "TOP", 3);

    EXPECT_OK("symlink_rel", symlink("sub/target", path_in(base, "l1")));
    show("via_rel", path_in(base, "l1"));
    /* Relative targets resolve from the link's directory, not the cwd. */
    EXPECT_OK("symlink_dotdot", symlink("../top", path_in(base, "sub/up")));
    show("via_dotdot", path_in(base, "sub/up"));
    char abs[300];
    snprintf(abs, sizeof abs, "%s/top", base);
    EXPECT_OK("symlink_abs", symlink(abs, path_in(base, "l_abs")));
    show("via_abs", path_in(base, "l_abs"));
    /* Chains of links. */
    EXPECT_OK("symlink_chain", symlink("l1", path_in(base, "l2")));
    show("via_chain", path_in(base, "l2"));
    /* Links to directories in the middle of a path. */
    EXPECT_OK("symlink_dir", symlink("sub", path_in(base, "ldir")));
    show("via_dir_link", path_in(base, "ldir/target"));
    EXPECT_OK("stat_dir_link", stat(path_in(base, "ldir"), &st));
    CHECK("dir_link_is_dir", S_ISDIR(st.st_mode));
    /* symlinkat relative to a dirfd. */
    int dfd = open(base, O_RDONLY | O_DIRECTORY);
    EXPECT_OK("symlinkat", symlinkat("top", dfd, "l_at"));
    show("via_symlinkat", path_in(base, "l_at"));
    EXPECT_OK("sys_symlink", syscall(SYS_symlink, "top", path_in(base, "l_raw")));
    /* A dangling link can be created; opening it fails. */
    EXPECT_OK("symlink_dangling", symlink("does-not-exist", path_in(base, "dang")));
    EXPECT_ERR("open_dangling", open(path_in(base, "dang"), O_RDONLY), ENOENT);
    /* O_CREAT through a dangling link creates the target. */
    int fd = open(path_in(base, "dang"), O_WRONLY | O_CREAT, 0644);
    CHECK("creat_through_dangling", fd >= 0);
    close(fd);
    EXPECT_OK("target_created", stat(path_in(base, "does-not-exist"), &st));
    EXPECT_ERR("creat_excl_through_link", open(path_in(base, "l_at"), O_WRONLY | O_CREAT | O_EXCL, 0644), EEXIST);

    /* O_NOFOLLOW on the final component. */
    EXPECT_ERR("nofollow_final", open(path_in(base, "l1"), O_RDONLY | O_NOFOLLOW), ELOOP);
    fd = open(path_in(base, "ldir/target"), O_RDONLY | O_NOFOLLOW);
    CHECK("nofollow_only_final", fd >= 0);
    close(fd);
    /* A trailing slash forces following. */
    EXPECT_OK("trailing_slash_follows", stat(path_in(base, "ldir/"), &st));
    CHECK("trailing_slash_is_dir", S_ISDIR(st.st_mode));

    /* Loops. */
    EXPECT_OK("symlink_self", symlink("self", path_in(base, "self")));
    EXPECT_ERR("open_self_loop", open(path_in(base, "self"), O_RDONLY), ELOOP);
    EXPECT_OK("symlink_ping", symlink("pong", path_in(base, "ping")));
    EXPECT_OK("symlink_pong", symlink("ping", path_in(base, "pong")));
    EXPECT_ERR("stat_ping_pong", stat(path_in(base, "ping"), &st), ELOOP);
    EXPECT_ERR("loop_in_middle", stat(path_in(base, "ping/x"), &st), ELOOP);
    EXPECT_OK("lstat_loop_ok", lstat(path_in(base, "ping"), &st));
    /* A chain of 41 links exceeds the limit of 40. */
    char name[32], next[32];
    for (int i = 0; i < 41; i++) {
        snprintf(name, sizeof name, "c%d", i);
        snprintf(next, sizeof next, "c%d", i + 1);
        REQUIRE(symlinkat(next, dfd, name) == 0);
    }
    write_file(path_in(base, "c41"), "END", 3);
    EXPECT_ERR("chain_41_eloop", open(path_in(base, "c0"), O_RDONLY), ELOOP);
    show("chain_40_ok", path_in(base, "c1"));

    /* Errors. */
    EXPECT_ERR("symlink_exists", symlink("x", path_in(base, "top")), EEXIST);
    EXPECT_ERR("symlink_missing_parent", symlink("x", path_in(base, "no/l")), ENOENT);
    EXPECT_ERR("symlink_empty_target", symlink("", path_in(base, "empty")), ENOENT);
    EXPECT_ERR("symlinkat_bad_dirfd", symlinkat("x", -1, "l"), EBADF);
    EXPECT_ERR("symlink_efault", syscall(SYS_symlink, LOW_PTR, path_in(base, "ef")), EFAULT);
    close(dfd);

    rm_rf(base);
    return finish();
}
