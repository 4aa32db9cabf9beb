// sched_*: affinity has at least one CPU and round trips, sched_yield,
// getcpu lies within the affinity mask, scheduler policy and priorities,
// getpriority/setpriority, and errors. No CPU numbers are printed.
#include "common.h"
#include <sched.h>
#include <sys/resource.h>

int main(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    EXPECT_OK("getaffinity", sched_getaffinity(0, sizeof set, &set));
    int n = CPU_COUNT(&set);
    CHECK("at_least_one_cpu", n >= 1);
    long raw = syscall(SYS_sched_getaffinity, 0, sizeof set, &set);
    CHECK("raw_getaffinity_returns_size", raw > 0 && raw <= (long)sizeof set && raw % 8 == 0);
    EXPECT_OK("setaffinity_same", sched_setaffinity(0, sizeof set, &set));
    cpu_set_t again;
    sched_getaffinity(0, sizeof again, &again);
    CHECK("affinity_round_trip", CPU_EQUAL(&set, &again));

    EXPECT_OK("sched_yield", sched_yield());
    EXPECT_EQ("raw_sched_yield", syscall(SYS_sched_yield), 0);

    unsigned cpu = 9999, node = 9999;
    EXPECT_OK("getcpu", syscall(SYS_getcpu, &cpu, &node, NULL));
    CHECK("getcpu_in_affinity", cpu < CPU_SETSIZE && CPU_ISSET(cpu, &set));
    CHECK("node_small", node < 1024);
    EXPECT_OK("getcpu_null_args", syscall(SYS_getcpu, NULL, NULL, NULL));
    CHECK("sched_getcpu_in_affinity", sched_getcpu() >= 0 && CPU_ISSET(sched_getcpu(), &set));

    EXPECT_EQ("policy_other", syscall(SYS_sched_getscheduler, 0), SCHED_OTHER);
    struct sched_param sp = {.sched_priority = 99};
    EXPECT_OK("getparam", syscall(SYS_sched_getparam, 0, &sp));
    EXPECT_EQ("priority_0", sp.sched_priority, 0);
    EXPECT_EQ("fifo_max", sched_get_priority_max(SCHED_FIFO), 99);
    EXPECT_EQ("fifo_min", sched_get_priority_min(SCHED_FIFO), 1);
    EXPECT_EQ("other_max", sched_get_priority_max(SCHED_OTHER), 0);
    struct timespec rr;
    EXPECT_OK("rr_interval", syscall(SYS_sched_rr_get_interval, 0, &rr));

    errno = 0;
    int prio = getpriority(PRIO_PROCESS, 0);
    CHECK("getpriority_ok", errno == 0 && prio >= -20 && prio <= 19);
    EXPECT_OK("setpriority_same", setpriority(PRIO_PROCESS, 0, prio));

    /* Errors. */
    EXPECT_ERR("getaffinity_small", syscall(SYS_sched_getaffinity, 0, 4, &set), EINVAL);
    EXPECT_ERR("getaffinity_no_such", syscall(SYS_sched_getaffinity, 0x3ffffff0, sizeof set, &set), ESRCH);
    EXPECT_ERR("getaffinity_efault", syscall(SYS_sched_getaffinity, 0, sizeof set, BAD_PTR), EFAULT);
    cpu_set_t empty;
    CPU_ZERO(&empty);
    EXPECT_ERR("setaffinity_empty", syscall(SYS_sched_setaffinity, 0, sizeof empty, &empty), EINVAL);
    EXPECT_ERR("bad_policy_max", syscall(SYS_sched_get_priority_max, 42), EINVAL);
    EXPECT_ERR("getscheduler_negative_pid", syscall(SYS_sched_getscheduler, -1), EINVAL);
    EXPECT_ERR("getpriority_bad_which", syscall(SYS_getpriority, 7, 0), EINVAL);
    return finish();
}
