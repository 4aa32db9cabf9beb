// rt_sigaction/rt_sigprocmask/rt_sigpending/sigaltstack state round trips.
// Handlers are installed and read back, masks blocked and unblocked; no
// signal is ever raised.
#include "common.h"
#include <signal.h>

#define VT_SA_RESTORER 0x04000000UL

/* The kernel's struct sigaction on x86-64. */
struct vt_ksigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    uint64_t mask;
};

static void handler_a(int sig) { (void)sig; }
static void handler_b(int sig, siginfo_t *si, void *uc) { (void)sig; (void)si; (void)uc; }

static uint64_t bit(int sig) { return 1ULL << (sig - 1); }

static uint64_t blocked_raw(void)
{
    uint64_t cur = 0;
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &cur, 8);
    return cur;
}

int main(void)
{
    struct sigaction sa, old;
    memset(&old, 0, sizeof old);
    EXPECT_OK("query_usr1", sigaction(SIGUSR1, NULL, &old));
    CHECK("usr1_initially_default", old.sa_handler == SIG_DFL);
    CHECK("initial_mask_empty", blocked_raw() == 0);

    /* Install a plain handler with a mask and flags; read it back. */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler_a;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR2);
    sigaddset(&sa.sa_mask, SIGTERM);
    sa.sa_flags = SA_RESTART | SA_NODEFER;
    EXPECT_OK("install_usr1", sigaction(SIGUSR1, &sa, NULL));
    memset(&old, 0, sizeof old);
    EXPECT_OK("readback_usr1", sigaction(SIGUSR1, NULL, &old));
    CHECK("handler_round_trip", old.sa_handler == handler_a);
    printf("flags: 0x%x\n", (unsigned)old.sa_flags & ~(unsigned)VT_SA_RESTORER);
    CHECK("mask_has_usr2", sigismember(&old.sa_mask, SIGUSR2) == 1);
    CHECK("mask_has_term", sigismember(&old.sa_mask, SIGTERM) == 1);
    CHECK("mask_lacks_int", sigismember(&old.sa_mask, SIGINT) == 0);

    /* SA_SIGINFO handler; the old action is returned when replacing. */
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler_b;
    sa.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_ONSTACK;
    memset(&old, 0, sizeof old);
    EXPECT_OK("replace_usr1", sigaction(SIGUSR1, &sa, &old));
    CHECK("old_is_previous", old.sa_handler == handler_a);
    sigaction(SIGUSR1, NULL, &old);
    CHECK("siginfo_handler_round_trip", old.sa_sigaction == handler_b);
    printf("siginfo_flags: 0x%x\n", (unsigned)old.sa_flags & ~(unsigned)VT_SA_RESTORER);

    /* SIG_IGN and back to SIG_DFL. */
    sa.sa_handler = SIG_IGN;
    sa.sa_flags = 0;
    EXPECT_OK("ignore_usr2", sigaction(SIGUSR2, &sa, NULL));
    sigaction(SIGUSR2, NULL, &old);
    CHECK("usr2_ignored", old.sa_handler == SIG_IGN);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGUSR2, &sa, NULL);
    sigaction(SIGUSR2, NULL, &old);
    CHECK("usr2_default_again", old.sa_handler == SIG_DFL);
    /* Real-time signals too. */
    sa.sa_handler = handler_a;
    EXPECT_OK("install_rtmin_plus_5", sigaction(SIGRTMIN + 5, &sa, NULL));
    sigaction(SIGRTMIN + 5, NULL, &old);
    CHECK("rt_handler_round_trip", old.sa_handler == handler_a);

    /* Raw rt_sigaction with the kernel structure. */
    struct vt_ksigaction k = {0}, kold = {0};
    EXPECT_OK("raw_query_usr1", syscall(SYS_rt_sigaction, SIGUSR1, NULL, &kold, 8));
    CHECK("raw_handler", kold.handler == (void *)handler_b);
    CHECK("raw_has_restorer", (kold.flags & VT_SA_RESTORER) && kold.restorer != NULL);
    k.handler = (void *)handler_a;
    k.flags = SA_RESTART | VT_SA_RESTORER;
    k.restorer = kold.restorer;
    k.mask = bit(SIGINT) | bit(SIGKILL) | bit(SIGSTOP);
    EXPECT_OK("raw_install_usr2", syscall(SYS_rt_sigaction, SIGUSR2, &k, NULL, 8));
    memset(&kold, 0, sizeof kold);
    syscall(SYS_rt_sigaction, SIGUSR2, NULL, &kold, 8);
    CHECK("raw_readback_handler", kold.handler == (void *)handler_a);
    printf("raw_readback_mask_has_int: %d\n", !!(kold.mask & bit(SIGINT)));
    printf("raw_readback_mask_has_kill: %d\n", !!(kold.mask & bit(SIGKILL)));
    printf("raw_readback_mask_has_stop: %d\n", !!(kold.mask & bit(SIGSTOP)));

    /* Errors. */
    EXPECT_ERR("sigkill_install", sigaction(SIGKILL, &sa, NULL), EINVAL);
    EXPECT_ERR("sigstop_install", sigaction(SIGSTOP, &sa, NULL), EINVAL);
    EXPECT_OK("sigkill_query", sigaction(SIGKILL, NULL, &old));
    EXPECT_ERR("signal_0", syscall(SYS_rt_sigaction, 0, NULL, &kold, 8), EINVAL);
    EXPECT_ERR("signal_65", syscall(SYS_rt_sigaction, 65, NULL, &kold, 8), EINVAL);
    EXPECT_ERR("bad_sigsetsize", syscall(SYS_rt_sigaction, SIGUSR1, NULL, &kold, 4), EINVAL);
    EXPECT_ERR("act_efault", syscall(SYS_rt_sigaction, SIGUSR1, BAD_PTR, NULL, 8), EFAULT);

    /* rt_sigprocmask: block, read back, unblock, setmask. */
    sigset_t set, cur;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGTERM);
    EXPECT_OK("block", sigprocmask(SIG_BLOCK, &set, NULL));
    sigprocmask(SIG_BLOCK, NULL, &cur);
    CHECK("usr1_blocked", sigismember(&cur, SIGUSR1) == 1);
    CHECK("term_blocked", sigismember(&cur, SIGTERM) == 1);
    CHECK("int_not_blocked", sigismember(&cur, SIGINT) == 0);
    EXPECT_EQ("raw_mask_after_block", blocked_raw() == (bit(SIGUSR1) | bit(SIGTERM)), 1);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    EXPECT_OK("unblock", sigprocmask(SIG_UNBLOCK, &set, NULL));
    EXPECT_EQ("raw_mask_after_unblock", blocked_raw() == bit(SIGUSR1), 1);
    /* SIGKILL and SIGSTOP cannot be blocked: silently dropped. */
    uint64_t want = bit(SIGKILL) | bit(SIGSTOP) | bit(SIGHUP), old_mask = 0;
    EXPECT_OK("raw_setmask", syscall(SYS_rt_sigprocmask, SIG_SETMASK, &want, &old_mask, 8));
    CHECK("raw_old_mask", old_mask == bit(SIGUSR1));
    EXPECT_EQ("kill_stop_not_blocked", blocked_raw() == bit(SIGHUP), 1);
    EXPECT_ERR("bad_how", syscall(SYS_rt_sigprocmask, 7, &want, NULL, 8), EINVAL);
    EXPECT_ERR("mask_bad_sigsetsize", syscall(SYS_rt_sigprocmask, SIG_BLOCK, &want, NULL, 16), EINVAL);
    EXPECT_ERR("mask_efault", syscall(SYS_rt_sigprocmask, SIG_BLOCK, BAD_PTR, NULL, 8), EFAULT);
    uint64_t none = 0;
    EXPECT_OK("unblock_all", syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, 8));
    EXPECT_EQ("mask_empty_again", blocked_raw(), 0);

    /* Nothing is pending. */
    uint64_t pend = 0xff;
    EXPECT_OK("sigpending", syscall(SYS_rt_sigpending, &pend, 8));
    EXPECT_EQ("nothing_pending", pend, 0);

    /* sigaltstack round trip. */
    static char stack_mem[65536];
    stack_t ss = {.ss_sp = stack_mem, .ss_size = sizeof stack_mem, .ss_flags = 0}, oss;
    EXPECT_OK("altstack_query", sigaltstack(NULL, &oss));
    CHECK("altstack_initially_disabled", oss.ss_flags == SS_DISABLE);
    EXPECT_OK("altstack_set", sigaltstack(&ss, NULL));
    memset(&oss, 0, sizeof oss);
    sigaltstack(NULL, &oss);
    CHECK("altstack_round_trip", oss.ss_sp == stack_mem && oss.ss_size == sizeof stack_mem && oss.ss_flags == 0);
    stack_t small = {.ss_sp = stack_mem, .ss_size = 100, .ss_flags = 0};
    EXPECT_ERR("altstack_too_small", sigaltstack(&small, NULL), ENOMEM);
    stack_t badf = {.ss_sp = stack_mem, .ss_size = sizeof stack_mem, .ss_flags = 0x1234};
    EXPECT_ERR("altstack_bad_flags", sigaltstack(&badf, NULL), EINVAL);
    stack_t dis = {.ss_flags = SS_DISABLE};
    EXPECT_OK("altstack_disable", sigaltstack(&dis, NULL));
    sigaltstack(NULL, &oss);
    CHECK("altstack_disabled", oss.ss_flags == SS_DISABLE);
    return finish();
}
