// sigtimedwait/sigwaitinfo: a blocked pending signal is taken without its handler, with its
// siginfo (sigqueue value, sender); a timeout gives EAGAIN; a signal sent by another thread
// while waiting wakes the wait; an unblocked signal with a handler interrupts it (EINTR);
// bad arguments fail with EINVAL.
#include "common.h"
#include <pthread.h>
#include <signal.h>
#include <time.h>

static volatile sig_atomic_t handled;
static void on_usr2(int sig) { (void)sig; handled = 1; }
static void on_usr1(int sig) { (void)sig; handled = 2; }

static pthread_t main_thread;

static void *send_later(void *arg)
{
    (void)arg;
    struct timespec ts = {0, 50 * 1000000};
    nanosleep(&ts, NULL);
    pthread_kill(main_thread, SIGUSR1);
    return NULL;
}

int main(void)
{
    signal(SIGUSR1, on_usr1);
    signal(SIGUSR2, on_usr2);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);

    union sigval v = {.sival_int = 42};
    EXPECT_OK("sigqueue", sigqueue(getpid(), SIGUSR1, v));
    siginfo_t info;
    memset(&info, 0, sizeof info);
    EXPECT_EQ("sigwaitinfo", sigwaitinfo(&set, &info), SIGUSR1);
    CHECK("info_value", info.si_signo == SIGUSR1 && info.si_code == SI_QUEUE && info.si_value.sival_int == 42);
    CHECK("info_pid", info.si_pid == getpid());
    CHECK("handler_not_run", handled == 0);

    struct timespec short_wait = {0, 20 * 1000000};
    EXPECT_ERR("timeout", sigtimedwait(&set, NULL, &short_wait), EAGAIN);
    struct timespec zero = {0, 0};
    EXPECT_ERR("poll_nothing", sigtimedwait(&set, NULL, &zero), EAGAIN);

    main_thread = pthread_self();
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, send_later, NULL) == 0);
    struct timespec long_wait = {5, 0};
    EXPECT_EQ("woken_by_thread", sigtimedwait(&set, NULL, &long_wait), SIGUSR1);
    pthread_join(t, NULL);

    /* SIGUSR2 is not in the set and not blocked: its handler runs and the wait ends. */
    struct sigaction sa = {0};
    sa.sa_handler = on_usr2;
    sigaction(SIGUSR2, &sa, NULL);
    alarm(0);
    pid_t self = getpid();
    if (fork() == 0) {
        struct timespec ts = {0, 50 * 1000000};
        nanosleep(&ts, NULL);
        kill(self, SIGUSR2);
        _exit(0);
    }
    /* Raw: musl's sigtimedwait retries after EINTR. */
    EXPECT_ERR("interrupted", syscall(SYS_rt_sigtimedwait, &set, NULL, &long_wait, 8), EINTR);
    CHECK("other_handler_ran", handled == 1);

    struct timespec bad = {0, 2000000000L};
    EXPECT_ERR("bad_timeout", sigtimedwait(&set, NULL, &bad), EINVAL);
    EXPECT_ERR("bad_size", syscall(SYS_rt_sigtimedwait, &set, NULL, &zero, 4), EINVAL);
    return finish();
}
