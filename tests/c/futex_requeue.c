// Futex requeue and bitsets with real waiters: four threads wait on word A; CMP_REQUEUE wakes
// one and moves two to word B (the count returned covers both); a wake on A then finds one,
// a wake on B the two requeued ones. WAIT_BITSET/WAKE_BITSET wake only matching waiters, and
// a process-shared futex in MAP_SHARED memory works between forked processes.
#include "common.h"
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_PRIVATE 128

static atomic_int word_a, word_b, woken;
static atomic_int waiting;

static long futex(atomic_int *uaddr, int op, int val, long val2, atomic_int *uaddr2, int val3)
{
    return syscall(SYS_futex, uaddr, op, val, (void *)val2, uaddr2, val3);
}

static void *waiter(void *arg)
{
    (void)arg;
    atomic_fetch_add(&waiting, 1);
    while (atomic_load(&word_a) == 0)
        futex(&word_a, FUTEX_WAIT | FUTEX_PRIVATE, 0, 0, NULL, 0);
    atomic_fetch_add(&woken, 1);
    return NULL;
}

static unsigned bits_seen;

static void *bit_waiter(void *arg)
{
    unsigned bit = (unsigned)(long)arg;
    atomic_fetch_add(&waiting, 1);
    futex(&word_b, FUTEX_WAIT_BITSET | FUTEX_PRIVATE, 0, 0, NULL, (int)bit);
    __atomic_fetch_or(&bits_seen, bit, __ATOMIC_SEQ_CST);
    return NULL;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {0, ms * 1000000};
    nanosleep(&ts, NULL);
}

/* Waits until `n` threads are asleep in the kernel on the word (best effort: a short pause
 * after they announced themselves). */
static void settle(int n)
{
    while (atomic_load(&waiting) < n) sleep_ms(1);
    sleep_ms(200);
}

int main(void)
{
    pthread_t t[4];
    for (int i = 0; i < 4; i++) REQUIRE(pthread_create(&t[i], NULL, waiter, NULL) == 0);
    settle(4);
    /* Wake 1, requeue up to 2 from A to B; the word still holds 0. */
    EXPECT_EQ("cmp_requeue_count", futex(&word_a, FUTEX_CMP_REQUEUE | FUTEX_PRIVATE, 1, 2, &word_b, 0), 3);
    sleep_ms(200);
    /* The woken one sees word_a == 0 and sleeps again on A. */
    atomic_store(&word_a, 1);
    EXPECT_EQ("wake_a_finds_two", futex(&word_a, FUTEX_WAKE | FUTEX_PRIVATE, 10, 0, NULL, 0), 2);
    EXPECT_EQ("wake_b_finds_two", futex(&word_b, FUTEX_WAKE | FUTEX_PRIVATE, 10, 0, NULL, 0), 2);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    EXPECT_EQ("all_woken", atomic_load(&woken), 4);

    /* Bitsets: only the waiter whose bit matches wakes. */
    atomic_store(&waiting, 0);
    atomic_store(&word_b, 0);
    pthread_t b1, b2;
    REQUIRE(pthread_create(&b1, NULL, bit_waiter, (void *)1L) == 0);
    REQUIRE(pthread_create(&b2, NULL, bit_waiter, (void *)2L) == 0);
    settle(2);
    EXPECT_EQ("wake_bit_2", futex(&word_b, FUTEX_WAKE_BITSET | FUTEX_PRIVATE, 10, 0, NULL, 2), 1);
    pthread_join(b2, NULL);
    EXPECT_EQ("only_bit_2", bits_seen, 2);
    EXPECT_EQ("wake_bit_1", futex(&word_b, FUTEX_WAKE_BITSET | FUTEX_PRIVATE, 10, 0, NULL, 1), 1);
    pthread_join(b1, NULL);
    EXPECT_EQ("both_bits", bits_seen, 3);

    /* A shared (non-private) futex in MAP_SHARED memory between processes. */
    atomic_int *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    REQUIRE(shared != MAP_FAILED);
    fflush(stdout);
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        atomic_store(&shared[1], 1);
        while (atomic_load(&shared[0]) == 0) futex(&shared[0], FUTEX_WAIT, 0, 0, NULL, 0);
        _exit(atomic_load(&shared[0]) == 7 ? 0 : 1);
    }
    while (atomic_load(&shared[1]) == 0) sleep_ms(1);
    sleep_ms(50);
    atomic_store(&shared[0], 7);
    EXPECT_EQ("shared_wake_across_fork", futex(&shared[0], FUTEX_WAKE, 1, 0, NULL, 0), 1);
    int st;
    waitpid(child, &st, 0);
    CHECK("child_woken", WIFEXITED(st) && WEXITSTATUS(st) == 0);
    return finish();
}
