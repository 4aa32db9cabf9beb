// Processes that outlive their parent, and signals between processes: double-fork
// daemonisation (the grandchild starts a session, is reparented when its parent exits and
// reports through a pipe), a handler inherited across fork run by the parent's kill (with
// si_pid), a blocked read in the child interrupted by the parent's signal (EINTR) or restarted
// (SA_RESTART), kill(0, sig) reaching the sender's whole process group and nobody else, and
// kill(-pgid, SIGTERM) from outside ending a group, reaped with waitpid(-pgid).
#include "common.h"
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static void set_handler(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fn;
    sa.sa_flags = SA_SIGINFO | flags;
    sigemptyset(&sa.sa_mask);
    REQUIRE(sigaction(sig, &sa, NULL) == 0);
}

static sigset_t block(int sig)
{
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, sig);
    REQUIRE(sigprocmask(SIG_BLOCK, &set, &old) == 0);
    return old;
}

static void unblock(int sig)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    REQUIRE(sigprocmask(SIG_UNBLOCK, &set, NULL) == 0);
}

/* What the daemonised grandchild reports; each field is 1 when it holds. */
struct daemon_report {
    int setsid_returned_pid;
    int sid_is_pid;
    int pgrp_is_pid;
    int setsid_again_eperm;
    int reparented;
};

static void double_fork(void)
{
    int p[2];
    REQUIRE(pipe(p) == 0);
    pid_t child = fork_flushed();
    REQUIRE(child >= 0);
    if (child == 0) {
        pid_t me = getpid();
        pid_t grandchild = fork();
        if (grandchild == 0) {
            close(p[0]);
            struct daemon_report r;
            r.setsid_returned_pid = setsid() == getpid();
            r.sid_is_pid = getsid(0) == getpid();
            r.pgrp_is_pid = getpgrp() == getpid();
            r.setsid_again_eperm = setsid() == -1 && errno == EPERM;
            /* The parent exits right away; wait (at most ~2 s) to be given a new one. */
            r.reparented = 0;
            for (int i = 0; i < 200 && !r.reparented; i++) {
                if (getppid() != me) r.reparented = 1;
                else sleep_ms(10);
            }
            _exit(write(p[1], &r, sizeof r) == sizeof r ? 0 : 1);
        }
        _exit(grandchild > 0 ? 0 : 1);
    }
    close(p[1]);
    CHECK("intermediate_exit", child_ok(child));
    struct daemon_report r;
    memset(&r, 0, sizeof r);
    EXPECT_EQ("daemon_report", read(p[0], &r, sizeof r), (long)sizeof r);
    CHECK("daemon_setsid_returns_pid", r.setsid_returned_pid);
    CHECK("daemon_sid_is_pid", r.sid_is_pid);
    CHECK("daemon_pgrp_is_pid", r.pgrp_is_pid);
    CHECK("daemon_setsid_again_eperm", r.setsid_again_eperm);
    CHECK("daemon_reparented", r.reparented);
    char c;
    EXPECT_EQ("daemon_gone_eof", read(p[0], &c, 1), 0);
    close(p[0]);
}

static int report_fd = -1;
static volatile sig_atomic_t got;

/* Tells the pipe the signal arrived, and who sent it. */
static void report_sender(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    pid_t from = si->si_pid;
    write(report_fd, &from, sizeof from);
    got = 1;
}

/* The child inherits the parent's handler and its blocked mask; it waits in sigsuspend. */
static void kill_child_handler(void)
{
    int p[2];
    REQUIRE(pipe(p) == 0);
    report_fd = p[1];
    set_handler(SIGUSR1, report_sender, 0);
    sigset_t old = block(SIGUSR1);
    pid_t child = fork_flushed();
    REQUIRE(child >= 0);
    if (child == 0) {
        alarm(10); /* ends the child if the signal never comes */
        sigset_t wait_mask = old;
        sigdelset(&wait_mask, SIGUSR1);
        while (!got) sigsuspend(&wait_mask);
        _exit(0);
    }
    EXPECT_OK("kill_child_usr1", kill(child, SIGUSR1));
    pid_t from = 0;
    EXPECT_EQ("child_handler_report", read(p[0], &from, sizeof from), (long)sizeof from);
    CHECK("child_handler_si_pid_is_parent", from == getpid());
    CHECK("child_exit_after_handler", child_ok(child));
    CHECK("parent_handler_not_run", !got);
    unblock(SIGUSR1);
    signal(SIGUSR1, SIG_DFL);
    close(p[0]);
    close(p[1]);
}

static volatile sig_atomic_t hits;

static void count_hit(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)si;
    (void)uc;
    hits++;
}

/* The parent signals the child while it is blocked in read on an empty pipe. Signals are sent
 * repeatedly, because the first one may arrive before the child has started to read. */
