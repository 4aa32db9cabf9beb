// CPU time accounting: sleeping uses no CPU time, spinning does (and not more than the wall
// time it took); getrusage, times and the CPU-time clocks agree; a thread's own clock and
// another thread's clock; ended threads stay in the process's time; reaped children (and
// their reaped children) show in RUSAGE_CHILDREN, times' cutime/cstime and wait4's rusage.
// Only comparisons against generous thresholds are printed.
#include "common.h"
#include <pthread.h>
#include <sys/resource.h>
#include <sys/times.h>
#include <time.h>

#define MS 1000000LL

static volatile unsigned long sink;

static long long ts_ns(struct timespec t)
{
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static long long clock_ns(clockid_t id)
{
    struct timespec t;
    REQUIRE(clock_gettime(id, &t) == 0);
    return ts_ns(t);
}

static long long tv_ns(struct timeval tv)
{
    return tv.tv_sec * 1000000000LL + tv.tv_usec * 1000LL;
}

/* User plus system time of `who`, and its user and system parts. */
static long long usage_ns(int who, long long *user, long long *sys)
{
    struct rusage ru;
    REQUIRE(getrusage(who, &ru) == 0);
    if (user) *user = tv_ns(ru.ru_utime);
    if (sys) *sys = tv_ns(ru.ru_stime);
    return tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime);
}

/* Computes until `clock` has advanced by `ns` (mostly arithmetic: few clock reads). */
/* utime + stime (fields 14 and 15) of /proc/self/stat, in clock ticks (-1 if unreadable). */
static long stat_ticks(void)
{
    char buf[1024];
    int fd = open("/proc/self/stat", O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    /* Fields after the command name, which ends at the last ')'. */
    char *p = strrchr(buf, ')');
    long utime, stime;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &utime,
                     &stime) != 2)
        return -1;
    return utime + stime;
}

static void spin(clockid_t clock, long long ns)
{
    long long end = clock_ns(clock) + ns;
    while (clock_ns(clock) < end)
        for (unsigned long i = 0; i < 200000; i++) sink += i ^ (i >> 3);
}

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * MS};
    while (nanosleep(&t, &t) != 0) {}
}

static volatile int thread_spun, thread_release;

static void *spinner(void *arg)
{
    (void)arg;
    spin(CLOCK_THREAD_CPUTIME_ID, 120 * MS);
    thread_spun = 1;
    while (!thread_release) sleep_ms(5);
    return NULL;
}

static void test_thread(void)
{
    long long self0 = usage_ns(RUSAGE_SELF, NULL, NULL);
    long long main0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, spinner, NULL) == 0);
    while (!thread_spun) sleep_ms(5);
    clockid_t other;
    CHECK("getcpuclockid_ok", pthread_getcpuclockid(t, &other) == 0);
    CHECK("other_thread_clock_has_spin", clock_ns(other) >= 120 * MS);
    CHECK("main_thread_clock_idle", clock_ns(CLOCK_THREAD_CPUTIME_ID) - main0 < 80 * MS);
    thread_release = 1;
    REQUIRE(pthread_join(t, NULL) == 0);
    // The thread has ended: its time stays in the process's.
    CHECK("process_keeps_ended_thread", usage_ns(RUSAGE_SELF, NULL, NULL) - self0 >= 110 * MS);
    CHECK("thread_usage_is_own", usage_ns(RUSAGE_THREAD, NULL, NULL) - main0 < 80 * MS);
}

