// clock_gettime/clock_getres/gettimeofday/time, through libc (vDSO) and
// raw syscalls: monotonic clocks never go backwards, realtime is after
// 2020-01-01, resolutions are positive, clocks agree, and errors.
#include "common.h"
#include <sys/time.h>
#include <time.h>

#define Y2020 1577836800L

static long long ns(struct timespec t)
{
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void check_clock(const char *name, clockid_t id, int steady)
{
    char label[64];
    struct timespec a, b, c, res;
    int ok = clock_gettime(id, &a) == 0;
    ok &= syscall(SYS_clock_gettime, id, &b) == 0;
    ok &= clock_gettime(id, &c) == 0;
    snprintf(label, sizeof label, "%s_gettime", name);
    CHECK(label, ok);
    snprintf(label, sizeof label, "%s_nsec_in_range", name);
    CHECK(label, a.tv_nsec >= 0 && a.tv_nsec < 1000000000 && b.tv_nsec >= 0 && b.tv_nsec < 1000000000);
    if (steady) {
        /* (Realtime clocks may be stepped, so only steady clocks.) */
        snprintf(label, sizeof label, "%s_nondecreasing", name);
        CHECK(label, ns(a) <= ns(b) && ns(b) <= ns(c));
    }
    snprintf(label, sizeof label, "%s_getres", name);
    CHECK(label, clock_getres(id, &res) == 0 && ns(res) > 0 && ns(res) <= 10000000);
    snprintf(label, sizeof label, "%s_raw_getres", name);
    CHECK(label, syscall(SYS_clock_getres, id, &res) == 0 && ns(res) > 0);
}

int main(void)
{
    check_clock("realtime", CLOCK_REALTIME, 0);
    check_clock("monotonic", CLOCK_MONOTONIC, 1);
    check_clock("monotonic_raw", CLOCK_MONOTONIC_RAW, 1);
    check_clock("boottime", CLOCK_BOOTTIME, 1);
    check_clock("process_cputime", CLOCK_PROCESS_CPUTIME_ID, 1);
    check_clock("thread_cputime", CLOCK_THREAD_CPUTIME_ID, 1);
    check_clock("realtime_coarse", CLOCK_REALTIME_COARSE, 0);
    check_clock("monotonic_coarse", CLOCK_MONOTONIC_COARSE, 1);

    struct timespec rt, mono, boot;
    clock_gettime(CLOCK_REALTIME, &rt);
    CHECK("realtime_after_2020", rt.tv_sec > Y2020);
    CHECK("realtime_before_2100", rt.tv_sec < 4102444800L);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    clock_gettime(CLOCK_BOOTTIME, &boot);
    CHECK("boottime_ge_monotonic", ns(boot) >= ns(mono));
    CHECK("monotonic_positive", ns(mono) > 0);
    struct timespec res;
    clock_getres(CLOCK_REALTIME, &res);
    CHECK("realtime_res_fine", ns(res) <= 1000);

    /* Monotonic never goes backwards over many reads. */
    struct timespec prev, cur;
    clock_gettime(CLOCK_MONOTONIC, &prev);
    int mono_ok = 1;
    for (int i = 0; i < 100000; i++) {
        clock_gettime(CLOCK_MONOTONIC, &cur);
        mono_ok &= ns(cur) >= ns(prev);
        prev = cur;
    }
    CHECK("monotonic_100k_reads", mono_ok);

    /* gettimeofday and time agree with CLOCK_REALTIME. */
    struct timeval tv;
    EXPECT_OK("gettimeofday", gettimeofday(&tv, NULL));
    CHECK("gettimeofday_usec_range", tv.tv_usec >= 0 && tv.tv_usec < 1000000);
    clock_gettime(CLOCK_REALTIME, &rt);
    CHECK("gettimeofday_close_to_realtime", llabs((long long)tv.tv_sec - rt.tv_sec) <= 1);
    EXPECT_OK("raw_gettimeofday", syscall(SYS_gettimeofday, &tv, NULL));
    CHECK("raw_gettimeofday_close", llabs((long long)tv.tv_sec - rt.tv_sec) <= 1);
    time_t t1 = time(NULL), t2 = 0;
    time_t t3 = time(&t2);
    CHECK("time_close_to_realtime", llabs((long long)t1 - rt.tv_sec) <= 1);
    CHECK("time_stores_result", t3 == t2);
    long t4 = syscall(SYS_time, NULL);
    CHECK("raw_time_close", llabs((long long)t4 - rt.tv_sec) <= 1);

    /* Process CPU time grows with work. */
    struct timespec c0, c1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    volatile unsigned long x = 0;
    for (unsigned long i = 0; i < 20000000UL; i++) x += i;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    CHECK("cputime_grows", ns(c1) > ns(c0));

    /* Errors (raw: the vDSO would crash on a bad pointer). */
    EXPECT_ERR("gettime_bad_clock", syscall(SYS_clock_gettime, 1234, &cur), EINVAL);
    EXPECT_ERR("getres_bad_clock", syscall(SYS_clock_getres, -1000, &cur), EINVAL);
    EXPECT_ERR("libc_gettime_bad_clock", clock_gettime(1234, &cur), EINVAL);
    EXPECT_ERR("gettime_efault", syscall(SYS_clock_gettime, CLOCK_REALTIME, BAD_PTR), EFAULT);
    EXPECT_ERR("gettimeofday_efault", syscall(SYS_gettimeofday, BAD_PTR, NULL), EFAULT);
    EXPECT_OK("getres_null", syscall(SYS_clock_getres, CLOCK_MONOTONIC, NULL));
    EXPECT_ERR("settime_monotonic", syscall(SYS_clock_settime, CLOCK_MONOTONIC, &rt), EINVAL);
    return finish();
}
