// veil-test: stdin=stdin_file.txt
// Standard input redirected from a regular file: reads move fd 0's offset, and reopening the
// file through /dev/stdin or /proc/self/fd/0 gives an open file description of its own (its
// own offset, starting at 0), as on Linux.
#include "common.h"

static void read_into(const char *label, int fd, size_t n)
{
    char buf[16] = {0};
    ssize_t r = read(fd, buf, n);
    printf("%s: %zd \"%s\"\n", label, r, r > 0 ? buf : "");
}

int main(void)
{
    read_into("fd0_first", 0, 3);
    int dev = open("/dev/stdin", O_RDONLY);
    CHECK("open_dev_stdin", dev >= 0);
    read_into("dev_stdin", dev, 3);
    read_into("fd0_after", 0, 2);
    int proc = open("/proc/self/fd/0", O_RDONLY);
    CHECK("open_proc_fd0", proc >= 0);
    read_into("proc_fd0", proc, 4);
    EXPECT_EQ("fd0_offset", lseek(0, 0, SEEK_CUR), 5);
    EXPECT_EQ("dev_stdin_offset", lseek(dev, 0, SEEK_CUR), 3);
    struct stat a, b;
    CHECK("same_file", fstat(0, &a) == 0 && fstat(dev, &b) == 0 && a.st_ino == b.st_ino &&
                           a.st_dev == b.st_dev);
    close(dev);
    close(proc);
    read_into("fd0_rest", 0, 10);
    return finish();
}
