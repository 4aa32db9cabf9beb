// sendfile between regular files: with and without an offset pointer,
// short counts at EOF, large transfers, and errors.
#include "common.h"
#include <sys/sendfile.h>

int main(void)
{
    const char *dir = scratch_dir("sendfile");
    char base[256];
    snprintf(base, sizeof base, "%s", dir);
    write_file(path_in(base, "src"), "0123456789abcdefghij", 20);
    int in = open(path_in(base, "src"), O_RDONLY);
    int out = open(path_in(base, "dst"), O_RDWR | O_CREAT | O_TRUNC, 0644);
    REQUIRE(in >= 0 && out >= 0);

    /* NULL offset: uses and advances the input file position. */
    EXPECT_EQ("sendfile_5", sendfile(out, in, NULL, 5), 5);
    EXPECT_EQ("in_pos_advanced", lseek(in, 0, SEEK_CUR), 5);
    EXPECT_EQ("out_pos_advanced", lseek(out, 0, SEEK_CUR), 5);
    /* With an offset pointer: the input position is untouched. */
    off_t off = 10;
    EXPECT_EQ("sendfile_off", sendfile(out, in, &off, 4), 4);
    EXPECT_EQ("offset_updated", off, 14);
    EXPECT_EQ("in_pos_unchanged", lseek(in, 0, SEEK_CUR), 5);
    /* Short count at EOF, then 0. */
    off = 15;
    EXPECT_EQ("sendfile_short", sendfile(out, in, &off, 100), 5);
    EXPECT_EQ("offset_at_eof", off, 20);
    EXPECT_EQ("sendfile_eof", sendfile(out, in, &off, 100), 0);
    EXPECT_EQ("sendfile_zero", sendfile(out, in, NULL, 0), 0);

    char buf[64] = {0};
    pread(out, buf, sizeof buf - 1, 0);
    EXPECT_STR("dst_contents", buf, "01234abcdfghij");

    /* A larger transfer. */
    static char big[300000];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (char)(i * 7 + i / 1000);
    int bigfd = open(path_in(base, "big"), O_RDWR | O_CREAT | O_TRUNC, 0644);
    REQUIRE(write(bigfd, big, sizeof big) == (ssize_t)sizeof big);
    int copy = open(path_in(base, "copy"), O_RDWR | O_CREAT | O_TRUNC, 0644);
    off = 0;
    size_t total = 0;
    for (;;) {
        ssize_t n = sendfile(copy, bigfd, &off, 65536);
        if (n <= 0) break;
        total += (size_t)n;
    }
    EXPECT_EQ("big_total", total, sizeof big);
    static char back[300000];
    pread(copy, back, sizeof back, 0);
    CHECK("big_same", memcmp(big, back, sizeof big) == 0);
    close(bigfd);
    close(copy);

    /* To stdout (a pipe or file under the harness): works. */
    fflush(stdout);
    off = 0;
    EXPECT_EQ("sendfile_to_stdout", sendfile(1, in, &off, 3), 3);
    printf("\n");

    /* Errors. */
    EXPECT_ERR("bad_in", sendfile(out, -1, NULL, 1), EBADF);
    EXPECT_ERR("bad_out", sendfile(-1, in, NULL, 1), EBADF);
    EXPECT_ERR("in_not_readable", sendfile(in, out, NULL, 1), EBADF);
    int ro = open(path_in(base, "dst"), O_RDONLY);
    EXPECT_ERR("out_not_writable", sendfile(ro, in, NULL, 1), EBADF);
    close(ro);
    off = -1;
    EXPECT_ERR("negative_offset", sendfile(out, in, &off, 1), EINVAL);
    EXPECT_ERR("offset_efault", syscall(SYS_sendfile, out, in, BAD_PTR, 1), EFAULT);
    int app = open(path_in(base, "dst"), O_WRONLY | O_APPEND);
    EXPECT_ERR("out_append", sendfile(app, in, NULL, 1), EINVAL);
    close(app);
    close(in);
    close(out);

    rm_rf(base);
    return finish();
}
