// getrusage/times/clock: success, CPU time grows with work, sane fields,
// and errors. No times are printed.
#include "common.h"
#include <sys/resource.h>
#include <sys/times.h>
#include <time.h>

static volatile unsigned long sink;

static void burn(void)
{
    for (unsigned long i = 0; i < 60000000UL; i++) sink += i ^ (i >> 3);
}

static long usec(struct timeval tv)
{
    return tv.tv_sec * 1000000L + tv.tv_usec;
}

int main(void)
{
    struct rusage a, b;
    EXPECT_OK("getrusage_self", getrusage(RUSAGE_SELF, &a));
    CHECK("utime_nonneg", usec(a.ru_utime) >= 0 && a.ru_utime.tv_usec < 1000000);
    CHECK("maxrss_positive", a.ru_maxrss > 0);
    EXPECT_OK("getrusage_children", getrusage(RUSAGE_CHILDREN, &b));
    CHECK("children_zero", usec(b.ru_utime) == 0 && usec(b.ru_stime) == 0);
    EXPECT_OK("getrusage_thread", getrusage(1 /* RUSAGE_THREAD */, &b));

    struct tms t0, t1;
    clock_t c0 = clock();
    clock_t r0 = times(&t0);
    CHECK("times_ok", r0 != (clock_t)-1);
    burn();
    clock_t r1 = times(&t1);
    clock_t c1 = clock();
    EXPECT_OK("getrusage_after_work", getrusage(RUSAGE_SELF, &b));
    long cpu_a = usec(a.ru_utime) + usec(a.ru_stime);
    long cpu_b = usec(b.ru_utime) + usec(b.ru_stime);
    CHECK("rusage_cpu_grew", cpu_b > cpu_a);
    CHECK("times_elapsed_nondecreasing", r1 >= r0);
    CHECK("times_utime_nondecreasing", t1.tms_utime >= t0.tms_utime);
    CHECK("times_children_zero", t1.tms_cutime == 0 && t1.tms_cstime == 0);
    CHECK("clock_grew", c1 > c0);
    CHECK("times_null_ok", syscall(SYS_times, NULL) != -1);

    EXPECT_ERR("getrusage_bad_who", getrusage(5, &a), EINVAL);
    EXPECT_ERR("getrusage_efault", syscall(SYS_getrusage, RUSAGE_SELF, BAD_PTR), EFAULT);
    EXPECT_ERR("times_efault", syscall(SYS_times, BAD_PTR), EFAULT);
    return finish();
}
