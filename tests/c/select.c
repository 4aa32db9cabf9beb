/* select and pselect6: fd_set results, hang-up and errors, timeout updates. */
#include "common.h"
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/time.h>
#include <time.h>

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int main(void)
{
    int p[2];
    char buf[16];
    fd_set r, w, e;
    struct timeval tv;
    REQUIRE(pipe(p) == 0);
    int n = (p[0] > p[1] ? p[0] : p[1]) + 1;

    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_ZERO(&e);
    FD_SET(p[0], &r);
    FD_SET(p[1], &w);
    FD_SET(p[0], &e);
    FD_SET(p[1], &e);
    tv.tv_sec = 0;
    tv.tv_usec = 0;
    EXPECT_EQ("write end only", select(n, &r, &w, &e, &tv), 1);
    CHECK("read end not set", !FD_ISSET(p[0], &r));
    CHECK("write end set", FD_ISSET(p[1], &w));
    CHECK("no exceptions", !FD_ISSET(p[0], &e) && !FD_ISSET(p[1], &e));

    REQUIRE(write(p[1], "hi", 2) == 2);
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_SET(p[0], &r);
    FD_SET(p[1], &w);
    FD_SET(p[1], &r);
    EXPECT_EQ("both ready, null timeout", select(n, &r, &w, NULL, NULL), 2);
    CHECK("read end readable", FD_ISSET(p[0], &r));
    CHECK("write end not readable", !FD_ISSET(p[1], &r));

    /* Timeout: nothing ready, remaining time is written back as zero. */
    REQUIRE(read(p[0], buf, sizeof buf) == 2);
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    tv.tv_sec = 0;
    tv.tv_usec = 40000;
    long long t0 = now_ms();
    EXPECT_EQ("times out", syscall(SYS_select, n, &r, NULL, NULL, &tv), 0);
    CHECK("waited", now_ms() - t0 >= 35);
    CHECK("set cleared", !FD_ISSET(p[0], &r));
    CHECK("remaining zero", tv.tv_sec == 0 && tv.tv_usec == 0);

    /* Ready at once: most of the timeout remains. */
    REQUIRE(write(p[1], "x", 1) == 1);
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    tv.tv_sec = 5;
    tv.tv_usec = 0;
    EXPECT_EQ("ready with 5s timeout", syscall(SYS_select, n, &r, NULL, NULL, &tv), 1);
    CHECK("remaining updated", tv.tv_sec >= 4 && tv.tv_sec <= 5 && (tv.tv_sec < 5 || tv.tv_usec == 0));
    /* tv_usec of a second or more is normalised, not refused. */
    tv.tv_sec = 0;
    tv.tv_usec = 1500000;
    FD_SET(p[0], &r);
    EXPECT_EQ("tv_usec 1.5s accepted", syscall(SYS_select, n, &r, NULL, NULL, &tv), 1);
    tv.tv_usec = -1;
    EXPECT_ERR("negative tv_usec", syscall(SYS_select, n, &r, NULL, NULL, &tv), EINVAL);
    tv.tv_sec = -1;
    tv.tv_usec = 0;
    EXPECT_ERR("negative tv_sec", syscall(SYS_select, n, &r, NULL, NULL, &tv), EINVAL);
    EXPECT_ERR("negative nfds", select(-1, NULL, NULL, NULL, NULL), EINVAL);

    /* A closed fd in a set. */
    int closed = dup(p[0]);
    REQUIRE(closed >= 0 && close(closed) == 0);
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    FD_SET(closed, &r);
    tv.tv_sec = 0;
    tv.tv_usec = 0;
    EXPECT_ERR("closed fd", select(closed + 1, &r, NULL, NULL, &tv), EBADF);
    /* ... ignored when beyond nfds. */
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    EXPECT_EQ("beyond nfds ignored", select(p[0] + 1, &r, NULL, NULL, &tv), 1);
    EXPECT_ERR("bad set", select(n, BAD_PTR, NULL, NULL, &tv), EFAULT);

    /* Hang-up counts as readable; a reader-less write end as writable. */
    REQUIRE(close(p[1]) == 0);
    REQUIRE(read(p[0], buf, sizeof buf) == 1);
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    EXPECT_EQ("hup readable", select(p[0] + 1, &r, NULL, NULL, NULL), 1);
    close(p[0]);
    REQUIRE(pipe(p) == 0);
    close(p[0]);
    FD_ZERO(&w);
    FD_SET(p[1], &w);
    EXPECT_EQ("no reader writable", select(p[1] + 1, NULL, &w, NULL, NULL), 1);
    close(p[1]);

    /* eventfd, stdin/stdout, nothing but a timeout. */
    int efd = eventfd(1, 0);
    REQUIRE(efd >= 0);
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_SET(efd, &r);
    FD_SET(0, &r);
    FD_SET(1, &w);
    EXPECT_EQ("eventfd + stdio", select(efd + 1, &r, &w, NULL, NULL), 3);
    t0 = now_ms();
    tv.tv_sec = 0;
    tv.tv_usec = 30000;
    EXPECT_EQ("sleep-only select", select(0, NULL, NULL, NULL, &tv), 0);
    CHECK("sleep-only waited", now_ms() - t0 >= 25);

    /* pselect6 */
    struct timespec ts = {0, 0};
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR2);
    FD_ZERO(&r);
    FD_SET(efd, &r);
    EXPECT_EQ("pselect with mask", pselect(efd + 1, &r, NULL, NULL, &ts, &mask), 1);
    struct {
        const sigset_t *ss;
        size_t len;
    } arg = {&mask, 4};
    EXPECT_ERR("pselect6 sigset size 4", syscall(SYS_pselect6, efd + 1, &r, NULL, NULL, &ts, &arg), EINVAL);
    arg.ss = NULL;
    EXPECT_EQ("pselect6 null set any size", syscall(SYS_pselect6, efd + 1, &r, NULL, NULL, &ts, &arg), 1);
    ts.tv_nsec = 1000000000;
    EXPECT_ERR("pselect6 bad timespec", syscall(SYS_pselect6, efd + 1, &r, NULL, NULL, &ts, NULL), EINVAL);
    uint64_t v;
    REQUIRE(read(efd, &v, 8) == 8);
    ts.tv_sec = 0;
    ts.tv_nsec = 20000000;
    FD_ZERO(&r);
    FD_SET(efd, &r);
    EXPECT_EQ("pselect6 times out", syscall(SYS_pselect6, efd + 1, &r, NULL, NULL, &ts, NULL), 0);
    CHECK("pselect6 remaining zero", ts.tv_sec == 0 && ts.tv_nsec == 0);
    close(efd);
    return finish();
}
