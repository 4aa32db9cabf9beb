// Timers that raise signals: alarm (and its remaining seconds), setitimer/getitimer with an
// interval, POSIX timers with SIGEV_SIGNAL (si_code, si_value), SIGEV_NONE read back with
// timer_gettime, absolute expiry, timer_delete, and argument errors.
#include "common.h"
#include <signal.h>
#include <sys/time.h>
#include <time.h>

static volatile sig_atomic_t alarms, rt_hits, rt_code, rt_value;

static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

static void on_rt(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    rt_hits++;
    rt_code = si->si_code;
    rt_value = si->si_value.sival_int;
}

static void wait_until(volatile sig_atomic_t *counter, int target)
{
    for (int i = 0; i < 500 && *counter < target; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

int main(void)
{
    signal(SIGALRM, on_alarm);
    EXPECT_EQ("alarm_first", alarm(10), 0);
    unsigned left = alarm(0);
    CHECK("alarm_remaining", left >= 9 && left <= 10);

    struct itimerval it = {{0, 20000}, {0, 20000}}, got;
    EXPECT_OK("setitimer", setitimer(ITIMER_REAL, &it, NULL));
    wait_until(&alarms, 3);
    CHECK("interval_timer_fired_3", alarms >= 3);
    EXPECT_OK("getitimer", getitimer(ITIMER_REAL, &got));
    EXPECT_EQ("interval_kept", got.it_interval.tv_usec, 20000);
    struct itimerval off = {{0, 0}, {0, 0}};
    EXPECT_OK("disarm", setitimer(ITIMER_REAL, &off, NULL));
    EXPECT_OK("getitimer_off", getitimer(ITIMER_REAL, &got));
    EXPECT_EQ("disarmed", got.it_value.tv_sec + got.it_value.tv_usec, 0);
    struct itimerval bad = {{0, 0}, {0, 1000000}};
    EXPECT_ERR("bad_usec", setitimer(ITIMER_REAL, &bad, NULL), EINVAL);
    EXPECT_ERR("bad_which", setitimer(7, &it, NULL), EINVAL);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_rt;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGRTMIN + 2, &sa, NULL);
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = SIGRTMIN + 2;
    sev.sigev_value.sival_int = 4242;
    timer_t t;
    EXPECT_OK("timer_create", timer_create(CLOCK_MONOTONIC, &sev, &t));
    struct itimerspec spec = {{0, 0}, {0, 30 * 1000 * 1000}};
    EXPECT_OK("timer_settime", timer_settime(t, 0, &spec, NULL));
    wait_until(&rt_hits, 1);
    EXPECT_EQ("posix_timer_fired", rt_hits, 1);
    EXPECT_EQ("si_code_timer", rt_code, SI_TIMER);
    EXPECT_EQ("si_value", rt_value, 4242);

    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    spec.it_value.tv_sec = now.tv_sec;
    spec.it_value.tv_nsec = now.tv_nsec + 30 * 1000 * 1000;
    if (spec.it_value.tv_nsec >= 1000000000) { spec.it_value.tv_sec++; spec.it_value.tv_nsec -= 1000000000; }
    EXPECT_OK("timer_settime_abs", timer_settime(t, TIMER_ABSTIME, &spec, NULL));
    wait_until(&rt_hits, 2);
    EXPECT_EQ("absolute_fired", rt_hits, 2);
    EXPECT_OK("timer_delete", timer_delete(t));
    EXPECT_ERR("settime_deleted", timer_settime(t, 0, &spec, NULL), EINVAL);

    sev.sigev_notify = SIGEV_NONE;
    EXPECT_OK("timer_none", timer_create(CLOCK_REALTIME, &sev, &t));
    struct itimerspec long_spec = {{1, 0}, {100, 0}}, cur;
    EXPECT_OK("arm_none", timer_settime(t, 0, &long_spec, NULL));
    EXPECT_OK("timer_gettime", timer_gettime(t, &cur));
    CHECK("value_counts_down", cur.it_value.tv_sec >= 98 && cur.it_value.tv_sec <= 100);
    EXPECT_EQ("interval_read_back", cur.it_interval.tv_sec, 1);
    EXPECT_EQ("overrun_zero", timer_getoverrun(t), 0);
    struct itimerspec bad_spec = {{0, 0}, {0, 1000000000}};
    EXPECT_ERR("bad_nsec", timer_settime(t, 0, &bad_spec, NULL), EINVAL);
    EXPECT_OK("unknown_flags_ignored", timer_settime(t, 4, &long_spec, NULL));
    timer_delete(t);
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = 99;
    EXPECT_ERR("bad_signo", timer_create(CLOCK_MONOTONIC, &sev, &t), EINVAL);
    EXPECT_ERR("bad_clock", timer_create(12345, NULL, &t), EINVAL);
    return finish();
}
