// veil-test: timeout=120
// fork and wait: 1000 fork/_exit/waitpid rounds with every exit code, what the child sees
// (fork returned 0, its own pid, its parent), wait statuses of children killed by SIGKILL and
// by a default SIGSEGV, WNOHANG while a child runs, many children alive at once reaped by
// wait(-1), waitid with WNOWAIT, and the SIGCHLD the parent receives.
#include "common.h"
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

/* Waits for `pid` and returns its wait status (-1 if waitpid failed or returned another pid). */
static int wait_for(pid_t pid)
{
    int st;
    pid_t r;
    do r = waitpid(pid, &st, 0);
    while (r == -1 && errno == EINTR);
    return r == pid ? st : -1;
}

static void exit_codes(void)
{
    int ok = 0;
    for (int i = 0; i < 1000; i++) {
        pid_t pid = fork_flushed();
        REQUIRE(pid >= 0);
        if (pid == 0) _exit(i & 0xff);
        int st = wait_for(pid);
        if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == (i & 0xff)) ok++;
    }
    EXPECT_EQ("fork_exit_1000", ok, 1000);
}

/* The child reports what it sees through a pipe; each field is 1 when it holds. */
static void child_view(void)
{
    int p[2];
    REQUIRE(pipe(p) == 0);
    pid_t parent = getpid();
    pid_t pid = fork_flushed();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        /* Only reached in the child, where fork returned 0. */
        pid_t view[3] = {getpid(), getppid() == parent, (pid_t)syscall(SYS_gettid) == getpid()};
        _exit(write(p[1], view, sizeof view) == (ssize_t)sizeof view ? 0 : 1);
    }
    close(p[1]);
    pid_t view[3] = {0};
    CHECK("child_pid_positive", pid > 0);
    CHECK("child_pid_differs", pid != parent);
    EXPECT_EQ("report_size", read(p[0], view, sizeof view), (long)sizeof view);
    CHECK("child_getpid_is_fork_result", view[0] == pid);
    CHECK("child_getppid_is_parent", view[1] == 1);
    CHECK("child_tid_is_pid", view[2] == 1);
    close(p[0]);
    int st = wait_for(pid);
    CHECK("child_exit_0", st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK("parent_pid_unchanged", getpid() == parent);
}

static void killed_children(void)
{
    pid_t pid = fork_flushed();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        raise(SIGKILL);
        _exit(1);
    }
    int st = wait_for(pid);
    CHECK("sigkill_signaled", st != -1 && WIFSIGNALED(st) && !WIFEXITED(st));
    EXPECT_EQ("sigkill_termsig", WTERMSIG(st), SIGKILL);

    pid = fork_flushed();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        /* No core file (the cwd is /). */
        struct rlimit none = {0, 0};
        setrlimit(RLIMIT_CORE, &none);
        *(volatile int *)opaque_ptr(0) = 1;
        _exit(1);
    }
    st = wait_for(pid);
    CHECK("sigsegv_signaled", st != -1 && WIFSIGNALED(st));
    EXPECT_EQ("sigsegv_termsig", WTERMSIG(st), SIGSEGV);

    /* Another process's kill with the default action of SIGTERM. */
    int p[2];
    REQUIRE(pipe(p) == 0);
    pid = fork_flushed();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        char c;
        close(p[1]);
        read(p[0], &c, 1);
        _exit(1);
    }
    close(p[0]);
    EXPECT_OK("kill_sigterm", kill(pid, SIGTERM));
    st = wait_for(pid);
    CHECK("sigterm_signaled", st != -1 && WIFSIGNALED(st));
    EXPECT_EQ("sigterm_termsig", WTERMSIG(st), SIGTERM);
    close(p[1]);
}

/* The child blocks reading a pipe until the parent closes its end. */
static void wnohang(void)
{
    int p[2];
    REQUIRE(pipe(p) == 0);
    pid_t pid = fork_flushed();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        char c;
        close(p[1]);
        _exit(read(p[0], &c, 1) == 0 ? 9 : 1);
    }
    close(p[0]);
    int st = 0;
    EXPECT_EQ("wnohang_running", waitpid(pid, &st, WNOHANG), 0);
    EXPECT_EQ("wnohang_any_running", waitpid(-1, &st, WNOHANG), 0);
    siginfo_t info;
    memset(&info, 0xff, sizeof info);
    EXPECT_OK("waitid_wnohang_running", waitid(P_PID, pid, &info, WEXITED | WNOHANG));
    EXPECT_EQ("waitid_wnohang_pid_zeroed", info.si_pid, 0);
    close(p[1]);
    st = wait_for(pid);
    CHECK("released_child_exit_9", st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 9);
    EXPECT_ERR("waitpid_reaped", waitpid(pid, &st, 0), ECHILD);
}