static void test_children(void)
{
    struct tms t0, t1;
    REQUIRE(times(&t0) != (clock_t)-1);
    long long children0 = usage_ns(RUSAGE_CHILDREN, NULL, NULL);
    long long self0 = usage_ns(RUSAGE_SELF, NULL, NULL);
    fflush(stdout);
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        alarm(20);
        pid_t grandchild = fork();
        if (grandchild == 0) {
            spin(CLOCK_PROCESS_CPUTIME_ID, 100 * MS);
            _exit(0);
        }
        int st;
        if (grandchild < 0 || waitpid(grandchild, &st, 0) != grandchild) _exit(3);
        spin(CLOCK_PROCESS_CPUTIME_ID, 100 * MS);
        _exit(0);
    }
    int status;
    struct rusage ru;
    CHECK("wait4_ok", wait4(child, &status, 0, &ru) == child && WIFEXITED(status) &&
                          WEXITSTATUS(status) == 0);
    long long waited = tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime);
    // The child's own 100 ms and its reaped grandchild's 100 ms.
    CHECK("wait4_rusage_has_both_spins", waited >= 195 * MS);
    long long children = usage_ns(RUSAGE_CHILDREN, NULL, NULL) - children0;
    CHECK("rusage_children_has_both_spins", children >= 195 * MS);
    CHECK("rusage_children_equals_wait4", children == waited);
    CHECK("parent_idle_while_waiting", usage_ns(RUSAGE_SELF, NULL, NULL) - self0 < 80 * MS);
    REQUIRE(times(&t1) != (clock_t)-1);
    long ticks = sysconf(_SC_CLK_TCK);
    long cticks = (t1.tms_cutime + t1.tms_cstime) - (t0.tms_cutime + t0.tms_cstime);
    CHECK("times_children_has_both_spins", cticks >= 19 * ticks / 100);
    CHECK("rusage_children_after_wait_stays", usage_ns(RUSAGE_CHILDREN, NULL, NULL) -
                                                  children0 == children);
}

int main(void)
{
    // Sleeping takes wall time, not CPU time.
    long long p0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    long long th0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    long long r0 = usage_ns(RUSAGE_SELF, NULL, NULL);
    sleep_ms(200);
    CHECK("sleep_process_clock_idle", clock_ns(CLOCK_PROCESS_CPUTIME_ID) - p0 < 100 * MS);
    CHECK("sleep_thread_clock_idle", clock_ns(CLOCK_THREAD_CPUTIME_ID) - th0 < 100 * MS);
    CHECK("sleep_rusage_idle", usage_ns(RUSAGE_SELF, NULL, NULL) - r0 < 100 * MS);

    // Spinning takes CPU time, as every interface reports it, and no more than wall time.
    struct tms t0, t1;
    REQUIRE(times(&t0) != (clock_t)-1);
    long long u0, s0, u1, s1;
    r0 = usage_ns(RUSAGE_SELF, &u0, &s0);
    long long thr0 = usage_ns(RUSAGE_THREAD, NULL, NULL);
    p0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    long long wall0 = clock_ns(CLOCK_MONOTONIC);
    spin(CLOCK_THREAD_CPUTIME_ID, 150 * MS);
    long long wall = clock_ns(CLOCK_MONOTONIC) - wall0;
    CHECK("spin_cpu_within_wall", wall >= 145 * MS);
    long long r1 = usage_ns(RUSAGE_SELF, &u1, &s1);
    CHECK("spin_rusage_self_grew", r1 - r0 >= 140 * MS);
    CHECK("spin_rusage_thread_grew", usage_ns(RUSAGE_THREAD, NULL, NULL) - thr0 >= 140 * MS);
    CHECK("spin_process_clock_grew", clock_ns(CLOCK_PROCESS_CPUTIME_ID) - p0 >= 140 * MS);
    CHECK("spin_mostly_user_time", u1 - u0 > s1 - s0);
    REQUIRE(times(&t1) != (clock_t)-1);
    long ticks = sysconf(_SC_CLK_TCK);
    long spun_ticks = (t1.tms_utime + t1.tms_stime) - (t0.tms_utime + t0.tms_stime);
    CHECK("spin_times_grew", spun_ticks >= 13 * ticks / 100);
    // times and getrusage read the same accounting (a tick of rounding either way).
    long long rnow = usage_ns(RUSAGE_SELF, NULL, NULL);
    long long tnow = (t1.tms_utime + t1.tms_stime) * (1000000000LL / ticks);
    CHECK("times_matches_rusage", tnow <= rnow + 20 * MS && rnow - tnow < 60 * MS);
    CHECK("thread_within_process",
          usage_ns(RUSAGE_THREAD, NULL, NULL) <= usage_ns(RUSAGE_SELF, NULL, NULL));
    CHECK("proc_stat_has_the_spin", stat_ticks() >= 13 * ticks / 100);

    test_thread();
    test_children();
    return finish();
}
