// copy_file_range (raw syscall): offsets given or taken from the file
// positions, short copies at EOF, same-file copies, and errors.
#include "common.h"

static long cfr(int in, off_t *ioff, int out, off_t *ooff, size_t len, unsigned flags)
{
    return syscall(SYS_copy_file_range, in, ioff, out, ooff, len, flags);
}

int main(void)
{
    const char *dir = scratch_dir("copy_file_range");
    char base[256];
    snprintf(base, sizeof base, "%s", dir);
    write_file(path_in(base, "src"), "ABCDEFGHIJKLMNOPQRST", 20);
    int in = open(path_in(base, "src"), O_RDWR);
    int out = open(path_in(base, "dst"), O_RDWR | O_CREAT | O_TRUNC, 0644);
    REQUIRE(in >= 0 && out >= 0);

    /* No offsets: uses and advances both file positions. */
    EXPECT_EQ("copy_positions", cfr(in, NULL, out, NULL, 4, 0), 4);
    EXPECT_EQ("in_pos", lseek(in, 0, SEEK_CUR), 4);
    EXPECT_EQ("out_pos", lseek(out, 0, SEEK_CUR), 4);
    /* Explicit offsets: positions untouched, offsets advanced. */
    off_t ioff = 10, ooff = 8;
    EXPECT_EQ("copy_offsets", cfr(in, &ioff, out, &ooff, 5, 0), 5);
    EXPECT_EQ("ioff", ioff, 15);
    EXPECT_EQ("ooff", ooff, 13);
    EXPECT_EQ("in_pos_unchanged", lseek(in, 0, SEEK_CUR), 4);
    EXPECT_EQ("out_pos_unchanged", lseek(out, 0, SEEK_CUR), 4);
    /* Short at EOF, then 0. */
    ioff = 18;
    ooff = 13;
    EXPECT_EQ("copy_short", cfr(in, &ioff, out, &ooff, 100, 0), 2);
    EXPECT_EQ("copy_eof", cfr(in, &ioff, out, &ooff, 100, 0), 0);
    char buf[32] = {0};
    struct stat st;
    fstat(out, &st);
    EXPECT_EQ("dst_size", st.st_size, 15);
    pread(out, buf, 15, 0);
    printf("dst_contents:");
    for (int i = 0; i < 15; i++) printf(" %c", buf[i] ? buf[i] : '0');
    printf("\n");

    /* Same file, non-overlapping ranges. */
    ioff = 0;
    ooff = 20;
    EXPECT_EQ("same_file", cfr(in, &ioff, in, &ooff, 5, 0), 5);
    memset(buf, 0, sizeof buf);
    pread(in, buf, 25, 0);
    EXPECT_STR("same_file_contents", buf, "ABCDEFGHIJKLMNOPQRSTABCDE");

    /* Errors. */
    ioff = 0;
    ooff = 2;
    EXPECT_ERR("same_file_overlap", cfr(in, &ioff, in, &ooff, 5, 0), EINVAL);
    EXPECT_ERR("bad_flags", cfr(in, NULL, out, NULL, 1, 1), EINVAL);
    EXPECT_ERR("bad_in", cfr(-1, NULL, out, NULL, 1, 0), EBADF);
    EXPECT_ERR("bad_out", cfr(in, NULL, -1, NULL, 1, 0), EBADF);
    int ro = open(path_in(base, "dst"), O_RDONLY);
    EXPECT_ERR("out_not_writable", cfr(in, NULL, ro, NULL, 1, 0), EBADF);
    close(ro);
    int wo = open(path_in(base, "src"), O_WRONLY);
    EXPECT_ERR("in_not_readable", cfr(wo, NULL, out, NULL, 1, 0), EBADF);
    close(wo);
    int app = open(path_in(base, "dst"), O_WRONLY | O_APPEND);
    EXPECT_ERR("out_append", cfr(in, NULL, app, NULL, 1, 0), EBADF);
    close(app);
    int dfd = open(base, O_RDONLY | O_DIRECTORY);
    EXPECT_ERR("in_is_dir", cfr(dfd, NULL, out, NULL, 1, 0), EISDIR);
    close(dfd);
    EXPECT_ERR("offset_efault", cfr(in, BAD_PTR, out, NULL, 1, 0), EFAULT);
    close(in);
    close(out);

    rm_rf(base);
    return finish();
}
