// Syscall sites of the `mov $nr, %eax; syscall` form (what glibc and musl emit), which Veil
// patches into jumps to its fast path the first time they run: the program's red zone below
// the stack pointer survives; registers other than rax, rcx and r11 are preserved; errors come
// back as -errno; the SSE registers survive a syscall that copies memory; a jump straight to the `syscall` instruction still works; signals sent while
// a thread loops on such a site are all delivered (none lost between the syscall's end and
// the return to the program); several threads racing on a fresh site all get right results.
#include "common.h"
#include <pthread.h>
#include <signal.h>
#include <sched.h>

/* getppid through a site of the patched form; the red zone is filled around it and
 * checked after. Returns 1 if all of it survived. Runs 128 bytes below its own frame so that
 * it touches nothing the compiler keeps there. */
static int red_zone_survives(long *ppid)
{
    long ok, result;
    __asm__ volatile("sub $256, %%rsp\n\t"
                     "movabs $0x1122334455667788, %%rdx\n\t"
                     "mov %%rdx, -8(%%rsp)\n\t"
                     "mov %%rdx, -16(%%rsp)\n\t"
                     "mov %%rdx, -64(%%rsp)\n\t"
                     "mov %%rdx, -128(%%rsp)\n\t"
                     "mov $110, %%eax\n\t"
                     "syscall\n\t"
                     "mov %%rax, %%rsi\n\t"
                     "xor %%eax, %%eax\n\t"
                     "cmp %%rdx, -8(%%rsp)\n\t"
                     "jne 1f\n\t"
                     "cmp %%rdx, -16(%%rsp)\n\t"
                     "jne 1f\n\t"
                     "cmp %%rdx, -64(%%rsp)\n\t"
                     "jne 1f\n\t"
                     "cmp %%rdx, -128(%%rsp)\n\t"
                     "jne 1f\n\t"
                     "mov $1, %%eax\n\t"
                     "1:\n\t"
                     "add $256, %%rsp\n\t"
                     : "=a"(ok), "=S"(result)
                     :
                     : "rcx", "rdx", "r11", "memory");
    *ppid = result;
    return (int)ok;
}

/* Callee-visible registers across a patched-form site (close(-1): EBADF). */
static int registers_survive(long *result)
{
    long ok, r;
    __asm__ volatile("push %%rbx\n\t"
                     "push %%rbp\n\t"
                     "push %%r12\n\t"
                     "movabs $0x0101010101010101, %%rbx\n\t"
                     "movabs $0x0202020202020202, %%rbp\n\t"
                     "movabs $0x0303030303030303, %%r12\n\t"
                     "movabs $0x0404040404040404, %%r8\n\t"
                     "movabs $0x0505050505050505, %%r9\n\t"
                     "movabs $0x0606060606060606, %%r10\n\t"
                     "mov $-1, %%rdi\n\t"
                     "movabs $0x0707070707070707, %%rsi\n\t"
                     "movabs $0x0808080808080808, %%rdx\n\t"
                     "mov $3, %%eax\n\t"
                     "syscall\n\t"
                     "mov %%rax, %%rcx\n\t"
                     "xor %%eax, %%eax\n\t"
                     "movabs $0x0101010101010101, %%r11\n\t"
                     "cmp %%r11, %%rbx\n\t"
                     "jne 1f\n\t"
                     "movabs $0x0202020202020202, %%r11\n\t"
                     "cmp %%r11, %%rbp\n\t"
                     "jne 1f\n\t"
                     "movabs $0x0303030303030303, %%r11\n\t"
                     "cmp %%r11, %%r12\n\t"
                     "jne 1f\n\t"
                     "movabs $0x0404040404040404, %%r11\n\t"
                     "cmp %%r11, %%r8\n\t"
                     "jne 1f\n\t"
                     "movabs $0x0505050505050505, %%r11\n\t"
                     "cmp %%r11, %%r9\n\t"
                     "jne 1f\n\t"
                     "movabs $0x0606060606060606, %%r11\n\t"
                     "cmp %%r11, %%r10\n\t"
                     "jne 1f\n\t"
                     "cmp $-1, %%rdi\n\t"
                     "jne 1f\n\t"
                     "movabs $0x0707070707070707, %%r11\n\t"
                     "cmp %%r11, %%rsi\n\t"
                     "jne 1f\n\t"
                     "movabs $0x0808080808080808, %%r11\n\t"
                     "cmp %%r11, %%rdx\n\t"
                     "jne 1f\n\t"
                     "mov $1, %%eax\n\t"
                     "1:\n\t"
                     "pop %%r12\n\t"
                     "pop %%rbp\n\t"
                     "pop %%rbx\n\t"
                     : "=a"(ok), "=c"(r)
                     :
                     : "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory");
    *result = r;
    return (int)ok;
}

/* getcwd (which copies memory) through a patched-form site with all SSE registers loaded;
 * their values after it go to `after`. */
