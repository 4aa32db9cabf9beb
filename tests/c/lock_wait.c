// Blocking lock waits between two open file descriptions, released from another thread:
// flock(LOCK_EX) and F_OFD_SETLKW wait for the holder; a signal without SA_RESTART ends the
// wait with EINTR.
#include "common.h"
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <time.h>

static int holder_fd;
static volatile int released;

static void sleep_ms(int ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

static void *release_flock(void *arg)
{
    (void)arg;
    sleep_ms(80);
    released = 1;
    flock(holder_fd, LOCK_UN);
    return NULL;
}

static void *release_ofd(void *arg)
{
    (void)arg;
    sleep_ms(80);
    released = 1;
    struct flock fl = {.l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    fcntl(holder_fd, F_OFD_SETLK, &fl);
    return NULL;
}

static pthread_t main_thread;
static void *interrupt_main(void *arg)
{
    (void)arg;
    sleep_ms(80);
    pthread_kill(main_thread, SIGUSR1);
    return NULL;
}

static void on_usr1(int sig)
{
    (void)sig;
}

int main(void)
{
    DEF_PATH(path, "/tmp/vt_lock_wait", "file");
    mkdir("/tmp/vt_lock_wait", 0700);
    int a = open(path, O_RDWR | O_CREAT, 0600);
    int b = open(path, O_RDWR);
    REQUIRE(a >= 0 && b >= 0);
    holder_fd = a;
    pthread_t t;

    EXPECT_OK("flock_a", flock(a, LOCK_EX));
    REQUIRE(pthread_create(&t, NULL, release_flock, NULL) == 0);
    EXPECT_OK("flock_b_waits", flock(b, LOCK_EX));
    CHECK("got_it_after_release", released);
    pthread_join(t, NULL);
    flock(b, LOCK_UN);

    released = 0;
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 100};
    EXPECT_OK("ofd_a", fcntl(a, F_OFD_SETLK, &fl));
    REQUIRE(pthread_create(&t, NULL, release_ofd, NULL) == 0);
    EXPECT_OK("ofd_b_waits", fcntl(b, F_OFD_SETLKW, &fl));
    CHECK("ofd_after_release", released);
    pthread_join(t, NULL);

    signal(SIGUSR1, on_usr1);
    struct sigaction sa;
    sigaction(SIGUSR1, NULL, &sa);
    sa.sa_flags &= ~SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    main_thread = pthread_self();
    EXPECT_OK("flock_a_again", flock(a, LOCK_EX));
    REQUIRE(pthread_create(&t, NULL, interrupt_main, NULL) == 0);
    EXPECT_ERR("flock_interrupted", flock(b, LOCK_EX), EINTR);
    pthread_join(t, NULL);

    close(a);
    EXPECT_OK("lock_freed_by_close", flock(b, LOCK_EX | LOCK_NB));
    close(b);
    unlink(path);
    rmdir("/tmp/vt_lock_wait");
    return finish();
}
