// getpid/getppid/gettid/getpgrp/getsid consistency (no values printed),
// set_tid_address, and wait4 without children.
#include "common.h"
#include <sys/wait.h>

int main(void)
{
    pid_t pid = getpid();
    long raw_pid = syscall(SYS_getpid);
    long tid = syscall(SYS_gettid);
    pid_t ppid = getppid();

    CHECK("pid_positive", pid > 0);
    CHECK("pid_stable", getpid() == pid);
    CHECK("raw_getpid_matches", raw_pid == pid);
    CHECK("tid_equals_pid", tid == pid);
    /* Natively the parent is the harness; the first process of a Veil instance is its init,
     * whose parent lives outside the instance (ppid 0, as in a container). */
    CHECK("ppid_not_negative", ppid >= 0);
    CHECK("ppid_differs", ppid != pid);
    CHECK("raw_getppid_matches", syscall(SYS_getppid) == ppid);
    CHECK("pgid_self_matches_getpgrp", getpgid(0) == getpgrp());
    CHECK("pgid_by_pid", getpgid(pid) == getpgrp());
    CHECK("pgrp_positive", getpgrp() > 0);
    /* In a container the session leader may live outside the pid namespace (sid 0). */
    CHECK("sid_not_negative", getsid(0) >= 0);
    CHECK("sid_by_pid", getsid(pid) == getsid(0));
    EXPECT_ERR("getpgid_no_such", getpgid(0x3ffffff0), ESRCH);
    EXPECT_ERR("getsid_no_such", getsid(0x3ffffff0), ESRCH);

    /* set_tid_address returns the caller's thread id. */
    static int tid_word;
    long r = syscall(SYS_set_tid_address, &tid_word);
    CHECK("set_tid_address_returns_tid", r == tid);

    /* No children. */
    int status;
    EXPECT_ERR("wait4_no_children", syscall(SYS_wait4, -1, &status, 0, NULL), ECHILD);
    EXPECT_ERR("waitpid_nohang_no_children", waitpid(-1, &status, WNOHANG), ECHILD);
    EXPECT_ERR("wait4_bad_options", syscall(SYS_wait4, -1, &status, 0x10000000, NULL), EINVAL);

    /* kill(self, 0) checks existence without sending anything. */
    EXPECT_OK("kill_self_0", kill(pid, 0));
    EXPECT_ERR("kill_no_such", kill(0x3ffffff0, 0), ESRCH);
    EXPECT_ERR("kill_bad_signal", kill(pid, 1000), EINVAL);
    return finish();
}
