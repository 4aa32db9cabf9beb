// What a vfork parent finds when its child execs or ends first: the child's pid, its own
// registers and FP control state (the child ran on its parent's host thread under Veil), signals
// sent to it meanwhile (handled as vfork returns), and its other threads still running. Children
// that end by _exit after a failed exec, by a signal or by a fault; a nested vfork; getpid and
// getppid in the child; a vfork from a second thread. While a thread's vfork child runs: its
// parent killed (the child still execs), another thread calling exit, another thread execing.
#include "common.h"
#include <pthread.h>
#include <signal.h>

static volatile sig_atomic_t got_usr1;
static void on_usr1(int sig)
{
    (void)sig;
    got_usr1++;
}

static unsigned get_mxcsr(void)
{
    unsigned v;
    __asm__ volatile("stmxcsr %0" : "=m"(v));
    return v;
}

static void set_mxcsr(unsigned v)
{
    __asm__ volatile("ldmxcsr %0" : : "m"(v));
}

/* MXCSR rounding control: bits 13-14. */
#define ROUND_DOWN 0x2000u
#define ROUND_UP 0x4000u
#define ROUNDING 0x6000u

static int wait_status(pid_t pid)
{
    int st = -1;
    if (waitpid(pid, &st, 0) != pid) return -1;
    return st;
}

/* vfork, then the child sets rounding up and execs `prog` (or _exits 127 if that fails):
 * the parent's own rounding (down) must survive. */
static void fp_state_survives(const char *label, const char *prog, int want_code)
{
    unsigned saved = get_mxcsr();
    set_mxcsr((saved & ~ROUNDING) | ROUND_DOWN);
    pid_t pid = vfork();
    if (pid == 0) {
        set_mxcsr((get_mxcsr() & ~ROUNDING) | ROUND_UP);
        execl(prog, prog, (char *)NULL);
        _exit(127);
    }
    unsigned after = get_mxcsr();
    set_mxcsr(saved);
    char name[64];
    snprintf(name, sizeof name, "%s_rounding_kept", label);
    CHECK(name, (after & ROUNDING) == ROUND_DOWN);
    int st = wait_status(pid);
    snprintf(name, sizeof name, "%s_status", label);
    CHECK(name, WIFEXITED(st) && WEXITSTATUS(st) == want_code);
}

static volatile int ticking;
static volatile long ticks;
static void *ticker(void *arg)
{
    (void)arg;
    while (ticking) ticks++;
    return NULL;
}

static void *vfork_from_thread(void *arg)
{
    (void)arg;
    pid_t pid = vfork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", "exit 9", (char *)NULL);
        _exit(127);
    }
    int st = wait_status(pid);
    return (void *)(long)(WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* A forked process whose thread waits for its vfork child while another thread, after 0.1 s,
 * exits (`exit_code`) or execs a shell that exits 5; the child ends after 0.3 s. */
static int second_thread_exits;
static void *end_meanwhile(void *arg)
{
    (void)arg;
    usleep(100000);
    if (second_thread_exits) exit(3);
    execl("/bin/sh", "sh", "-c", "exit 5", (char *)NULL);
    return NULL;
}

static int process_status_while_lent(int exits)
{
    second_thread_exits = exits;
    pid_t p = fork();
    if (p == 0) {
        pthread_t t;
        pthread_create(&t, NULL, end_meanwhile, NULL);
        if (vfork() == 0) {
            usleep(300000);
            _exit(7);
        }
        for (;;) pause();
    }
    return wait_status(p);
}

/* A vfork child kills its parent, then execs a program that leaves a file behind. */
static int runs_after_parent_killed(void)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/vfork_lend_%d", (int)getpid());
    unlink(path);
    pid_t p = fork();
    if (p == 0) {
        if (vfork() == 0) {
            kill(getppid(), SIGTERM);
            execl("/bin/sh", "sh", "-c", "echo ran > \"$0\"", path, (char *)NULL);
            _exit(127);
        }
        for (;;) pause();
    }
    int st = wait_status(p);
    int ran = 0;
    for (int i = 0; i < 500 && !ran; i++) {
        ran = access(path, F_OK) == 0;
        if (!ran) usleep(10000);
    }
    unlink(path);
    return WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM && ran;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    fp_state_survives("exec", "/bin/true", 0);
    fp_state_survives("failed_exec", "/nonexistent/program", 127);

    /* What the child sees of itself and its parent, written into the shared memory. */
    static volatile pid_t seen_pid, seen_ppid;
    pid_t me = getpid();
    pid_t pid = vfork();
    if (pid == 0) {
        seen_pid = getpid();
        seen_ppid = getppid();
        _exit(4);
    }
    CHECK("child_pid_returned", pid > 0 && seen_pid == pid);
    CHECK("child_parent_is_caller", seen_ppid == me);
    int st = wait_status(pid);
    CHECK("exit_4", WIFEXITED(st) && WEXITSTATUS(st) == 4);

    /* A signal sent to the parent while it waits is handled as vfork returns. */
    signal(SIGUSR1, on_usr1);
    pid = vfork();
    if (pid == 0) {
        kill(getppid(), SIGUSR1);
        _exit(0);
    }
    CHECK("signal_while_lent_exit", got_usr1 == 1);
    wait_status(pid);
    pid = vfork();
    if (pid == 0) {
        kill(getppid(), SIGUSR1);
        execl("/bin/true", "true", (char *)NULL);
        _exit(127);
    }
    CHECK("signal_while_lent_exec", got_usr1 == 2);
    wait_status(pid);

    /* Children that end by a signal or a fault before they exec. */
    pid = vfork();
    if (pid == 0) {
        kill(getpid(), SIGKILL);
        _exit(1);
    }
    st = wait_status(pid);
    CHECK("killed_child", WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    pid = vfork();
    if (pid == 0) {
        *(volatile int *)8 = 1;
        _exit(1);
    }
    st = wait_status(pid);
    CHECK("faulting_child", WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);

    /* A vfork child that vforks in turn. */
    pid = vfork();
    if (pid == 0) {
        pid_t inner = vfork();
        if (inner == 0) _exit(7);
        int ist = wait_status(inner);
        _exit(WIFEXITED(ist) && WEXITSTATUS(ist) == 7 ? 8 : 1);
    }
    st = wait_status(pid);
    CHECK("nested_vfork", WIFEXITED(st) && WEXITSTATUS(st) == 8);

    /* Other threads of the parent run on while a vfork child runs; a second thread vforks. */
    ticking = 1;
    pthread_t t;
    pthread_create(&t, NULL, ticker, NULL);
    while (ticks == 0) sched_yield();
    pid = vfork();
    if (pid == 0) {
        long before = ticks;
        while (ticks == before) sched_yield();
        execl("/bin/true", "true", (char *)NULL);
        _exit(127);
    }
    st = wait_status(pid);
    CHECK("other_thread_ran_meanwhile", WIFEXITED(st) && WEXITSTATUS(st) == 0);
    ticking = 0;
    pthread_join(t, NULL);
    void *code;
    pthread_create(&t, NULL, vfork_from_thread, NULL);
    pthread_join(t, &code);
    CHECK("vfork_from_second_thread", (long)code == 9);

    st = process_status_while_lent(1);
    CHECK("exit_while_lent", WIFEXITED(st) && WEXITSTATUS(st) == 3);
    st = process_status_while_lent(0);
    CHECK("exec_while_lent", WIFEXITED(st) && WEXITSTATUS(st) == 5);
    CHECK("child_runs_after_parent_killed", runs_after_parent_killed());
    return finish();
}
