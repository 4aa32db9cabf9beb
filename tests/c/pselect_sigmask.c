// pselect6, ppoll and epoll_pwait with a temporary signal mask, the way make's jobserver uses
// them: SIGCHLD is blocked, a child ends (the signal is pending before the call, or arrives
// during it), and the call, which unblocks SIGCHLD, must return EINTR once the handler ran,
// with SIGCHLD blocked again afterwards.
#include "common.h"
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <time.h>

static volatile sig_atomic_t handled;

static void on_chld(int sig)
{
    (void)sig;
    handled++;
}

/* Forks a child that exits after `delay_ms` and, with `wait_first`, waits until its SIGCHLD is
 * pending. */
static pid_t child_exiting(int delay_ms, int wait_first)
{
    pid_t pid = fork_flushed();
    if (pid == 0) {
        struct timespec ts = {0, delay_ms * 1000000L};
        nanosleep(&ts, NULL);
        _exit(0);
    }
    if (wait_first) {
        sigset_t pending;
        do {
            sigpending(&pending);
        } while (!sigismember(&pending, SIGCHLD));
    }
    return pid;
}

static int chld_blocked(void)
{
    sigset_t now;
    sigprocmask(SIG_SETMASK, NULL, &now);
    return sigismember(&now, SIGCHLD);
}

/* Waits up to 5 s for `fd` to become readable with `call` (0 pselect, 1 ppoll, 2 epoll_pwait)
 * and `mask` as the temporary signal mask. */
static int wait_unblocking(int call, int fd, const sigset_t *mask)
{
    if (call == 0) {
        struct timespec five = {5, 0};
        fd_set rd;
        FD_ZERO(&rd);
        FD_SET(fd, &rd);
        return pselect(fd + 1, &rd, NULL, NULL, &five, mask);
    }
    if (call == 1) {
        struct timespec five = {5, 0};
        struct pollfd pfd = {fd, POLLIN, 0};
        return ppoll(&pfd, 1, &five, mask);
    }
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    int r = epoll_pwait(ep, &ev, 1, 5000, mask);
    int e = errno;
    close(ep);
    errno = e;
    return r;
}

int main(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_chld;
    sigaction(SIGCHLD, &sa, NULL);
    sigset_t block, unblocked;
    sigemptyset(&block);
    sigaddset(&block, SIGCHLD);
    sigprocmask(SIG_BLOCK, &block, NULL);
    sigprocmask(SIG_SETMASK, NULL, &unblocked);
    sigdelset(&unblocked, SIGCHLD);
    int p[2];
    REQUIRE(pipe(p) == 0);

    static const char *const calls[] = {"pselect", "ppoll", "epoll_pwait"};
    for (int wait_first = 1; wait_first >= 0; wait_first--) {
        for (int call = 0; call < 3; call++) {
            handled = 0;
            pid_t pid = child_exiting(wait_first ? 0 : 50, wait_first);
            errno = 0;
            int r = wait_unblocking(call, p[0], &unblocked);
            int e = errno;
            printf("%s_%s: %d %s handled=%d blocked_after=%d\n", calls[call],
                   wait_first ? "pending" : "arriving", r, errname(e), (int)handled, chld_blocked());
            waitpid(pid, NULL, 0);
        }
    }
    return finish();
}
