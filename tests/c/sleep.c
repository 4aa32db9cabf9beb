// nanosleep/clock_nanosleep: sleeps last at least the requested time
// (checked against CLOCK_MONOTONIC, booleans only), TIMER_ABSTIME,
// zero sleeps, and errors.
#include "common.h"
#include <time.h>

static long long now_ns(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

#define MS 1000000LL

int main(void)
{
    struct timespec req = {0, 10 * MS}, rem = {99, 99};
    long long t0 = now_ns(CLOCK_MONOTONIC);
    EXPECT_OK("nanosleep_10ms", nanosleep(&req, &rem));
    long long dt = now_ns(CLOCK_MONOTONIC) - t0;
    CHECK("slept_at_least_10ms", dt >= 10 * MS);
    CHECK("slept_less_than_2s", dt < 2000 * MS);

    t0 = now_ns(CLOCK_MONOTONIC);
    EXPECT_OK("raw_nanosleep_20ms", syscall(SYS_nanosleep, &(struct timespec){0, 20 * MS}, NULL));
    CHECK("raw_slept_at_least_20ms", now_ns(CLOCK_MONOTONIC) - t0 >= 20 * MS);

    /* clock_nanosleep returns the error number instead of setting errno. */
    t0 = now_ns(CLOCK_MONOTONIC);
    EXPECT_EQ("clock_nanosleep_rel", clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL), 0);
    CHECK("clock_nanosleep_rel_elapsed", now_ns(CLOCK_MONOTONIC) - t0 >= 10 * MS);
    t0 = now_ns(CLOCK_REALTIME);
    EXPECT_EQ("clock_nanosleep_realtime", clock_nanosleep(CLOCK_REALTIME, 0, &req, NULL), 0);
    CHECK("clock_nanosleep_realtime_elapsed", now_ns(CLOCK_REALTIME) - t0 >= 9 * MS);

    /* Absolute deadline 15 ms from now. */
    long long deadline = now_ns(CLOCK_MONOTONIC) + 15 * MS;
    struct timespec abs_ts = {(time_t)(deadline / 1000000000LL), (long)(deadline % 1000000000LL)};
    EXPECT_EQ("clock_nanosleep_abs", clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs_ts, NULL), 0);
    CHECK("abs_deadline_reached", now_ns(CLOCK_MONOTONIC) >= deadline);
    /* A deadline in the past returns at once. */
    struct timespec past = {1, 0};
    t0 = now_ns(CLOCK_MONOTONIC);
    EXPECT_EQ("clock_nanosleep_abs_past", clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &past, NULL), 0);
    CHECK("abs_past_immediate", now_ns(CLOCK_MONOTONIC) - t0 < 500 * MS);
    /* Zero-length sleeps. */
    EXPECT_OK("nanosleep_zero", nanosleep(&(struct timespec){0, 0}, NULL));

    /* Errors. */
    EXPECT_ERR("nsec_too_big", nanosleep(&(struct timespec){0, 1000000000}, NULL), EINVAL);
    EXPECT_ERR("nsec_negative", nanosleep(&(struct timespec){0, -1}, NULL), EINVAL);
    EXPECT_ERR("sec_negative", nanosleep(&(struct timespec){-1, 0}, NULL), EINVAL);
    EXPECT_ERR("req_efault", syscall(SYS_nanosleep, BAD_PTR, NULL), EFAULT);
    EXPECT_STR("clock_nanosleep_bad_clock", errname(clock_nanosleep(1234, 0, &req, NULL)), "EINVAL");
    EXPECT_STR("clock_nanosleep_thread_cputime",
               errname(clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &req, NULL)), "EINVAL");
    EXPECT_STR("clock_nanosleep_bad_nsec",
               errname(clock_nanosleep(CLOCK_MONOTONIC, 0, &(struct timespec){0, -5}, NULL)), "EINVAL");
    return finish();
}
