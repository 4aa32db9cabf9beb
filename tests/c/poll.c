/* poll and ppoll over pipes, eventfds, timerfds and the standard streams:
 * readiness bits, POLLHUP/POLLERR/POLLNVAL, timeouts, argument errors. */
#include "common.h"
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <time.h>

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int poll1(int fd, short events, int timeout, short *revents)
{
    struct pollfd p = {.fd = fd, .events = events, .revents = 0x7777};
    int r = poll(&p, 1, timeout);
    *revents = p.revents;
    return r;
}

int main(void)
{
    int p[2];
    short rev;
    char buf[64];
    REQUIRE(pipe(p) == 0);

    EXPECT_EQ("empty read end, timeout 0", poll1(p[0], POLLIN, 0, &rev), 0);
    EXPECT_EQ("empty read end revents", rev, 0);
    EXPECT_EQ("write end ready", poll1(p[1], POLLOUT, 0, &rev), 1);
    EXPECT_EQ("write end revents", rev, POLLOUT);
    EXPECT_EQ("write end WRNORM", poll1(p[1], POLLWRNORM, 0, &rev), 1);
    EXPECT_EQ("write end WRNORM revents", rev, POLLWRNORM);
    EXPECT_EQ("read end never writable", poll1(p[0], POLLOUT, 0, &rev), 0);
    REQUIRE(write(p[1], "abc", 3) == 3);
    EXPECT_EQ("data ready", poll1(p[0], POLLIN, -1, &rev), 1);
    EXPECT_EQ("data revents", rev, POLLIN);
    EXPECT_EQ("RDNORM", poll1(p[0], POLLIN | POLLRDNORM | POLLPRI, 0, &rev), 1);
    EXPECT_EQ("RDNORM revents", rev, POLLIN | POLLRDNORM);
    EXPECT_EQ("no events requested", poll1(p[0], 0, 0, &rev), 0);

    /* Several fds, one negative (ignored), one closed (POLLNVAL). */
    int closed = dup(p[0]);
    REQUIRE(closed >= 0 && close(closed) == 0);
    struct pollfd set[4] = {
        {.fd = p[0], .events = POLLIN},
        {.fd = -1, .events = POLLIN, .revents = 0x55},
        {.fd = closed, .events = POLLIN},
        {.fd = p[1], .events = POLLIN},
    };
    EXPECT_EQ("mixed set count", poll(set, 4, 0), 2);
    EXPECT_EQ("mixed: data", set[0].revents, POLLIN);
    EXPECT_EQ("mixed: negative fd", set[1].revents, 0);
    EXPECT_EQ("mixed: closed fd", set[2].revents, POLLNVAL);
    EXPECT_EQ("mixed: POLLIN on write end", set[3].revents, 0);

    /* Hang-up: writer gone, data still there, then drained. */
    REQUIRE(close(p[1]) == 0);
    EXPECT_EQ("hup with data", poll1(p[0], POLLIN, 0, &rev), 1);
    EXPECT_EQ("hup with data revents", rev, POLLIN | POLLHUP);
    REQUIRE(read(p[0], buf, sizeof buf) == 3);
    EXPECT_EQ("hup drained", poll1(p[0], POLLIN, -1, &rev), 1);
    EXPECT_EQ("hup drained revents", rev, POLLHUP);
    EXPECT_EQ("hup even unrequested", poll1(p[0], 0, 0, &rev), 1);
    EXPECT_EQ("hup unrequested revents", rev, POLLHUP);
    close(p[0]);

    /* Error: reader gone. */
    REQUIRE(pipe(p) == 0);
    close(p[0]);
    EXPECT_EQ("no reader", poll1(p[1], POLLOUT, 0, &rev), 1);
    EXPECT_EQ("no reader revents", rev, POLLOUT | POLLERR);
    EXPECT_EQ("no reader, only POLLIN asked", poll1(p[1], POLLIN, 0, &rev), 1);
    EXPECT_EQ("no reader, POLLIN asked revents", rev, POLLERR);
    close(p[1]);

    /* Full pipe: not writable. */
    REQUIRE(pipe2(p, O_NONBLOCK) == 0);
    while (write(p[1], buf, sizeof buf) > 0) {
    }
    EXPECT_EQ("full pipe not writable", poll1(p[1], POLLOUT, 0, &rev), 0);
    close(p[0]);
    close(p[1]);

    /* Timeouts. */
    REQUIRE(pipe(p) == 0);
    long long t0 = now_ms();
    EXPECT_EQ("timeout 50ms", poll1(p[0], POLLIN, 50, &rev), 0);
    CHECK("waited about 50ms", now_ms() - t0 >= 45);
    t0 = now_ms();
    EXPECT_EQ("nfds 0 sleeps", poll(NULL, 0, 30), 0);
    CHECK("nfds 0 waited", now_ms() - t0 >= 25);

    /* eventfd and timerfd. */
    int efd = eventfd(0, EFD_NONBLOCK);
    REQUIRE(efd >= 0);
    EXPECT_EQ("eventfd 0: writable only", poll1(efd, POLLIN | POLLOUT, 0, &rev), 1);
    EXPECT_EQ("eventfd 0 revents", rev, POLLOUT);
    uint64_t one = 1;
    REQUIRE(write(efd, &one, 8) == 8);
    EXPECT_EQ("eventfd 1 revents count", poll1(efd, POLLIN | POLLOUT, 0, &rev), 1);
    EXPECT_EQ("eventfd 1 revents", rev, POLLIN | POLLOUT);

    int tfd = timerfd_create(CLOCK_MONOTONIC, 0);
    REQUIRE(tfd >= 0);
    EXPECT_EQ("unarmed timerfd", poll1(tfd, POLLIN, 0, &rev), 0);
    struct itimerspec its = {.it_value = {0, 40 * 1000000}};
    REQUIRE(timerfd_settime(tfd, 0, &its, NULL) == 0);
    EXPECT_EQ("armed timerfd not yet", poll1(tfd, POLLIN, 0, &rev), 0);
    t0 = now_ms();
    struct pollfd two[2] = {{.fd = p[0], .events = POLLIN}, {.fd = tfd, .events = POLLIN}};
    EXPECT_EQ("timerfd wakes poll -1", poll(two, 2, -1), 1);
    EXPECT_EQ("timerfd revents", two[1].revents, POLLIN);
    CHECK("timerfd waited", now_ms() - t0 >= 35);

    /* A write into a pipe watched together with an unready timer. */
    REQUIRE(write(p[1], "x", 1) == 1);
    EXPECT_EQ("pipe among others", poll(two, 2, -1), 2);

    /* Standard streams: stdout is writable, stdin (/dev/null) readable. */
    EXPECT_EQ("stdout writable", poll1(1, POLLOUT, 0, &rev), 1);
    EXPECT_EQ("stdout revents", rev & POLLOUT, POLLOUT);
    EXPECT_EQ("stdin readable", poll1(0, POLLIN, 0, &rev), 1);
    struct pollfd mixed[2] = {{.fd = 1, .events = POLLOUT}, {.fd = efd, .events = POLLIN}};
    EXPECT_EQ("stdout and eventfd", poll(mixed, 2, -1), 2);

    /* Errors. */
    struct rlimit rl;
    REQUIRE(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    EXPECT_ERR("nfds above RLIMIT_NOFILE", poll(set, rl.rlim_cur + 1, 0), EINVAL);
    EXPECT_ERR("bad array", poll(BAD_PTR, 1, 0), EFAULT);

    /* ppoll through the raw syscall: timeout written back, sigmask checks. */
    struct timespec ts = {0, 20 * 1000000};
    struct pollfd q = {.fd = tfd, .events = POLLIN};
    REQUIRE(read(tfd, &one, 8) == 8);
    EXPECT_EQ("ppoll times out", syscall(SYS_ppoll, &q, 1, &ts, NULL, 8), 0);
    CHECK("ppoll remaining zero", ts.tv_sec == 0 && ts.tv_nsec == 0);
    ts.tv_sec = 5;
    ts.tv_nsec = 0;
    q.fd = p[0];
    EXPECT_EQ("ppoll ready", syscall(SYS_ppoll, &q, 1, &ts, NULL, 8), 1);
    CHECK("ppoll remaining updated", ts.tv_sec >= 4 && ts.tv_sec <= 5 && (ts.tv_sec < 5 || ts.tv_nsec == 0));
    ts.tv_sec = 0;
    ts.tv_nsec = 1000000000;
    EXPECT_ERR("ppoll bad timespec", syscall(SYS_ppoll, &q, 1, &ts, NULL, 8), EINVAL);
    ts.tv_nsec = 0;
    sigset_t mask, old, after;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR1);
    EXPECT_ERR("ppoll sigsetsize 4", syscall(SYS_ppoll, &q, 1, &ts, &mask, 4), EINVAL);
    EXPECT_OK("ppoll null mask any size", syscall(SYS_ppoll, &q, 1, &ts, NULL, 4));
    sigprocmask(SIG_SETMASK, NULL, &old);
    EXPECT_EQ("ppoll with mask", ppoll(&q, 1, NULL, &mask), 1);
    sigprocmask(SIG_SETMASK, NULL, &after);
    CHECK("ppoll restores the mask", sigismember(&after, SIGUSR1) == sigismember(&old, SIGUSR1));
    EXPECT_ERR("ppoll bad mask", syscall(SYS_ppoll, &q, 1, &ts, BAD_PTR, 8), EFAULT);

    close(tfd);
    close(efd);
    close(p[0]);
    close(p[1]);
    return finish();
}
