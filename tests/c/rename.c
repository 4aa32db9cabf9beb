// rename/renameat/renameat2: moving files and directories, replacing,
// RENAME_NOREPLACE, RENAME_EXCHANGE, and errors.
#include "common.h"

#define VT_RENAME_NOREPLACE 1
#define VT_RENAME_EXCHANGE 2

static long renameat2_raw(int od, const char *o, int nd, const char *n, unsigned flags)
{
    return syscall(SYS_renameat2, od, o, nd, n, flags);
}

static void show(const char *label, const char *path)
{
    char buf[64];
    if (read_file(path, buf, sizeof buf) < 0) printf("%s: %s\n", label, errname(errno));
    else printf("%s: \"%s\"\n", label, buf);
}

int main(void)
{
    const char *dir = scratch_dir("rename");
    char base[256];
    snprintf(base, sizeof base, "%s", dir);
    struct stat st;
    int dfd = open(base, O_RDONLY | O_DIRECTORY);

    write_file(path_in(base, "a"), "AAA", 3);
    EXPECT_OK("rename_simple", rename(path_in(base, "a"), path_in(base, "b")));
    EXPECT_ERR("old_gone", stat(path_in(base, "a"), &st), ENOENT);
    show("new_contents", path_in(base, "b"));

    /* Replacing an existing file. */
    write_file(path_in(base, "c"), "CCC", 3);
    EXPECT_OK("rename_replace", rename(path_in(base, "b"), path_in(base, "c")));
    show("replaced_contents", path_in(base, "c"));
    /* Renaming onto itself (or a hard link to itself) is a no-op. */
    EXPECT_OK("rename_same", rename(path_in(base, "c"), path_in(base, "c")));
    show("same_contents", path_in(base, "c"));

    /* Directories move with their contents. */
    REQUIRE(mkdir(path_in(base, "d1"), 0755) == 0);
    write_file(path_in(base, "d1/inner"), "III", 3);
    EXPECT_OK("rename_dir", renameat(dfd, "d1", dfd, "d2"));
    show("moved_inner", path_in(base, "d2/inner"));
    REQUIRE(mkdir(path_in(base, "empty"), 0755) == 0);
    EXPECT_OK("rename_dir_over_empty_dir", rename(path_in(base, "d2"), path_in(base, "empty")));
    show("moved_over_empty", path_in(base, "empty/inner"));
    EXPECT_OK("rename_into_subdir", rename(path_in(base, "c"), path_in(base, "empty/c")));
    show("moved_into_subdir", path_in(base, "empty/c"));

    /* renameat2 RENAME_NOREPLACE. */
    write_file(path_in(base, "x"), "XXX", 3);
    write_file(path_in(base, "y"), "YYY", 3);
    EXPECT_ERR("noreplace_exists", renameat2_raw(dfd, "x", dfd, "y", VT_RENAME_NOREPLACE), EEXIST);
    show("noreplace_kept_y", path_in(base, "y"));
    EXPECT_OK("noreplace_new", renameat2_raw(dfd, "x", dfd, "z", VT_RENAME_NOREPLACE));
    show("noreplace_z", path_in(base, "z"));

    /* renameat2 RENAME_EXCHANGE swaps atomically. */
    EXPECT_OK("exchange", renameat2_raw(dfd, "y", dfd, "z", VT_RENAME_EXCHANGE));
    show("exchange_y", path_in(base, "y"));
    show("exchange_z", path_in(base, "z"));
    EXPECT_ERR("exchange_missing", renameat2_raw(dfd, "y", dfd, "missing", VT_RENAME_EXCHANGE), ENOENT);
    EXPECT_ERR("exchange_and_noreplace",
               renameat2_raw(dfd, "y", dfd, "z", VT_RENAME_EXCHANGE | VT_RENAME_NOREPLACE), EINVAL);
    EXPECT_ERR("renameat2_bad_flags", renameat2_raw(dfd, "y", dfd, "z", 0x100), EINVAL);
    EXPECT_OK("renameat2_no_flags", renameat2_raw(dfd, "y", dfd, "w", 0));

    /* Errors. */
    REQUIRE(mkdir(path_in(base, "full"), 0755) == 0);
    write_file(path_in(base, "full/f"), "", 0);
    REQUIRE(mkdir(path_in(base, "dir"), 0755) == 0);
    EXPECT_ERR("dir_over_nonempty_dir", rename(path_in(base, "dir"), path_in(base, "full")), ENOTEMPTY);
    EXPECT_ERR("file_over_dir", rename(path_in(base, "w"), path_in(base, "dir")), EISDIR);
    EXPECT_ERR("dir_over_file", rename(path_in(base, "dir"), path_in(base, "w")), ENOTDIR);
    EXPECT_ERR("dir_into_itself", rename(path_in(base, "dir"), path_in(base, "dir/sub")), EINVAL);
    EXPECT_ERR("missing_source", rename(path_in(base, "none"), path_in(base, "n2")), ENOENT);
    EXPECT_ERR("missing_target_dir", rename(path_in(base, "w"), path_in(base, "no/w")), ENOENT);
    EXPECT_ERR("through_file", rename(path_in(base, "w/x"), path_in(base, "n3")), ENOTDIR);
    EXPECT_ERR("rename_dot", rename(path_in(base, "dir/."), path_in(base, "n4")), EBUSY);
    EXPECT_ERR("bad_dirfd", renameat(-1, "w", dfd, "n5"), EBADF);
    EXPECT_ERR("efault", syscall(SYS_rename, LOW_PTR, path_in(base, "n6")), EFAULT);

    /* Renaming a symlink renames the link itself. */
    REQUIRE(symlink("w", path_in(base, "sl")) == 0);
    EXPECT_OK("rename_symlink", rename(path_in(base, "sl"), path_in(base, "sl2")));
    EXPECT_OK("lstat_renamed_link", lstat(path_in(base, "sl2"), &st));
    CHECK("renamed_is_link", S_ISLNK(st.st_mode));
    show("through_renamed_link", path_in(base, "sl2"));

    /* Open descriptors follow the file across a rename. */
    int fd = open(path_in(base, "w"), O_RDONLY);
    EXPECT_OK("rename_open_file", rename(path_in(base, "w"), path_in(base, "empty/w")));
    char buf[8] = {0};
    EXPECT_EQ("read_after_rename", read(fd, buf, 7), 3);
    EXPECT_STR("read_after_rename_data", buf, "XXX");
    close(fd);
    close(dfd);

    rm_rf(base);
    return finish();
}
