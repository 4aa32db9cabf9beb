// Pipes within one process: data order, EOF once the writer is closed, O_NONBLOCK (EAGAIN on an
// empty or full pipe), PIPE_BUF atomicity when full, EPIPE with SIGPIPE ignored, FIONREAD,
// fstat type, pipe2 flags, and EFAULT/EINVAL.
#include "common.h"
#include <signal.h>
#include <sys/ioctl.h>

int main(void)
{
    int p[2];
    char buf[128];
    EXPECT_OK("pipe", pipe(p));
    EXPECT_EQ("write", write(p[1], "hello", 5), 5);
    EXPECT_EQ("write2", write(p[1], " world", 6), 6);
    int avail = -1;
    EXPECT_OK("fionread", ioctl(p[0], FIONREAD, &avail));
    EXPECT_EQ("fionread_value", avail, 11);
    memset(buf, 0, sizeof buf);
    EXPECT_EQ("read_partial", read(p[0], buf, 4), 4);
    EXPECT_STR("read_partial_data", buf, "hell");
    memset(buf, 0, sizeof buf);
    EXPECT_EQ("read_rest", read(p[0], buf, sizeof buf), 7);
    EXPECT_STR("read_rest_data", buf, "o world");
    struct stat st;
    EXPECT_OK("fstat", fstat(p[0], &st));
    CHECK("is_fifo", S_ISFIFO(st.st_mode));
    EXPECT_ERR("lseek", lseek(p[0], 0, SEEK_SET), ESPIPE);
    EXPECT_ERR("pread", pread(p[0], buf, 1, 0), ESPIPE);
    EXPECT_ERR("write_read_end", write(p[0], "x", 1), EBADF);
    EXPECT_ERR("read_write_end", read(p[1], buf, 1), EBADF);
    EXPECT_OK("close_writer", close(p[1]));
    EXPECT_EQ("eof", read(p[0], buf, sizeof buf), 0);
    EXPECT_OK("close_reader", close(p[0]));

    EXPECT_OK("pipe2_nonblock", pipe2(p, O_NONBLOCK | O_CLOEXEC));
    EXPECT_EQ("cloexec", fcntl(p[0], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
    EXPECT_EQ("nonblock_flag", fcntl(p[1], F_GETFL) & (O_NONBLOCK | O_ACCMODE), O_NONBLOCK | O_WRONLY);
    EXPECT_ERR("empty_nonblock", read(p[0], buf, 1), EAGAIN);
    static char big[70000];
    memset(big, 'x', sizeof big);
    long total = 0, n;
    while ((n = write(p[1], big, sizeof big)) > 0) total += n;
    EXPECT_EQ("fill_capacity", total, 65536);
    EXPECT_ERR("full_nonblock", write(p[1], "y", 1), EAGAIN);
    /* Space is counted in pages: a partly read page frees nothing, a fully read one a slot. */
    EXPECT_EQ("drain_some", read(p[0], big, 100), 100);
    EXPECT_ERR("partly_read_page_frees_nothing", write(p[1], big, 100), EAGAIN);
    EXPECT_EQ("drain_page", read(p[0], big, 4096 - 100), 4096 - 100);
    EXPECT_EQ("big_write_is_partial", write(p[1], big, 4097), 4096);
    EXPECT_ERR("full_again", write(p[1], big, 1), EAGAIN);
    close(p[0]);
    close(p[1]);

    /* Small writes share a page: 100 + 100 bytes use one slot, and a large write's sub-page
     * remainder joins that page too. */
    EXPECT_OK("pipe_merge", pipe2(p, O_NONBLOCK));
    EXPECT_EQ("small1", write(p[1], big, 100), 100);
    EXPECT_EQ("small2", write(p[1], big, 100), 100);
    total = 0;
    while ((n = write(p[1], big, sizeof big)) > 0) total += n;
    EXPECT_EQ("fill_after_merge", total, 15 * 4096 + sizeof big % 4096);
    signal(SIGPIPE, SIG_IGN);
    close(p[0]);
    EXPECT_ERR("epipe", write(p[1], "z", 1), EPIPE);
    close(p[1]);

    /* Reopening a pipe end through /proc/self/fd gives another end of the same pipe. */
    EXPECT_OK("pipe_reopen", pipe(p));
    char proc_path[64];
    snprintf(proc_path, sizeof proc_path, "/proc/self/fd/%d", p[1]);
    int again = open(proc_path, O_WRONLY);
    CHECK("reopen_via_proc", again >= 0);
    EXPECT_EQ("write_reopened", write(again, "r", 1), 1);
    EXPECT_EQ("read_original", read(p[0], buf, sizeof buf), 1);
    close(again);
    close(p[0]);
    close(p[1]);

    EXPECT_ERR("bad_flags", pipe2(p, 0x4), EINVAL);
    EXPECT_ERR("efault", pipe((int *)BAD_PTR), EFAULT);
    return finish();
}
