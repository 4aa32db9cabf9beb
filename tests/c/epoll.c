/* epoll: epoll_ctl errors, level- and edge-triggered reports, EPOLLONESHOT,
 * registrations following open file descriptions, nested sets, waits. */
#include "common.h"
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int add(int ep, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event ev = {.events = events, .data.u64 = data};
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int mod(int ep, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event ev = {.events = events, .data.u64 = data};
    return epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

static struct epoll_event evs[8];

static int wait0(int ep)
{
    memset(evs, 0, sizeof evs);
    return epoll_wait(ep, evs, 8, 0);
}

int main(void)
{
    struct epoll_event ev = {.events = EPOLLIN};
    char buf[64];
    int p[2];
    REQUIRE(pipe(p) == 0);

    CHECK("epoll_event is 12 bytes", sizeof(struct epoll_event) == 12);
    EXPECT_ERR("epoll_create(0)", syscall(SYS_epoll_create, 0), EINVAL);
    EXPECT_ERR("epoll_create1 bad flags", epoll_create1(1), EINVAL);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    REQUIRE(ep >= 0);
    CHECK("cloexec", fcntl(ep, F_GETFD) == FD_CLOEXEC);
    int ep_old = syscall(SYS_epoll_create, 1);
    REQUIRE(ep_old >= 0);

    /* epoll_ctl errors */
    const char *dir = scratch_dir("epoll");
    DEF_PATH(file, dir, "f");
    write_file(file, "x", 1);
    int reg = open(file, O_RDONLY);
    REQUIRE(reg >= 0);
    EXPECT_ERR("regular file", add(ep, reg, EPOLLIN, 0), EPERM);
    EXPECT_ERR("directory", add(ep, open(dir, O_RDONLY | O_DIRECTORY), EPOLLIN, 0), EPERM);
    EXPECT_ERR("itself", add(ep, ep, EPOLLIN, 0), EINVAL);
    EXPECT_ERR("not an epoll fd", add(p[0], p[1], EPOLLIN, 0), EINVAL);
    EXPECT_ERR("bad epfd", add(999, p[0], EPOLLIN, 0), EBADF);
    EXPECT_ERR("bad fd", add(ep, 999, EPOLLIN, 0), EBADF);
    EXPECT_ERR("bad event pointer", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], BAD_PTR), EFAULT);
    EXPECT_ERR("DEL ignores the pointer", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], BAD_PTR), ENOENT);
    EXPECT_ERR("MOD unknown", mod(ep, p[0], EPOLLIN, 0), ENOENT);
    EXPECT_ERR("DEL unknown", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], &ev), ENOENT);
    EXPECT_ERR("bad op", epoll_ctl(ep, 99, p[0], &ev), EINVAL);
    EXPECT_OK("ADD", add(ep, p[0], EPOLLIN, 1));
    EXPECT_ERR("ADD twice", add(ep, p[0], EPOLLIN, 1), EEXIST);
    EXPECT_ERR("MOD exclusive", mod(ep, p[0], EPOLLIN | EPOLLEXCLUSIVE, 1), EINVAL);
    EXPECT_ERR("exclusive + oneshot", add(ep, p[1], EPOLLOUT | EPOLLEXCLUSIVE | EPOLLONESHOT, 2), EINVAL);
    EXPECT_ERR("exclusive on an epoll fd", add(ep, ep_old, EPOLLIN | EPOLLEXCLUSIVE, 2), EINVAL);
    EXPECT_OK("ADD exclusive", add(ep, p[1], EPOLLOUT | EPOLLEXCLUSIVE, 2));
    EXPECT_ERR("MOD of an exclusive item", mod(ep, p[1], EPOLLOUT, 2), EINVAL);
    EXPECT_OK("DEL exclusive", epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL));
    /* A dup is a different (fd, description) key. */
    int d = dup(p[0]);
    EXPECT_OK("ADD dup", add(ep, d, EPOLLIN, 3));
    EXPECT_OK("DEL dup", epoll_ctl(ep, EPOLL_CTL_DEL, d, NULL));
    close(d);

    /* epoll_wait errors */
    EXPECT_ERR("maxevents 0", epoll_wait(ep, evs, 0, 0), EINVAL);
    EXPECT_ERR("maxevents -1", syscall(SYS_epoll_wait, ep, evs, -1, 0), EINVAL);
    EXPECT_ERR("wait on a pipe", epoll_wait(p[0], evs, 1, 0), EINVAL);
    EXPECT_ERR("wait on a bad fd", epoll_wait(999, evs, 1, 0), EBADF);
    EXPECT_ERR("kernel-space buffer", epoll_wait(ep, BAD_PTR, 1, 0), EFAULT);

    /* Level-triggered */
    EXPECT_EQ("LT nothing ready", wait0(ep), 0);
    REQUIRE(write(p[1], "abc", 3) == 3);
    EXPECT_EQ("LT ready", wait0(ep), 1);
    CHECK("LT event and data", evs[0].events == EPOLLIN && evs[0].data.u64 == 1);
    EXPECT_EQ("LT ready again", wait0(ep), 1);
    REQUIRE(read(p[0], buf, sizeof buf) == 3);
    EXPECT_EQ("LT drained", wait0(ep), 0);

    /* Edge-triggered */
    EXPECT_OK("MOD to ET", mod(ep, p[0], EPOLLIN | EPOLLET, 4));
    EXPECT_EQ("ET nothing", wait0(ep), 0);
    REQUIRE(write(p[1], "a", 1) == 1);
    EXPECT_EQ("ET edge", wait0(ep), 1);
    CHECK("ET data", evs[0].data.u64 == 4 && evs[0].events == EPOLLIN);
    EXPECT_EQ("ET no repeat", wait0(ep), 0);
    REQUIRE(write(p[1], "b", 1) == 1);
    EXPECT_EQ("ET new data", wait0(ep), 1);
    EXPECT_EQ("ET no repeat 2", wait0(ep), 0);
    EXPECT_OK("MOD re-reports", mod(ep, p[0], EPOLLIN | EPOLLET, 5));
    EXPECT_EQ("ET after MOD", wait0(ep), 1);
    REQUIRE(read(p[0], buf, sizeof buf) == 2);
    EXPECT_EQ("ET after drain", wait0(ep), 0);

    /* One-shot */
    EXPECT_OK("MOD to oneshot", mod(ep, p[0], EPOLLIN | EPOLLONESHOT, 6));
    REQUIRE(write(p[1], "c", 1) == 1);
    EXPECT_EQ("oneshot fires", wait0(ep), 1);
    EXPECT_EQ("oneshot disabled", wait0(ep), 0);
    REQUIRE(write(p[1], "d", 1) == 1);
    EXPECT_EQ("oneshot stays disabled", wait0(ep), 0);
    EXPECT_OK("oneshot re-arm", mod(ep, p[0], EPOLLIN | EPOLLONESHOT, 7));
    EXPECT_EQ("oneshot fires again", wait0(ep), 1);
    CHECK("oneshot data", evs[0].data.u64 == 7);
    REQUIRE(read(p[0], buf, sizeof buf) == 2);
    EXPECT_OK("back to LT", mod(ep, p[0], EPOLLIN, 8));

    /* EPOLLOUT, EPOLLHUP, EPOLLERR (always reported) */
    EXPECT_OK("ADD write end", add(ep, p[1], EPOLLOUT, 9));
    EXPECT_EQ("writable", wait0(ep), 1);
    CHECK("writable event", evs[0].events == EPOLLOUT && evs[0].data.u64 == 9);
    EXPECT_OK("MOD write end to nothing", mod(ep, p[1], 0, 9));
    EXPECT_EQ("no events asked", wait0(ep), 0);
    REQUIRE(write(p[1], "e", 1) == 1);
    int w2 = dup(p[1]);
    REQUIRE(close(p[1]) == 0);
    EXPECT_EQ("registration follows the description", wait0(ep), 1);
    EXPECT_ERR("DEL of the closed fd", epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL), EBADF);
    REQUIRE(close(w2) == 0);
    EXPECT_EQ("hangup", wait0(ep), 1);
    CHECK("hangup events", evs[0].events == (EPOLLIN | EPOLLHUP) && evs[0].data.u64 == 8);
    REQUIRE(read(p[0], buf, sizeof buf) == 1);
    EXPECT_EQ("hangup after drain", wait0(ep), 1);
    CHECK("hangup only", evs[0].events == EPOLLHUP);
    REQUIRE(close(p[0]) == 0);
    EXPECT_EQ("closed description leaves the set", wait0(ep), 0);

    REQUIRE(pipe(p) == 0);
    EXPECT_OK("ADD write end again", add(ep, p[1], EPOLLIN, 10));
    close(p[0]);
    EXPECT_EQ("reader gone", wait0(ep), 1);
    CHECK("EPOLLERR", evs[0].events == EPOLLERR);
    close(p[1]);

    /* eventfd + timerfd + several items, maxevents */
    int e1 = eventfd(1, EFD_NONBLOCK), e2 = eventfd(1, 0), e3 = eventfd(0, 0);
    REQUIRE(e1 >= 0 && e2 >= 0 && e3 >= 0);
    EXPECT_OK("ADD e1", add(ep, e1, EPOLLIN, 11));
    EXPECT_OK("ADD e2", add(ep, e2, EPOLLIN, 12));
    EXPECT_OK("ADD e3", add(ep, e3, EPOLLIN | EPOLLET, 13));
    EXPECT_EQ("two ready", wait0(ep), 2);
    memset(evs, 0, sizeof evs);
    EXPECT_EQ("maxevents 1", epoll_wait(ep, evs, 1, 0), 1);
    uint64_t one = 1, v;
    REQUIRE(write(e3, &one, 8) == 8);
    EXPECT_EQ("three ready", wait0(ep), 3);
    EXPECT_EQ("ET eventfd reported once", wait0(ep), 2);
    REQUIRE(write(e3, &one, 8) == 8);
    EXPECT_EQ("ET eventfd new write", wait0(ep), 3);
    REQUIRE(read(e1, &v, 8) == 8 && read(e2, &v, 8) == 8 && read(e3, &v, 8) == 8);
    EXPECT_EQ("all drained", wait0(ep), 0);

    int tfd = timerfd_create(CLOCK_MONOTONIC, 0);
    REQUIRE(tfd >= 0);
    EXPECT_OK("ADD timerfd", add(ep, tfd, EPOLLIN, 14));
    struct itimerspec its = {.it_value = {0, 40000000}};
    REQUIRE(timerfd_settime(tfd, 0, &its, NULL) == 0);
    long long t0 = now_ms();
    memset(evs, 0, sizeof evs);
    EXPECT_EQ("timerfd wakes epoll_wait -1", epoll_wait(ep, evs, 8, -1), 1);
    CHECK("timer event", evs[0].data.u64 == 14 && evs[0].events == EPOLLIN);
    CHECK("timer waited", now_ms() - t0 >= 35);
    REQUIRE(read(tfd, &v, 8) == 8);
    t0 = now_ms();
    EXPECT_EQ("timeout 50ms", epoll_wait(ep, evs, 8, 50), 0);
    CHECK("waited 50ms", now_ms() - t0 >= 45);

    /* Nested sets, and polling an epoll fd */
    int outer = epoll_create1(0);
    REQUIRE(outer >= 0);
    EXPECT_OK("nest", add(outer, ep, EPOLLIN, 20));
    EXPECT_ERR("loop", add(ep, outer, EPOLLIN, 21), ELOOP);
    EXPECT_EQ("inner idle", wait0(outer), 0);
    struct pollfd pf = {.fd = ep, .events = POLLIN};
    EXPECT_EQ("poll idle epoll fd", poll(&pf, 1, 0), 0);
    REQUIRE(write(e1, &one, 8) == 8);
    EXPECT_EQ("inner ready", wait0(outer), 1);
    CHECK("inner event", evs[0].data.u64 == 20 && evs[0].events == EPOLLIN);
    EXPECT_EQ("poll ready epoll fd", poll(&pf, 1, 0), 1);
    CHECK("epoll fd POLLIN", pf.revents == POLLIN);
    EXPECT_EQ("inner still reports", wait0(ep), 1);

    /* Host streams: stdout (a pipe) is writable; stdin (/dev/null) has no poll. */
    EXPECT_OK("ADD stdout", add(ep, 1, EPOLLOUT | EPOLLET, 30));
    EXPECT_ERR("ADD stdin", add(ep, 0, EPOLLIN, 31), EPERM);
    EXPECT_EQ("stdout ready", wait0(ep), 2);
    EXPECT_EQ("stdout edge reported once", wait0(ep), 1);
    EXPECT_OK("MOD stdout to LT", mod(ep, 1, EPOLLOUT, 30));
    EXPECT_EQ("stdout level", wait0(ep), 2);

    /* epoll_pwait / epoll_pwait2 */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR1);
    EXPECT_EQ("epoll_pwait", epoll_pwait(ep, evs, 8, 0, &mask), 2);
    EXPECT_ERR("epoll_pwait sigsetsize 4", syscall(SYS_epoll_pwait, ep, evs, 8, 0, &mask, 4), EINVAL);
    struct timespec ts = {0, 0};
    EXPECT_EQ("epoll_pwait2", syscall(441, ep, evs, 8, &ts, NULL, 8), 2);
    ts.tv_nsec = -1;
    EXPECT_ERR("epoll_pwait2 bad timespec", syscall(441, ep, evs, 8, &ts, NULL, 8), EINVAL);
    REQUIRE(read(e1, &v, 8) == 8);
    EXPECT_OK("DEL stdout", epoll_ctl(ep, EPOLL_CTL_DEL, 1, NULL));
    ts.tv_nsec = 30000000;
    t0 = now_ms();
    EXPECT_EQ("epoll_pwait2 timeout", syscall(441, ep, evs, 8, &ts, NULL, 8), 0);
    CHECK("epoll_pwait2 waited", now_ms() - t0 >= 25);

    close(outer);
    close(tfd);
    close(e1);
    close(e2);
    close(e3);
    close(ep);
    close(ep_old);
    close(reg);
    rm_rf(dir);
    return finish();
}
