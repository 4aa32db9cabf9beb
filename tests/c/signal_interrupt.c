// Signals that interrupt blocking calls: a thread blocked in read() on a pipe gets a signal
// from another thread (pthread_kill) — EINTR without SA_RESTART, the read goes on with it;
// nanosleep reports the time left; sigsuspend waits for a signal with a temporary mask and
// restores the old one; a blocked signal stays pending while the thread sleeps.
#include "common.h"
#include <pthread.h>
#include <signal.h>
#include <time.h>

static int pipefd[2];
static volatile sig_atomic_t handled;
static long read_result;
static int read_errno;

static void on_usr1(int sig)
{
    (void)sig;
    handled++;
}

static void *reader(void *arg)
{
    (void)arg;
    char c;
    errno = 0;
    read_result = read(pipefd[0], &c, 1);
    read_errno = errno;
    return NULL;
}

static void set_handler(int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = flags;
    sigaction(SIGUSR1, &sa, NULL);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {0, ms * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* Waits a little, then signals the main thread. */
static pthread_t main_thread;
static void *send_to_main(void *arg)
{
    (void)arg;
    sleep_ms(100);
    pthread_kill(main_thread, SIGUSR1);
    return NULL;
}

int main(void)
{
    pthread_t t;
    REQUIRE(pipe(pipefd) == 0);

    set_handler(0);
    REQUIRE(pthread_create(&t, NULL, reader, NULL) == 0);
    sleep_ms(100);
    pthread_kill(t, SIGUSR1);
    pthread_join(t, NULL);
    EXPECT_EQ("no_restart_read", read_result, -1);
    EXPECT_STR("no_restart_errno", errname(read_errno), "EINTR");
    EXPECT_EQ("handler_ran", handled, 1);

    set_handler(SA_RESTART);
    REQUIRE(pthread_create(&t, NULL, reader, NULL) == 0);
    sleep_ms(100);
    pthread_kill(t, SIGUSR1);
    sleep_ms(100);
    EXPECT_EQ("restart_write", write(pipefd[1], "x", 1), 1);
    pthread_join(t, NULL);
    EXPECT_EQ("restart_read", read_result, 1);
    EXPECT_EQ("handler_ran_again", handled, 2);

    /* nanosleep interrupted by a signal from another thread: EINTR and the time left. */
    set_handler(0);
    main_thread = pthread_self();
    struct timespec req = {5, 0}, rem = {0, 0};
    REQUIRE(pthread_create(&t, NULL, send_to_main, NULL) == 0);
    errno = 0;
    int r = nanosleep(&req, &rem);
    int e = errno;
    pthread_join(t, NULL);
    EXPECT_EQ("nanosleep_interrupted", r, -1);
    EXPECT_STR("nanosleep_errno", errname(e), "EINTR");
    CHECK("time_left_reported", rem.tv_sec >= 3 && rem.tv_sec < 5);

    /* sigsuspend: block SIGUSR1, then wait for it with it unblocked. */
    sigset_t block, old, wait_mask, after;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, &old);
    REQUIRE(pthread_create(&t, NULL, send_to_main, NULL) == 0);
    sigemptyset(&wait_mask);
    errno = 0;
    r = sigsuspend(&wait_mask);
    e = errno;
    pthread_join(t, NULL);
    EXPECT_EQ("sigsuspend_returns", r, -1);
    EXPECT_STR("sigsuspend_errno", errname(e), "EINTR");
    EXPECT_EQ("handler_ran_in_sigsuspend", handled, 4);
    sigprocmask(SIG_BLOCK, NULL, &after);
    EXPECT_EQ("mask_restored", sigismember(&after, SIGUSR1), 1);

    /* A blocked signal from another thread stays pending until unblocked. */
    REQUIRE(pthread_create(&t, NULL, send_to_main, NULL) == 0);
    pthread_join(t, NULL);
    EXPECT_EQ("still_blocked", handled, 4);
    sigprocmask(SIG_SETMASK, &old, NULL);
    EXPECT_EQ("delivered_on_unblock", handled, 5);
    return finish();
}
