// signalfd: blocked signals read as records (signo, code, pid), several at once, EAGAIN when
// none is pending (SFD_NONBLOCK), poll readiness, changing the mask of an existing signalfd,
// a blocking read woken by a signal from another thread, and argument errors.
#include "common.h"
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <time.h>

static void *send_usr2(void *arg)
{
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    kill(getpid(), SIGUSR2);
    return arg;
}

int main(void)
{
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR1);
    sigaddset(&mask, SIGUSR2);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    CHECK("signalfd", fd >= 0);
    EXPECT_EQ("cloexec", fcntl(fd, F_GETFD), FD_CLOEXEC);
    struct signalfd_siginfo si[4];
    EXPECT_ERR("empty_eagain", read(fd, si, sizeof si), EAGAIN);
    struct pollfd p = {fd, POLLIN, 0};
    EXPECT_EQ("poll_empty", poll(&p, 1, 0), 0);

    raise(SIGUSR1);
    kill(getpid(), SIGUSR2);
    EXPECT_EQ("poll_ready", poll(&p, 1, 0), 1);
    EXPECT_EQ("read_two", read(fd, si, sizeof si), 2 * (long)sizeof si[0]);
    EXPECT_EQ("first_signo", si[0].ssi_signo, SIGUSR1);
    EXPECT_EQ("first_code_tkill", si[0].ssi_code, SI_TKILL);
    EXPECT_EQ("second_signo", si[1].ssi_signo, SIGUSR2);
    EXPECT_EQ("second_code_user", si[1].ssi_code, SI_USER);
    CHECK("pid_is_self", (pid_t)si[1].ssi_pid == getpid());
    EXPECT_ERR("small_buffer", read(fd, si, 8), EINVAL);

    /* Narrow the mask: SIGUSR1 is no longer read through it. */
    sigset_t only2;
    sigemptyset(&only2);
    sigaddset(&only2, SIGUSR2);
    EXPECT_EQ("change_mask", signalfd(fd, &only2, 0), fd);
    raise(SIGUSR1);
    EXPECT_ERR("usr1_not_read", read(fd, si, sizeof si), EAGAIN);
    sigset_t pend;
    sigpending(&pend);
    EXPECT_EQ("usr1_still_pending", sigismember(&pend, SIGUSR1), 1);

    /* A blocking signalfd woken by another thread's signal. */
    int bfd = signalfd(-1, &only2, 0);
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, send_usr2, NULL) == 0);
    EXPECT_EQ("blocking_read", read(bfd, si, sizeof si), (long)sizeof si[0]);
    EXPECT_EQ("blocking_signo", si[0].ssi_signo, SIGUSR2);
    pthread_join(t, NULL);

    EXPECT_ERR("bad_size", syscall(SYS_signalfd4, -1, &mask, 4, 0), EINVAL);
    EXPECT_ERR("bad_flags", signalfd(-1, &mask, 0x1), EINVAL);
    EXPECT_ERR("not_a_signalfd", signalfd(1, &mask, 0), EINVAL);
    EXPECT_ERR("efault", signalfd(-1, (sigset_t *)BAD_PTR, 0), EFAULT);
    return finish();
}