/* 20 children alive at once, released together, each reaped once by wait(-1). */
static void many_children(void)
{
    enum { N = 20 };
    int p[2];
    REQUIRE(pipe(p) == 0);
    pid_t pids[N];
    for (int i = 0; i < N; i++) {
        pids[i] = fork_flushed();
        REQUIRE(pids[i] >= 0);
        if (pids[i] == 0) {
            char c;
            close(p[1]);
            read(p[0], &c, 1);
            _exit(100 + i);
        }
    }
    close(p[0]);
    close(p[1]);
    int seen[N] = {0};
    int reaped = 0, matched = 0;
    for (;;) {
        int st;
        pid_t r = wait(&st);
        if (r == -1) break;
        reaped++;
        for (int i = 0; i < N; i++) {
            if (pids[i] == r && WIFEXITED(st) && WEXITSTATUS(st) == 100 + i && !seen[i]) {
                seen[i] = 1;
                matched++;
            }
        }
    }
    EXPECT_STR("wait_all_end", errname(errno), "ECHILD");
    EXPECT_EQ("reaped", reaped, N);
    EXPECT_EQ("matched", matched, N);
}

static void waitid_nowait(void)
{
    pid_t pid = fork_flushed();
    REQUIRE(pid >= 0);
    if (pid == 0) _exit(42);
    siginfo_t info;
    memset(&info, 0, sizeof info);
    EXPECT_OK("waitid_nowait", waitid(P_PID, pid, &info, WEXITED | WNOWAIT));
    CHECK("waitid_nowait_pid", info.si_pid == pid);
    EXPECT_EQ("waitid_nowait_signo", info.si_signo, SIGCHLD);
    EXPECT_EQ("waitid_nowait_code", info.si_code, CLD_EXITED);
    EXPECT_EQ("waitid_nowait_status", info.si_status, 42);
    /* Still waitable: WNOWAIT left it a zombie. */
    memset(&info, 0, sizeof info);
    EXPECT_OK("waitid_reap", waitid(P_ALL, 0, &info, WEXITED));
    CHECK("waitid_reap_pid", info.si_pid == pid);
    EXPECT_EQ("waitid_reap_status", info.si_status, 42);
    EXPECT_ERR("waitid_none_left", waitid(P_ALL, 0, &info, WEXITED), ECHILD);

    pid = fork_flushed();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        raise(SIGKILL);
        _exit(1);
    }
    memset(&info, 0, sizeof info);
    EXPECT_OK("waitid_killed", waitid(P_PID, pid, &info, WEXITED));
    EXPECT_EQ("waitid_killed_code", info.si_code, CLD_KILLED);
    EXPECT_EQ("waitid_killed_status", info.si_status, SIGKILL);
}

static volatile sig_atomic_t chld_count, chld_pid, chld_code, chld_status;

static void on_chld(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    chld_count++;
    chld_pid = si->si_pid;
    chld_code = si->si_code;
    chld_status = si->si_status;
}

/* The child's end sends the parent one SIGCHLD that describes it. SIGCHLD stays blocked until
 * sigsuspend, so that it cannot arrive before the parent waits for it. */
static void sigchld_info(void)
{
    struct sigaction sa, old_sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_chld;
    sa.sa_flags = SA_SIGINFO;
    REQUIRE(sigaction(SIGCHLD, &sa, &old_sa) == 0);
    sigset_t chld, old;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    REQUIRE(sigprocmask(SIG_BLOCK, &chld, &old) == 0);
    pid_t pid = fork_flushed();
    REQUIRE(pid >= 0);
    if (pid == 0) _exit(3);
    sigset_t wait_mask = old;
    sigdelset(&wait_mask, SIGCHLD);
    while (!chld_count) sigsuspend(&wait_mask);
    EXPECT_EQ("sigchld_received", chld_count, 1);
    CHECK("sigchld_pid", chld_pid == pid);
    EXPECT_EQ("sigchld_code", chld_code, CLD_EXITED);
    EXPECT_EQ("sigchld_status", chld_status, 3);
    int st = wait_for(pid);
    CHECK("sigchld_child_reaped", st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 3);
    REQUIRE(sigprocmask(SIG_SETMASK, &old, NULL) == 0);
    REQUIRE(sigaction(SIGCHLD, &old_sa, NULL) == 0);
}

int main(void)
{
    exit_codes();
    child_view();
    killed_children();
    wnohang();
    many_children();
    waitid_nowait();
    sigchld_info();
    return finish();
}
