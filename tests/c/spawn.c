// veil-test: timeout=120
// Creating processes without fork: posix_spawn of 500 children with waitpid, vfork + execve,
// exec of a #! script, wait status encoding for exit codes and signals, WNOHANG, waitid,
// ECHILD, SIGCHLD to the parent, and a failed exec reported by posix_spawn.
#include "common.h"
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;
static volatile sig_atomic_t sigchld;

static void on_chld(int sig)
{
    (void)sig;
    sigchld++;
}

static int spawn_status(char *const argv[])
{
    pid_t pid;
    int st = -1;
    if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) != 0) return -1;
    if (waitpid(pid, &st, 0) != pid) return -2;
    return st;
}

int main(void)
{
    signal(SIGCHLD, on_chld);
    char *true_argv[] = {"/bin/true", NULL};
    int ok = 0;
    for (int i = 0; i < 500; i++) {
        int st = spawn_status(true_argv);
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0) ok++;
    }
    EXPECT_EQ("spawned_500", ok, 500);
    CHECK("sigchld_received", sigchld > 0);

    char *exit3[] = {"/bin/sh", "-c", "exit 3", NULL};
    int st = spawn_status(exit3);
    CHECK("exit_code_3", WIFEXITED(st) && WEXITSTATUS(st) == 3);
    char *killed[] = {"/bin/sh", "-c", "kill -TERM $$", NULL};
    st = spawn_status(killed);
    CHECK("killed_by_sigterm", WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);

    /* A #! script run by exec. */
    mkdir("/tmp/vt_spawn", 0700);
    FILE *f = fopen("/tmp/vt_spawn/script.sh", "w");
    fprintf(f, "#!/bin/sh\nexit 42\n");
    fclose(f);
    chmod("/tmp/vt_spawn/script.sh", 0755);
    char *script[] = {"/tmp/vt_spawn/script.sh", NULL};
    st = spawn_status(script);
    CHECK("script_exit_42", WIFEXITED(st) && WEXITSTATUS(st) == 42);

    char *missing[] = {"/no/such/program", NULL};
    pid_t pid;
    int r = posix_spawn(&pid, missing[0], NULL, NULL, missing, environ);
    EXPECT_STR("spawn_missing", errname(r), "ENOENT");

    pid = vfork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", "exit 5", (char *)NULL);
        _exit(127);
    }
    CHECK("vfork_pid", pid > 0);
    CHECK("waitpid_vfork", waitpid(pid, &st, 0) == pid);
    CHECK("vfork_child_exit_5", WIFEXITED(st) && WEXITSTATUS(st) == 5);

    /* WNOHANG while the child still runs, then waitid. */
    char *slow[] = {"/bin/sleep", "0.2", NULL};
    REQUIRE(posix_spawn(&pid, slow[0], NULL, NULL, slow, environ) == 0);
    EXPECT_EQ("wnohang_running", waitpid(pid, &st, WNOHANG), 0);
    siginfo_t info;
    memset(&info, 0, sizeof info);
    EXPECT_OK("waitid", waitid(P_PID, pid, &info, WEXITED));
    CHECK("waitid_pid", info.si_pid == pid);
    EXPECT_EQ("waitid_code", info.si_code, CLD_EXITED);
    EXPECT_EQ("waitid_status", info.si_status, 0);
    EXPECT_ERR("no_more_children", waitpid(-1, &st, 0), ECHILD);
    unlink("/tmp/vt_spawn/script.sh");
    rmdir("/tmp/vt_spawn");
    return finish();
}
