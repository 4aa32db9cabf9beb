// pidfds: pidfd_open of a spawned child, poll readable once it ends, waitid(P_PIDFD) reaping
// it, pidfd_send_signal killing another child, and argument errors.
#include "common.h"
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

static pid_t spawn(char *const argv[])
{
    pid_t pid;
    return posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) == 0 ? pid : -1;
}

int main(void)
{
    char *quick[] = {"/bin/sh", "-c", "exit 4", NULL};
    pid_t pid = spawn(quick);
    REQUIRE(pid > 0);
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    CHECK("pidfd_open", fd >= 0);
    EXPECT_EQ("cloexec", fcntl(fd, F_GETFD), FD_CLOEXEC);
    struct pollfd p = {fd, POLLIN, 0};
    EXPECT_EQ("poll_ends_readable", poll(&p, 1, 5000), 1);
    siginfo_t info;
    memset(&info, 0, sizeof info);
    EXPECT_OK("waitid_pidfd", waitid(P_PIDFD, fd, &info, WEXITED));
    CHECK("waitid_pid", info.si_pid == pid);
    EXPECT_EQ("waitid_status", info.si_status, 4);
    close(fd);

    char *slow[] = {"/bin/sleep", "30", NULL};
    pid = spawn(slow);
    REQUIRE(pid > 0);
    fd = (int)syscall(SYS_pidfd_open, pid, 0);
    EXPECT_OK("send_signal", syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0));
    int st;
    CHECK("waitpid", waitpid(pid, &st, 0) == pid);
    CHECK("killed_by_sigkill", WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    EXPECT_ERR("send_to_reaped", syscall(SYS_pidfd_send_signal, fd, SIGTERM, NULL, 0), ESRCH);
    close(fd);

    EXPECT_ERR("open_bad_flags", syscall(SYS_pidfd_open, getpid(), 1), EINVAL);
    EXPECT_ERR("open_no_such", syscall(SYS_pidfd_open, 0x3ffffff0, 0), ESRCH);
    EXPECT_ERR("send_not_pidfd", syscall(SYS_pidfd_send_signal, 1, SIGTERM, NULL, 0), EBADF);
    return finish();
}
