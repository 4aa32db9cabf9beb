// Output paths to stdout and stderr: raw write(1), writev, stdio with
// different buffering, large outputs, and ordering between them. stdio is
// flushed before every raw write (glibc and musl buffer differently).
#include "common.h"
#include <sys/uio.h>

int main(void)
{
    /* Raw writes first. */
    long r1 = write(1, "raw write\n", 10);
    struct iovec iov[3] = {{"writev ", 7}, {"in three ", 9}, {"parts\n", 6}};
    long r2 = writev(1, iov, 3);
    long r3 = write(1, "", 0);
    long r4 = write(2, "to stderr\n", 10);
    EXPECT_EQ("write_stdout", r1, 10);
    EXPECT_EQ("writev_stdout", r2, 22);
    EXPECT_EQ("write_zero", r3, 0);
    EXPECT_EQ("write_stderr", r4, 10);
    fflush(stdout);

    /* stdio, then flush, then raw again: order is preserved. */
    printf("printf line %d\n", 1);
    fputs("fputs line\n", stdout);
    putchar('c');
    putchar('\n');
    fflush(stdout);
    write(1, "after flush\n", 12);

    /* A large output: 1000 numbered lines via stdio ... */
    for (int i = 0; i < 1000; i++) printf("line %04d %s\n", i, "abcdefghijklmnopqrstuvwxyz");
    fflush(stdout);
    /* ... and a single 256 KiB raw write (more than a pipe buffer). */
    static char big[256 * 1024];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (i % 64 == 63) ? '\n' : (char)('A' + i % 26);
    size_t done = 0;
    while (done < sizeof big) {
        ssize_t n = write(1, big + done, sizeof big - done);
        if (n <= 0) break;
        done += (size_t)n;
    }
    printf("big_write_done: %zu\n", done);
    fflush(stdout);
    /* Unbuffered stdout (setvbuf on a freshly flushed stream). */
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("unbuffered ");
    write(1, "interleaved ", 12);
    printf("ok\n");
    return finish();
}
