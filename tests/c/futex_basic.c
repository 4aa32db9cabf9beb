// futex in one thread: value mismatch (EAGAIN), relative and absolute timeouts (ETIMEDOUT),
// wakes with no waiter, FUTEX_WAKE_OP's atomic update of the second word, CMP_REQUEUE's value
// check, and argument errors (EINVAL, EFAULT, ENOSYS for PI operations).
#include "common.h"
/* musl-gcc cannot see <linux/futex.h>: the ABI values. */
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_REQUEUE 3
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAKE_OP 5
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_WAIT_PRIVATE (FUTEX_WAIT | FUTEX_PRIVATE_FLAG)
#define FUTEX_WAIT_BITSET_PRIVATE (FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG)
#define FUTEX_BITSET_MATCH_ANY 0xffffffffu
#define FUTEX_OP_ADD 1
#define FUTEX_OP_OR 2
#define FUTEX_OP_OPARG_SHIFT 8
#define FUTEX_OP_CMP_EQ 0
#define FUTEX_OP_CMP_GT 4
#define FUTEX_OP(op, oparg, cmp, cmparg) \
    ((((op) & 0xf) << 28) | (((cmp) & 0xf) << 24) | (((oparg) & 0xfff) << 12) | ((cmparg) & 0xfff))
#include <time.h>

static long futex(void *uaddr, int op, unsigned val, const void *timeout, void *uaddr2, unsigned val3)
{
    return syscall(SYS_futex, uaddr, op, val, timeout, uaddr2, val3);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(void)
{
    static unsigned word = 5, word2 = 10;
    EXPECT_ERR("wait_mismatch", futex(&word, FUTEX_WAIT, 4, NULL, NULL, 0), EAGAIN);
    EXPECT_ERR("wait_private_mismatch", futex(&word, FUTEX_WAIT_PRIVATE, 4, NULL, NULL, 0), EAGAIN);
    struct timespec rel = {0, 20 * 1000 * 1000};
    double t0 = now();
    EXPECT_ERR("wait_timeout", futex(&word, FUTEX_WAIT, 5, &rel, NULL, 0), ETIMEDOUT);
    CHECK("waited_20ms", now() - t0 >= 0.019);
    struct timespec abs;
    clock_gettime(CLOCK_MONOTONIC, &abs);
    abs.tv_nsec += 10 * 1000 * 1000;
    if (abs.tv_nsec >= 1000000000) { abs.tv_sec++; abs.tv_nsec -= 1000000000; }
    EXPECT_ERR("wait_bitset_abs_timeout",
               futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 5, &abs, NULL, FUTEX_BITSET_MATCH_ANY), ETIMEDOUT);
    struct timespec past = {0, 0};
    EXPECT_ERR("wait_bitset_past", futex(&word, FUTEX_WAIT_BITSET, 5, &past, NULL, 1), ETIMEDOUT);
    EXPECT_EQ("wake_nobody", futex(&word, FUTEX_WAKE, 1, NULL, NULL, 0), 0);
    EXPECT_EQ("wake_bitset_nobody", futex(&word, FUTEX_WAKE_BITSET, 1, NULL, NULL, 0xff), 0);
    /* WAKE_OP: word2 += 3 (op ADD=1, cmp EQ against 10 on the old value). */
    unsigned op = FUTEX_OP(FUTEX_OP_ADD, 3, FUTEX_OP_CMP_EQ, 10);
    EXPECT_EQ("wake_op", futex(&word, FUTEX_WAKE_OP, 1, (void *)1, &word2, op), 0);
    EXPECT_EQ("wake_op_updated", word2, 13);
    op = FUTEX_OP(FUTEX_OP_OR, 4, FUTEX_OP_CMP_GT, 0) | (FUTEX_OP_OPARG_SHIFT << 28);
    EXPECT_EQ("wake_op_shift", futex(&word, FUTEX_WAKE_OP, 1, (void *)1, &word2, op), 0);
    EXPECT_EQ("wake_op_or_shifted", word2, 13 | 16);
    EXPECT_ERR("cmp_requeue_mismatch", futex(&word, FUTEX_CMP_REQUEUE, 1, (void *)1, &word2, 99), EAGAIN);
    EXPECT_EQ("cmp_requeue_match", futex(&word, FUTEX_CMP_REQUEUE, 1, (void *)1, &word2, 5), 0);
    EXPECT_EQ("requeue", futex(&word, FUTEX_REQUEUE, 1, (void *)1, &word2, 0), 0);
    EXPECT_ERR("unaligned", futex((char *)&word + 1, FUTEX_WAIT, 5, &rel, NULL, 0), EINVAL);
    EXPECT_ERR("bitset_zero", futex(&word, FUTEX_WAIT_BITSET, 5, NULL, NULL, 0), EINVAL);
    struct timespec bad = {0, 2000000000};
    EXPECT_ERR("bad_timeout", futex(&word, FUTEX_WAIT, 5, &bad, NULL, 0), EINVAL);
    EXPECT_ERR("efault", futex(BAD_PTR, FUTEX_WAIT, 5, NULL, NULL, 0), EFAULT);
    EXPECT_ERR("realtime_on_wake", futex(&word, FUTEX_WAKE | FUTEX_CLOCK_REALTIME, 1, NULL, NULL, 0), ENOSYS);
    return finish();
}
