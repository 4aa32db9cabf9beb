/* timerfd: one-shot and periodic timers, expiration counts, absolute times,
 * gettime, and argument errors. */
#include "common.h"
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static long long ns(struct timespec t) { return t.tv_sec * 1000000000LL + t.tv_nsec; }

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

int main(void)
{
    uint64_t v = 0;
    struct itimerspec its, old;
    EXPECT_ERR("bad clock", timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0), EINVAL);
    EXPECT_ERR("bad clock -1", timerfd_create(-1, 0), EINVAL);
    EXPECT_ERR("bad flags", timerfd_create(CLOCK_MONOTONIC, 1), EINVAL);
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    REQUIRE(fd >= 0);
    CHECK("cloexec", fcntl(fd, F_GETFD) == FD_CLOEXEC);
    int rt = timerfd_create(CLOCK_REALTIME, 0);
    REQUIRE(rt >= 0);
    int bt = timerfd_create(CLOCK_BOOTTIME, 0);
    REQUIRE(bt >= 0);
    close(bt);

    memset(&its, 0x55, sizeof its);
    EXPECT_OK("gettime unarmed", timerfd_gettime(fd, &its));
    CHECK("unarmed is zero", ns(its.it_value) == 0 && ns(its.it_interval) == 0);
    EXPECT_ERR("read unarmed", read(fd, &v, 8), EAGAIN);
    EXPECT_ERR("read 4 bytes", read(fd, &v, 4), EINVAL);
    EXPECT_ERR("write", write(fd, &v, 8), EINVAL);

    /* errors */
    int efd = eventfd(0, 0);
    memset(&its, 0, sizeof its);
    EXPECT_ERR("settime on eventfd", timerfd_settime(efd, 0, &its, NULL), EINVAL);
    EXPECT_ERR("gettime on eventfd", timerfd_gettime(efd, &its), EINVAL);
    EXPECT_ERR("settime bad fd", timerfd_settime(999, 0, &its, NULL), EBADF);
    EXPECT_ERR("settime bad flags", timerfd_settime(fd, 4, &its, NULL), EINVAL);
    its.it_value.tv_nsec = 1000000000;
    EXPECT_ERR("settime bad nsec", timerfd_settime(fd, 0, &its, NULL), EINVAL);
    its.it_value.tv_nsec = 0;
    its.it_interval.tv_sec = -1;
    EXPECT_ERR("settime negative interval", timerfd_settime(fd, 0, &its, NULL), EINVAL);
    EXPECT_ERR("settime bad pointer", timerfd_settime(fd, 0, BAD_PTR, NULL), EFAULT);
    EXPECT_ERR("gettime bad pointer", timerfd_gettime(fd, BAD_PTR), EFAULT);
    close(efd);

    /* one-shot */
    memset(&its, 0, sizeof its);
    its.it_value.tv_nsec = 60000000;
    long long t0 = now_ms();
    EXPECT_OK("arm 60ms", timerfd_settime(fd, 0, &its, NULL));
    EXPECT_ERR("not yet", read(fd, &v, 8), EAGAIN);
    EXPECT_OK("gettime armed", timerfd_gettime(fd, &its));
    CHECK("remaining in (0, 60ms]", ns(its.it_value) > 0 && ns(its.it_value) <= 60000000);
    CHECK("no interval", ns(its.it_interval) == 0);
    REQUIRE(fcntl(fd, F_SETFL, 0) == 0);
    EXPECT_EQ("blocking read", read(fd, &v, 8), 8);
    EXPECT_EQ("one expiration", v, 1);
    CHECK("waited 60ms", now_ms() - t0 >= 55);
    REQUIRE(fcntl(fd, F_SETFL, O_NONBLOCK) == 0);
    EXPECT_ERR("expired once", read(fd, &v, 8), EAGAIN);
    EXPECT_OK("gettime expired", timerfd_gettime(fd, &its));
    CHECK("expired is zero", ns(its.it_value) == 0 && ns(its.it_interval) == 0);

    /* periodic: 10ms period, read after at least 100ms */
    its.it_value.tv_sec = 0;
    its.it_value.tv_nsec = 10000000;
    its.it_interval = its.it_value;
    EXPECT_OK("arm periodic", timerfd_settime(fd, 0, &its, NULL));
    sleep_ms(105);
    EXPECT_EQ("periodic read", read(fd, &v, 8), 8);
    CHECK("at least 10 expirations", v >= 10);
    EXPECT_OK("gettime periodic", timerfd_gettime(fd, &its));
    CHECK("periodic remaining <= 10ms", ns(its.it_value) <= 10000000);
    CHECK("periodic interval", ns(its.it_interval) == 10000000);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    EXPECT_EQ("poll periodic", poll(&p, 1, 1000), 1);
    REQUIRE(read(fd, &v, 8) == 8);
    CHECK("some expirations", v >= 1);

    /* settime returns the old setting; disarm */
    its.it_value.tv_sec = 10;
    its.it_value.tv_nsec = 0;
    its.it_interval.tv_sec = 3;
    its.it_interval.tv_nsec = 0;
    EXPECT_OK("arm 10s", timerfd_settime(fd, 0, &its, &old));
    CHECK("old interval", ns(old.it_interval) == 10000000);
    memset(&its, 0, sizeof its);
    EXPECT_OK("disarm", timerfd_settime(fd, 0, &its, &old));
    CHECK("old value near 10s", old.it_value.tv_sec >= 9 && old.it_value.tv_sec <= 10);
    CHECK("old interval 3s", ns(old.it_interval) == 3000000000LL);
    EXPECT_OK("gettime disarmed", timerfd_gettime(fd, &its));
    CHECK("disarmed", ns(its.it_value) == 0 && ns(its.it_interval) == 0);
    EXPECT_ERR("disarmed read", read(fd, &v, 8), EAGAIN);

    /* absolute time in the past with an interval: overruns are counted */
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    its.it_value.tv_sec = now.tv_sec - 3;
    its.it_value.tv_nsec = now.tv_nsec;
    its.it_interval.tv_sec = 1;
    its.it_interval.tv_nsec = 0;
    if (its.it_value.tv_nsec >= 500000000) {
        its.it_value.tv_nsec -= 500000000;
    } else {
        its.it_value.tv_sec -= 1;
        its.it_value.tv_nsec += 500000000;
    }
    /* 3.5 s ago, 1 s period: expired at -3.5, -2.5, -1.5, -0.5 */
    EXPECT_OK("abstime in the past", timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL));
    EXPECT_EQ("overrun read", read(fd, &v, 8), 8);
    EXPECT_EQ("overruns", v, 4);
    EXPECT_OK("gettime abs", timerfd_gettime(fd, &its));
    CHECK("next within the period", ns(its.it_value) > 0 && ns(its.it_value) <= 1000000000);

    /* absolute time in the future, on the realtime clock */
    clock_gettime(CLOCK_REALTIME, &now);
    its.it_interval.tv_sec = 0;
    its.it_value = now;
    its.it_value.tv_nsec += 40000000;
    if (its.it_value.tv_nsec >= 1000000000) {
        its.it_value.tv_sec++;
        its.it_value.tv_nsec -= 1000000000;
    }
    t0 = now_ms();
    EXPECT_OK("abstime realtime", timerfd_settime(rt, TFD_TIMER_ABSTIME, &its, NULL));
    EXPECT_EQ("realtime read", read(rt, &v, 8), 8);
    EXPECT_EQ("realtime expirations", v, 1);
    CHECK("realtime waited", now_ms() - t0 >= 30);

    /* re-arming resets the count */
    its.it_value.tv_sec = 0;
    its.it_value.tv_nsec = 1;
    its.it_interval.tv_nsec = 0;
    REQUIRE(timerfd_settime(fd, 0, &its, NULL) == 0);
    sleep_ms(5);
    its.it_value.tv_sec = 10;
    REQUIRE(timerfd_settime(fd, 0, &its, NULL) == 0);
    EXPECT_ERR("reset by settime", read(fd, &v, 8), EAGAIN);

    close(fd);
    close(rt);
    return finish();
}
