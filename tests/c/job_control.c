// Job control: SIGSTOP and SIGTSTP stop a child (wait with WUNTRACED reports it once, the
// parent gets SIGCHLD with CLD_STOPPED), a stopped child does not run, SIGCONT resumes it
// (WCONTINUED, CLD_CONTINUED), SIGKILL ends a stopped child, SA_NOCLDSTOP silences the
// stop/continue SIGCHLDs, a caught SIGTSTP does not stop, waitid(WSTOPPED) with WNOWAIT, and a
// SIGSTOP/SIGCONT pair sent back to back leaves the child running, never reported stopped.
#include "common.h"
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

static volatile sig_atomic_t chld_codes[8];
static volatile sig_atomic_t chld_count;

static void on_chld(int sig, siginfo_t *info, void *uc)
{
    (void)sig; (void)uc;
    if (chld_count < 8) chld_codes[chld_count] = info->si_code;
    chld_count++;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0) {}
}

/* A child that counts in shared memory until killed. */
static pid_t counting_child(volatile long *counter)
{
    pid_t pid = fork();
    if (pid == 0) {
        for (;;) (*counter)++;
    }
    return pid;
}

static void on_tstp(int sig) { (void)sig; }

int main(void)
{
    volatile long *counter = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    REQUIRE(counter != MAP_FAILED);
    struct sigaction sa = {0};
    sa.sa_sigaction = on_chld;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGCHLD, &sa, NULL);

    pid_t pid = counting_child(counter);
    REQUIRE(pid > 0);
    while (*counter < 1000) sleep_ms(1);
    EXPECT_OK("sigstop", kill(pid, SIGSTOP));
    int st = 0;
    EXPECT_EQ("wait_untraced", waitpid(pid, &st, WUNTRACED) == pid, 1);
    CHECK("stopped_status", WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP);
    EXPECT_EQ("reported_once", waitpid(pid, &st, WUNTRACED | WNOHANG), 0);
    long frozen = *counter;
    sleep_ms(100);
    CHECK("stopped_child_does_not_run", *counter == frozen);
    sleep_ms(20);
    CHECK("sigchld_cld_stopped", chld_count >= 1 && chld_codes[0] == CLD_STOPPED);

    EXPECT_OK("sigcont", kill(pid, SIGCONT));
    EXPECT_EQ("wait_continued", waitpid(pid, &st, WCONTINUED) == pid, 1);
    CHECK("continued_status", WIFCONTINUED(st));
    sleep_ms(50);
    CHECK("runs_again", *counter > frozen);
    sleep_ms(20);
    CHECK("sigchld_cld_continued", chld_count >= 2 && chld_codes[1] == CLD_CONTINUED);

    /* SIGTSTP with its default action stops too; waitid(WSTOPPED | WNOWAIT) leaves it reported. */
    EXPECT_OK("sigtstp", kill(pid, SIGTSTP));
    siginfo_t si;
    memset(&si, 0, sizeof si);
    EXPECT_OK("waitid_stopped_nowait", waitid(P_PID, pid, &si, WSTOPPED | WNOWAIT));
    CHECK("waitid_code", si.si_code == CLD_STOPPED && si.si_status == SIGTSTP);
    EXPECT_EQ("still_reportable", waitpid(pid, &st, WUNTRACED) == pid && WSTOPSIG(st) == SIGTSTP, 1);

    /* SIGKILL ends a stopped child. */
    EXPECT_OK("sigkill_stopped", kill(pid, SIGKILL));
    EXPECT_EQ("reaped", waitpid(pid, &st, 0) == pid, 1);
    CHECK("killed_status", WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

    /* SA_NOCLDSTOP: no SIGCHLD for stops. A caught SIGTSTP does not stop. */
    sa.sa_flags |= SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, NULL);
    int before = chld_count;
    *counter = 0;
    pid = fork();
    if (pid == 0) {
        signal(SIGTSTP, on_tstp);
        for (;;) (*counter)++;
    }
    while (*counter < 1000) sleep_ms(1);
    kill(pid, SIGTSTP);
    sleep_ms(50);
    EXPECT_EQ("caught_tstp_does_not_stop", waitpid(pid, &st, WUNTRACED | WNOHANG), 0);
    kill(pid, SIGSTOP);
    EXPECT_EQ("stopped_again", waitpid(pid, &st, WUNTRACED) == pid && WIFSTOPPED(st), 1);
    sleep_ms(30);
    EXPECT_EQ("nocldstop_silent", chld_count, before);

    /* SIGSTOP and SIGCONT sent back to back: whichever way they race, the child ends up
     * running, and wait never reports it stopped. */
    kill(pid, SIGCONT);
    waitpid(pid, &st, WCONTINUED);
    int reported_stopped = 0;
    for (int i = 0; i < 100; i++) {
        kill(pid, SIGSTOP);
        /* Every other time the child may take the SIGSTOP first (or even stop). */
        if (i % 2) sleep_ms(1);
        kill(pid, SIGCONT);
        if (waitpid(pid, &st, WUNTRACED | WNOHANG) == pid && WIFSTOPPED(st)) reported_stopped++;
    }
    sleep_ms(20);
    if (waitpid(pid, &st, WUNTRACED | WNOHANG) == pid && WIFSTOPPED(st)) reported_stopped++;
    EXPECT_EQ("stop_cont_race_reported_stopped", reported_stopped, 0);
    long before_run = *counter;
    sleep_ms(50);
    CHECK("stop_cont_race_runs", *counter > before_run);
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return finish();
}
