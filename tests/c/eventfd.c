/* eventfd: counter and semaphore modes, blocking and non-blocking, limits. */
#include "common.h"
#include <poll.h>
#include <sys/eventfd.h>

int main(void)
{
    uint64_t v = 0;
    EXPECT_ERR("bad flags", eventfd(0, 4), EINVAL);
    int fd = eventfd(5, 0);
    REQUIRE(fd >= 0);
    CHECK("O_RDWR", (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR);
    EXPECT_EQ("read initial", read(fd, &v, 8), 8);
    EXPECT_EQ("value", v, 5);
    REQUIRE(fcntl(fd, F_SETFL, O_NONBLOCK) == 0);
    EXPECT_ERR("empty non-blocking", read(fd, &v, 8), EAGAIN);
    v = 3;
    EXPECT_EQ("write 3", write(fd, &v, 8), 8);
    v = 4;
    EXPECT_EQ("write 4", write(fd, &v, 8), 8);
    v = 0;
    EXPECT_EQ("write 0", write(fd, &v, 8), 8);
    EXPECT_EQ("read sum", read(fd, &v, 8), 8);
    EXPECT_EQ("sum", v, 7);
    char big[16];
    uint32_t small = 1;
    EXPECT_ERR("read 4 bytes", read(fd, &small, 4), EINVAL);
    EXPECT_ERR("write 4 bytes", write(fd, &small, 4), EINVAL);
    v = 9;
    REQUIRE(write(fd, &v, 8) == 8);
    EXPECT_EQ("read 16-byte buffer", read(fd, big, sizeof big), 8);
    memcpy(&v, big, 8);
    EXPECT_EQ("value in big buffer", v, 9);
    v = 2;
    memcpy(big, &v, 8);
    EXPECT_ERR("write 16 bytes", write(fd, big, sizeof big), EINVAL);
    EXPECT_ERR("bad buffer", read(fd, BAD_PTR, 8), EFAULT);

    /* Limits */
    v = 0xffffffffffffffffULL;
    EXPECT_ERR("write ULLONG_MAX", write(fd, &v, 8), EINVAL);
    v = 0xfffffffffffffffeULL;
    EXPECT_EQ("write max", write(fd, &v, 8), 8);
    v = 1;
    EXPECT_ERR("overflow would block", write(fd, &v, 8), EAGAIN);
    v = 0;
    EXPECT_EQ("write 0 at max", write(fd, &v, 8), 8);
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};
    EXPECT_EQ("poll at max", poll(&p, 1, 0), 1);
    EXPECT_EQ("readable, not writable", p.revents, POLLIN);
    EXPECT_EQ("read max", read(fd, &v, 8), 8);
    CHECK("max value", v == 0xfffffffffffffffeULL);
    close(fd);

    /* Semaphore mode */
    fd = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC);
    REQUIRE(fd >= 0);
    CHECK("cloexec", fcntl(fd, F_GETFD) == FD_CLOEXEC);
    CHECK("nonblock", fcntl(fd, F_GETFL) & O_NONBLOCK);
    for (int i = 0; i < 3; i++) {
        v = 0;
        EXPECT_EQ("semaphore read", read(fd, &v, 8), 8);
        EXPECT_EQ("semaphore value", v, 1);
    }
    EXPECT_ERR("semaphore empty", read(fd, &v, 8), EAGAIN);
    v = 2;
    REQUIRE(write(fd, &v, 8) == 8);
    EXPECT_EQ("semaphore after write", read(fd, &v, 8), 8);
    EXPECT_EQ("semaphore value 1", v, 1);
    close(fd);

    /* The raw eventfd syscall (no flags), blocking read with a count ready. */
    fd = syscall(SYS_eventfd, 2);
    REQUIRE(fd >= 0);
    EXPECT_EQ("blocking read", read(fd, &v, 8), 8);
    EXPECT_EQ("blocking value", v, 2);
    char link[64] = {0};
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    REQUIRE(readlink(path, link, sizeof link - 1) > 0);
    EXPECT_STR("proc link", link, "anon_inode:[eventfd]");
    close(fd);
    return finish();
}
