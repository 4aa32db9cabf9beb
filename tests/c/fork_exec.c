// fork then execve: the child runs this program again (/proc/self/exe) in "child" mode, which
// checks what exec kept (pid, parent, fds without FD_CLOEXEC, ignored signals, the new
// environment) and what it reset (FD_CLOEXEC fds closed, caught signals back to default),
// prints a line and exits 7; a #! script run by exec in a forked child; exec of a missing path
// fails with ENOENT in the child, which then exits 127.
#include "common.h"
#include <signal.h>
#include <sys/wait.h>

static void on_usr1(int sig)
{
    (void)sig;
}

/* Waits for `pid`; its exit code, or -1 if it did not exit normally. */
static int exit_code(pid_t pid)
{
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st)) return -1;
    return WEXITSTATUS(st);
}

static int handler_is(int sig, void (*h)(int))
{
    struct sigaction sa;
    return sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == h;
}

/* The exec'd program: argv = exe "child" <parent pid> <own pid before exec> <kept fd>
 * <cloexec fd>. */
static int child_mode(char **argv)
{
    pid_t parent = atoi(argv[2]), before = atoi(argv[3]);
    int kept = atoi(argv[4]), cloexec = atoi(argv[5]);
    CHECK("exec_same_pid", getpid() == before);
    CHECK("exec_same_parent", getppid() == parent);
    EXPECT_EQ("exec_kept_fd_write", write(kept, "via-kept-fd", 11), 11);
    EXPECT_ERR("exec_cloexec_fd_closed", fcntl(cloexec, F_GETFD), EBADF);
    CHECK("exec_caught_signal_reset", handler_is(SIGUSR1, SIG_DFL));
    CHECK("exec_ignored_signal_kept", handler_is(SIGUSR2, SIG_IGN));
    EXPECT_STR("exec_env", getenv("FORK_EXEC"), "yes");
    CHECK("exec_env_only_given", getenv("PATH") == NULL);
    printf("exec'd child says hello\n");
    fflush(stdout);
    return g_failures ? 1 : 7;
}

static void exec_self(void)
{
    int p[2];
    REQUIRE(pipe(p) == 0);
    int cloexec = open("/dev/null", O_RDONLY | O_CLOEXEC);
    REQUIRE(cloexec >= 0);
    signal(SIGUSR1, on_usr1);
    signal(SIGUSR2, SIG_IGN);
    pid_t parent = getpid();
    pid_t pid = fork_flushed();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        char a[4][16];
        snprintf(a[0], sizeof a[0], "%d", parent);
        snprintf(a[1], sizeof a[1], "%d", getpid());
        snprintf(a[2], sizeof a[2], "%d", p[1]);
        snprintf(a[3], sizeof a[3], "%d", cloexec);
        char *argv[] = {"fork_exec", "child", a[0], a[1], a[2], a[3], NULL};
        char *envp[] = {"FORK_EXEC=yes", NULL};
        execve("/proc/self/exe", argv, envp);
        _exit(126);
    }
    close(p[1]);
    EXPECT_EQ("exec_exit_7", exit_code(pid), 7);
    char buf[32] = {0};
    EXPECT_EQ("kept_fd_data_len", read(p[0], buf, sizeof buf - 1), 11);
    EXPECT_STR("kept_fd_data", buf, "via-kept-fd");
    CHECK("parent_handler_kept", handler_is(SIGUSR1, on_usr1));
    signal(SIGUSR1, SIG_DFL);
    signal(SIGUSR2, SIG_DFL);
    close(p[0]);
    close(cloexec);
}

static void exec_script(void)
{
    const char *dir = scratch_dir("fork_exec");
    DEF_PATH(script, dir, "script.sh");
    const char *text = "#!/bin/sh\necho \"script got $1\"\nexit 9\n";
    write_file(script, text, strlen(text));
    REQUIRE(chmod(script, 0755) == 0);
    pid_t pid = fork_flushed();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        execl(script, script, "arg", (char *)NULL);
        _exit(126);
    }
    EXPECT_EQ("script_exit_9", exit_code(pid), 9);
    rm_rf(dir);
}

static void exec_missing(void)
{
    pid_t pid = fork_flushed();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        execl("/no/such/program", "x", (char *)NULL);
        _exit(errno == ENOENT ? 127 : 126);
    }
    EXPECT_EQ("exec_missing_exit_127", exit_code(pid), 127);

    /* Many fork+exec rounds of a small program. */
    int ok = 0;
    for (int i = 0; i < 100; i++) {
        pid = fork_flushed();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            execl("/bin/true", "true", (char *)NULL);
            _exit(127);
        }
        ok += exit_code(pid) == 0;
    }
    EXPECT_EQ("fork_exec_true_100", ok, 100);
}

int main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[1], "child") == 0) return child_mode(argv);
    exec_self();
    exec_script();
    exec_missing();
    return finish();
}
