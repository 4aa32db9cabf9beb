// Pipe capacity (F_GETPIPE_SZ / F_SETPIPE_SZ rounding, EBUSY when the data would not fit,
// EBADF on a non-pipe) and packet mode (pipe2 O_DIRECT: each write is read back as one
// packet; a short read drops the rest of the packet).
#include "common.h"

int main(void)
{
    int p[2];
    REQUIRE(pipe(p) == 0);
    EXPECT_EQ("default_size", fcntl(p[0], F_GETPIPE_SZ), 65536);
    EXPECT_EQ("set_rounds_up", fcntl(p[1], F_SETPIPE_SZ, 5000), 8192);
    EXPECT_EQ("get_after_set", fcntl(p[0], F_GETPIPE_SZ), 8192);
    EXPECT_EQ("set_small", fcntl(p[1], F_SETPIPE_SZ, 1), 4096);
    static char buf[16384];
    memset(buf, 'x', sizeof buf);
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    EXPECT_EQ("fill_one_page", write(p[1], buf, sizeof buf), 4096);
    EXPECT_EQ("grow_with_data", fcntl(p[1], F_SETPIPE_SZ, 16384), 16384);
    EXPECT_EQ("more_fits", write(p[1], buf, 8192), 8192);
    EXPECT_ERR("shrink_busy", fcntl(p[1], F_SETPIPE_SZ, 4096), EBUSY);
    int null_fd = open("/dev/null", O_RDONLY);
    EXPECT_ERR("not_a_pipe", fcntl(null_fd, F_GETPIPE_SZ), EBADF);
    close(p[0]);
    close(p[1]);

    EXPECT_OK("pipe2_direct", pipe2(p, O_DIRECT));
    CHECK("getfl_shows_direct", (fcntl(p[1], F_GETFL) & O_DIRECT) != 0);
    EXPECT_EQ("packet1", write(p[1], "first", 5), 5);
    EXPECT_EQ("packet2", write(p[1], "second", 6), 6);
    char r[64] = {0};
    EXPECT_EQ("read_one_packet", read(p[0], r, sizeof r), 5);
    EXPECT_STR("packet_data", r, "first");
    memset(r, 0, sizeof r);
    EXPECT_EQ("short_read", read(p[0], r, 3), 3);
    EXPECT_STR("short_data", r, "sec");
    EXPECT_EQ("write_after", write(p[1], "third", 5), 5);
    memset(r, 0, sizeof r);
    EXPECT_EQ("rest_was_dropped", read(p[0], r, sizeof r), 5);
    EXPECT_STR("next_packet", r, "third");
    return finish();
}