static long sse_across_getcwd(const unsigned char before[16][16], unsigned char after[16][16],
                              char *buf, long len)
{
    long r;
    __asm__ volatile("movdqu 0(%1), %%xmm0\n\t"
                     "movdqu 16(%1), %%xmm1\n\t"
                     "movdqu 32(%1), %%xmm2\n\t"
                     "movdqu 48(%1), %%xmm3\n\t"
                     "movdqu 64(%1), %%xmm4\n\t"
                     "movdqu 80(%1), %%xmm5\n\t"
                     "movdqu 96(%1), %%xmm6\n\t"
                     "movdqu 112(%1), %%xmm7\n\t"
                     "movdqu 128(%1), %%xmm8\n\t"
                     "movdqu 144(%1), %%xmm9\n\t"
                     "movdqu 160(%1), %%xmm10\n\t"
                     "movdqu 176(%1), %%xmm11\n\t"
                     "movdqu 192(%1), %%xmm12\n\t"
                     "movdqu 208(%1), %%xmm13\n\t"
                     "movdqu 224(%1), %%xmm14\n\t"
                     "movdqu 240(%1), %%xmm15\n\t"
                     "mov $79, %%eax\n\t"
                     "syscall\n\t"
                     "movdqu %%xmm0, 0(%2)\n\t"
                     "movdqu %%xmm1, 16(%2)\n\t"
                     "movdqu %%xmm2, 32(%2)\n\t"
                     "movdqu %%xmm3, 48(%2)\n\t"
                     "movdqu %%xmm4, 64(%2)\n\t"
                     "movdqu %%xmm5, 80(%2)\n\t"
                     "movdqu %%xmm6, 96(%2)\n\t"
                     "movdqu %%xmm7, 112(%2)\n\t"
                     "movdqu %%xmm8, 128(%2)\n\t"
                     "movdqu %%xmm9, 144(%2)\n\t"
                     "movdqu %%xmm10, 160(%2)\n\t"
                     "movdqu %%xmm11, 176(%2)\n\t"
                     "movdqu %%xmm12, 192(%2)\n\t"
                     "movdqu %%xmm13, 208(%2)\n\t"
                     "movdqu %%xmm14, 224(%2)\n\t"
                     "movdqu %%xmm15, 240(%2)\n\t"
                     : "=a"(r)
                     : "r"(before), "r"(after), "D"(buf), "S"(len)
                     : "rcx", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5",
                       "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13",
                       "xmm14", "xmm15");
    return r;
}

/* getpid through the patched form, or (with `direct` set) by jumping straight to the
 * `syscall` instruction with the number loaded elsewhere. */
static long getpid_site(int direct)
{
    long r;
    __asm__ volatile("test %1, %1\n\t"
                     "jz 1f\n\t"
                     "mov $39, %%eax\n\t"
                     "jmp 2f\n\t"
                     "1:\n\t"
                     "mov $39, %%eax\n\t"
                     "2:\n\t"
                     "syscall\n\t"
                     : "=a"(r)
                     : "r"((long)direct)
                     : "rcx", "r11", "memory");
    return r;
}

static long raw_getppid(void)
{
    long r;
    __asm__ volatile("mov $110, %%eax\n\tsyscall" : "=a"(r) : : "rcx", "r11", "memory");
    return r;
}

static volatile sig_atomic_t got;
static volatile int stop;

static void on_usr1(int sig)
{
    (void)sig;
    got = 1;
}

static void *spin_on_site(void *arg)
{
    (void)arg;
    while (!stop)
        raw_getppid();
    return NULL;
}

/* A fresh site for the race: every thread calls it at once. */
static long raw_getuid(void)
{
    long r;
    __asm__ volatile("mov $102, %%eax\n\tsyscall" : "=a"(r) : : "rcx", "r11", "memory");
    return r;
}

static pthread_barrier_t barrier;
static volatile int race_bad;

static void *race(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&barrier);
    for (int i = 0; i < 2000; i++)
        if (raw_getuid() != (long)getuid())
            race_bad = 1;
    return NULL;
}

int main(void)
{
    long ppid = 0;
    int red_ok = 1;
    for (int i = 0; i < 1000; i++)
        red_ok &= red_zone_survives(&ppid);
    CHECK("red zone intact", red_ok);
    CHECK("getppid through the site", ppid == (long)getppid());

    long result = 0;
    int regs_ok = 1;
    for (int i = 0; i < 1000; i++)
        regs_ok &= registers_survive(&result);
    CHECK("registers preserved", regs_ok);
    CHECK("close(-1) gives -EBADF", result == -EBADF);

    unsigned char before[16][16], after[16][16];
    for (int i = 0; i < 256; i++)
        before[i / 16][i % 16] = (unsigned char)(i * 7 + 1);
    char cwd[4096];
    int sse_ok = 1;
    for (int i = 0; i < 200; i++) {
        memset(after, 0, sizeof after);
        sse_ok &= sse_across_getcwd(before, after, cwd, sizeof cwd) > 0 &&
                  memcmp(before, after, sizeof before) == 0;
    }
    CHECK("SSE registers preserved", sse_ok);

    int same = 1;
    for (int i = 0; i < 1000; i++)
        same &= getpid_site(i & 1) == (long)getpid();
    CHECK("jump to the syscall instruction works", same);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    pthread_t spinner;
    REQUIRE(pthread_create(&spinner, NULL, spin_on_site, NULL) == 0);
    int delivered = 0;
    for (int i = 0; i < 1000; i++) {
        got = 0;
        pthread_kill(spinner, SIGUSR1);
        while (!got)
            sched_yield();
        delivered++;
    }
    stop = 1;
    pthread_join(spinner, NULL);
    EXPECT_EQ("signals delivered to a thread looping on a site", delivered, 1000);

    enum { RACERS = 4 };
    pthread_t racers[RACERS];
    pthread_barrier_init(&barrier, NULL, RACERS);
    for (int i = 0; i < RACERS; i++)
        REQUIRE(pthread_create(&racers[i], NULL, race, NULL) == 0);
    for (int i = 0; i < RACERS; i++)
        pthread_join(racers[i], NULL);
    CHECK("threads racing on a fresh site", !race_bad);
    return finish();
}
