// Signal handlers: SA_SIGINFO contents for raise/kill, the mask inside a handler (own signal
// and sa_mask blocked; SA_NODEFER), SA_RESETHAND, a blocked signal delivered when unblocked,
// registers and FP state preserved across a handler, SIGSEGV and SIGFPE caught and left with
// siglongjmp, and a stack overflow handled on an alternate signal stack.
#include "common.h"
#include <setjmp.h>
#include <signal.h>

static sigjmp_buf env;
static volatile sig_atomic_t hits, last_sig, last_code, usr2_blocked_inside, self_blocked_inside;
static volatile pid_t last_pid;
static volatile void *last_addr;
static volatile int depth;

static void on_info(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    hits++;
    last_sig = sig;
    last_code = si->si_code;
    last_pid = si->si_pid;
    usr2_blocked_inside = sigismember(&now, SIGUSR2);
    self_blocked_inside = sigismember(&now, sig);
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    last_sig = sig;
    last_addr = si->si_addr;
    last_code = si->si_code;
    siglongjmp(env, 1);
}

/* Recurses until the stack runs out (the fault handler leaves with siglongjmp). */
static int recurse(int n)
{
    volatile char pad[4096];
    pad[0] = (char)n;
    depth++;
    return n < 0 ? 0 : recurse(n + 1) + pad[0];
}

static double fp_work(double x)
{
    return x * 1.25 + 0.5;
}

static void clobber_fp(int sig)
{
    (void)sig;
    volatile double junk = 12345.678;
    junk = junk * junk;
    hits++;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_info;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR2);
    EXPECT_OK("sigaction_usr1", sigaction(SIGUSR1, &sa, NULL));
    EXPECT_OK("raise", raise(SIGUSR1));
    EXPECT_EQ("handled_once", hits, 1);
    EXPECT_EQ("signo", last_sig, SIGUSR1);
    EXPECT_EQ("code_is_tkill", last_code, SI_TKILL);
    CHECK("pid_is_self", last_pid == getpid());
    EXPECT_EQ("sa_mask_blocked_inside", usr2_blocked_inside, 1);
    EXPECT_EQ("own_signal_blocked_inside", self_blocked_inside, 1);
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    EXPECT_EQ("mask_restored_after", sigismember(&now, SIGUSR2), 0);

    EXPECT_OK("kill_self", kill(getpid(), SIGUSR1));
    EXPECT_EQ("kill_code_is_user", last_code, SI_USER);

    sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    EXPECT_OK("sigaction_nodefer", sigaction(SIGUSR2, &sa, NULL));
    EXPECT_OK("raise_usr2", raise(SIGUSR2));
    EXPECT_EQ("nodefer_not_blocked", self_blocked_inside, 0);
    struct sigaction old;
    sigaction(SIGUSR2, NULL, &old);
    CHECK("resethand_back_to_default", old.sa_handler == SIG_DFL);

    /* A blocked signal waits, then arrives as soon as it is unblocked. */
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, NULL);
    int before = hits;
    raise(SIGUSR1);
    EXPECT_EQ("blocked_not_delivered", hits - before, 0);
    sigset_t pending;
    sigpending(&pending);
    EXPECT_EQ("shows_pending", sigismember(&pending, SIGUSR1), 1);
    sigprocmask(SIG_UNBLOCK, &block, NULL);
    EXPECT_EQ("delivered_on_unblock", hits - before, 1);

    /* FP registers survive a handler that uses them. */
    signal(SIGUSR1, clobber_fp);
    volatile double x = fp_work(2.0);
    raise(SIGUSR1);
    volatile double y = fp_work(x);
    CHECK("fp_preserved", x == 3.0 && y == 4.25);

    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO;
    EXPECT_OK("sigaction_segv", sigaction(SIGSEGV, &sa, NULL));
    if (sigsetjmp(env, 1) == 0) {
        *(volatile int *)64 = 1;
        printf("not reached\n");
    }
    EXPECT_EQ("segv_caught", last_sig, SIGSEGV);
    CHECK("segv_addr", last_addr == (void *)64);
    EXPECT_EQ("segv_code_maperr", last_code, SEGV_MAPERR);

    EXPECT_OK("sigaction_fpe", sigaction(SIGFPE, &sa, NULL));
    volatile int zero = 0;
    if (sigsetjmp(env, 1) == 0) {
        printf("%d\n", 7 / zero);
    }
    EXPECT_EQ("fpe_caught", last_sig, SIGFPE);
    EXPECT_EQ("fpe_code_intdiv", last_code, FPE_INTDIV);

    /* Stack overflow: only an alternate stack leaves room for the handler. */
    stack_t ss;
    ss.ss_sp = malloc(64 * 1024);
    ss.ss_size = 64 * 1024;
    ss.ss_flags = 0;
    EXPECT_OK("sigaltstack", sigaltstack(&ss, NULL));
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGSEGV, &sa, NULL);
    last_sig = 0;
    if (sigsetjmp(env, 1) == 0) printf("%d\n", recurse(1));
    EXPECT_EQ("overflow_caught", last_sig, SIGSEGV);
    CHECK("went_deep", depth > 100);
    return finish();
}
