// FIFOs: mkfifo/mknod(S_IFIFO), a blocking open waits for the other side (here another thread),
// data flows and EOF follows the writer's close, O_NONBLOCK opens (reader: at once, reads EOF;
// writer without reader: ENXIO), O_RDWR never waits, and fstat reports the FIFO itself.
#include "common.h"
#include <pthread.h>

static char path[256];

static void *writer(void *arg)
{
    (void)arg;
    int fd = open(path, O_WRONLY);
    if (fd >= 0) {
        if (write(fd, "through the fifo", 16) != 16) return (void *)1;
        close(fd);
    }
    return NULL;
}

int main(void)
{
    mkdir("/tmp/vt_fifo", 0700);
    snprintf(path, sizeof path, "/tmp/vt_fifo/f");
    unlink(path);
    EXPECT_OK("mkfifo", mkfifo(path, 0600));
    struct stat st;
    EXPECT_OK("stat", stat(path, &st));
    CHECK("is_fifo", S_ISFIFO(st.st_mode));
    EXPECT_ERR("mkfifo_exists", mkfifo(path, 0600), EEXIST);

    EXPECT_ERR("nonblock_writer_no_reader", open(path, O_WRONLY | O_NONBLOCK), ENXIO);
    int r = open(path, O_RDONLY | O_NONBLOCK);
    CHECK("nonblock_reader_opens", r >= 0);
    char buf[64] = {0};
    EXPECT_EQ("read_without_writer_is_eof", read(r, buf, sizeof buf), 0);
    int w = open(path, O_WRONLY | O_NONBLOCK);
    CHECK("nonblock_writer_with_reader", w >= 0);
    EXPECT_EQ("write", write(w, "abc", 3), 3);
    EXPECT_EQ("read", read(r, buf, sizeof buf), 3);
    EXPECT_ERR("empty_with_writer_eagain", read(r, buf, sizeof buf), EAGAIN);
    struct stat fst;
    EXPECT_OK("fstat", fstat(r, &fst));
    CHECK("fstat_is_the_fifo", S_ISFIFO(fst.st_mode) && fst.st_ino == st.st_ino);
    close(w);
    close(r);

    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, writer, NULL) == 0);
    r = open(path, O_RDONLY);
    CHECK("blocking_reader_open", r >= 0);
    memset(buf, 0, sizeof buf);
    long n = 0, got;
    while ((got = read(r, buf + n, sizeof buf - 1 - n)) > 0) n += got;
    EXPECT_STR("data", buf, "through the fifo");
    EXPECT_EQ("eof_after_writer_closed", got, 0);
    void *ret;
    pthread_join(t, &ret);
    CHECK("writer_ok", ret == NULL);
    close(r);

    int rw = open(path, O_RDWR);
    CHECK("rdwr_does_not_wait", rw >= 0);
    EXPECT_EQ("rdwr_write", write(rw, "x", 1), 1);
    EXPECT_EQ("rdwr_read", read(rw, buf, 1), 1);
    close(rw);

    EXPECT_OK("mknod_fifo", mknod("/tmp/vt_fifo/g", S_IFIFO | 0600, 0));
    EXPECT_OK("unlink", unlink(path));
    unlink("/tmp/vt_fifo/g");
    rmdir("/tmp/vt_fifo");
    return finish();
}
