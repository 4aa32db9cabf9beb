// Syscall sites of the `mov $nr, %eax; syscall` form (what glibc and musl emit), which Veil
// patches into jumps to its fast path the first time they run: the program's red zone below
// the stack pointer survives; registers other than rax, rcx and r11 are preserved; errors come
// back as -errno; a jump straight to the `syscall` instruction still works; signals sent while
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