static void interrupted_read(int restart)
{
    int p[2];
    REQUIRE(pipe(p) == 0);
    set_handler(SIGUSR1, count_hit, restart ? SA_RESTART : 0);
    pid_t child = fork_flushed();
    REQUIRE(child >= 0);
    if (child == 0) {
        close(p[1]);
        char c = 0;
        ssize_t n = read(p[0], &c, 1);
        if (restart) _exit(n == 1 && c == 'x' && hits > 0 ? 0 : 1);
        _exit(n == -1 && errno == EINTR && hits > 0 ? 0 : 1);
    }
    close(p[0]);
    int st = 0;
    pid_t done = 0;
    for (int i = 0; i < 500 && done == 0; i++) {
        kill(child, SIGUSR1);
        sleep_ms(10);
        /* With SA_RESTART the read goes on: after a few signals, give it its byte. */
        if (restart && i == 10) REQUIRE(write(p[1], "x", 1) == 1);
        done = waitpid(child, &st, WNOHANG);
    }
    CHECK(restart ? "sa_restart_read_resumed" : "read_interrupted_eintr",
          done == child && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    signal(SIGUSR1, SIG_DFL);
    close(p[1]);
}

/* Counts the bytes of each kind read from `fd` until EOF. */
static void tally(int fd, int *leader, int *members)
{
    char c;
    *leader = *members = 0;
    while (read(fd, &c, 1) == 1) {
        if (c == 'l') ++*leader;
        else if (c == 'm') ++*members;
    }
}

static void mark_leader(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)si;
    (void)uc;
    write(report_fd, "l", 1);
    got = 1;
}

static void mark_member(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)si;
    (void)uc;
    write(report_fd, "m", 1);
    got = 1;
}

/* A leader makes a new process group with three members, then kill(0, SIGUSR2): the four
 * receive it; the test process, outside the group with SIGUSR2's default action, does not. */
static void kill_own_group(void)
{
    enum { MEMBERS = 3 };
    int report[2], ready[2];
    REQUIRE(pipe(report) == 0 && pipe(ready) == 0);
    pid_t leader = fork_flushed();
    REQUIRE(leader >= 0);
    if (leader == 0) {
        close(report[0]);
        report_fd = report[1];
        if (setpgid(0, 0) != 0) _exit(2);
        sigset_t old = block(SIGUSR2);
        sigset_t wait_mask = old;
        sigdelset(&wait_mask, SIGUSR2);
        set_handler(SIGUSR2, mark_member, 0);
        pid_t members[MEMBERS];
        for (int i = 0; i < MEMBERS; i++) {
            members[i] = fork();
            if (members[i] == 0) {
                alarm(10); /* ends the member if the signal never comes */
                if (write(ready[1], "r", 1) != 1) _exit(3);
                while (!got) sigsuspend(&wait_mask);
                _exit(0);
            }
        }
        /* Wait for every member's "ready". */
        char c;
        for (int i = 0; i < MEMBERS; i++)
            if (read(ready[0], &c, 1) != 1) _exit(4);
        int ok = 1;
        for (int i = 0; i < MEMBERS; i++) ok &= members[i] > 0 && getpgid(members[i]) == getpid();
        set_handler(SIGUSR2, mark_leader, 0);
        ok &= kill(0, SIGUSR2) == 0;
        while (!got) sigsuspend(&wait_mask);
        for (int i = 0; i < MEMBERS; i++) ok &= child_ok(members[i]);
        _exit(ok ? 0 : 5);
    }
    close(report[1]);
    close(ready[1]);
    CHECK("group_leader_ok", child_ok(leader));
    int leaders, members;
    tally(report[0], &leaders, &members);
    EXPECT_EQ("group_leader_signaled", leaders, 1);
    EXPECT_EQ("group_members_signaled", members, MEMBERS);
    close(report[0]);
    close(ready[0]);
}

/* The test process sends SIGTERM (default action) to another group: all its processes end. */
static void kill_other_group(void)
{
    enum { MEMBERS = 2 };
    int ready[2];
    REQUIRE(pipe(ready) == 0);
    pid_t leader = fork_flushed();
    REQUIRE(leader >= 0);
    if (leader == 0) {
        close(ready[0]);
        /* Timers do not survive fork: each process sets its own, so that all of them end even
         * if the test fails to kill them. */
        alarm(10);
        setpgid(0, 0);
        for (int i = 0; i < MEMBERS; i++) {
            if (fork() == 0) {
                alarm(10);
                write(ready[1], "r", 1);
                for (;;) pause();
            }
        }
        write(ready[1], "r", 1);
        for (;;) pause();
    }
    /* Both sides set the group, so it exists whichever runs first. */
    setpgid(leader, leader);
    close(ready[1]);
    char c;
    int readies = 0;
    for (int i = 0; i < MEMBERS + 1; i++) readies += read(ready[0], &c, 1) == 1;
    EXPECT_EQ("other_group_ready", readies, MEMBERS + 1);
    CHECK("other_group_is_leader", getpgid(leader) == leader);
    CHECK("other_group_not_ours", getpgid(leader) != getpgrp());
    EXPECT_OK("kill_other_group", kill(-leader, SIGTERM));
    /* Every holder of the write end has died once read sees EOF. */
    EXPECT_EQ("other_group_all_gone", read(ready[0], &c, 1), 0);
    int st;
    /* Under Veil this program is pid 1, so the members, orphaned when the leader died first,
     * may be our children too (natively they go to init): reap the group until the leader. */
    pid_t got;
    while ((got = waitpid(-leader, &st, 0)) > 0 && got != leader) {
    }
    EXPECT_EQ("waitpid_group_reaps_leader", got == leader, 1);
    CHECK("leader_killed_by_sigterm", WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
    close(ready[0]);
}

int main(void)
{
    double_fork();
    kill_child_handler();
    interrupted_read(0);
    interrupted_read(1);
    kill_own_group();
    kill_other_group();
    return finish();
}
