// getrlimit/setrlimit/prlimit64: round trips, lowering RLIMIT_NOFILE makes
// open fail with EMFILE, soft > hard is refused, and errors. Limits that
// depend on the environment are compared, not printed.
#include "common.h"
#include <sys/resource.h>

struct vt_rlimit64 {
    uint64_t cur, max;
};

int main(void)
{
    struct rlimit rl, orig;
    EXPECT_OK("getrlimit_nofile", getrlimit(RLIMIT_NOFILE, &orig));
    CHECK("nofile_soft_le_hard", orig.rlim_cur <= orig.rlim_max);
    CHECK("nofile_soft_at_least_64", orig.rlim_cur >= 64);
    struct vt_rlimit64 r64;
    EXPECT_OK("prlimit64_get", syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &r64));
    CHECK("prlimit64_matches", r64.cur == orig.rlim_cur && r64.max == orig.rlim_max);
    EXPECT_OK("prlimit64_self_pid", syscall(SYS_prlimit64, getpid(), RLIMIT_NOFILE, NULL, &r64));
    EXPECT_OK("raw_getrlimit", syscall(SYS_getrlimit, RLIMIT_NOFILE, &rl));
    CHECK("raw_getrlimit_matches", rl.rlim_cur == orig.rlim_cur);

    /* Lower the soft limit to 10: fds 0..9 are usable, then EMFILE. */
    rl.rlim_cur = 10;
    rl.rlim_max = orig.rlim_max;
    EXPECT_OK("setrlimit_nofile_10", setrlimit(RLIMIT_NOFILE, &rl));
    getrlimit(RLIMIT_NOFILE, &rl);
    EXPECT_EQ("nofile_soft_now", rl.rlim_cur, 10);
    int opened = 0, fd, last_errno = 0;
    while ((fd = open("/dev/null", O_RDONLY)) >= 0) opened++;
    last_errno = errno;
    EXPECT_EQ("opened_until_limit", opened, 7);
    printf("open_beyond_limit: %s\n", errname(last_errno));
    EXPECT_ERR("dup_beyond_limit", dup(0), EMFILE);
    EXPECT_ERR("dup2_at_limit", dup2(0, 10), EBADF);
    EXPECT_ERR("fcntl_dupfd_at_limit", fcntl(0, F_DUPFD, 10), EINVAL);
    for (int i = 3; i < 10; i++) close(i);
    fd = open("/dev/null", O_RDONLY);
    EXPECT_EQ("open_after_close", fd, 3);
    close(fd);

    /* prlimit64 set and get old in one call. */
    struct vt_rlimit64 newl = {20, orig.rlim_max}, old;
    EXPECT_OK("prlimit64_set", syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &newl, &old));
    EXPECT_EQ("prlimit64_old_soft", old.cur, 10);
    getrlimit(RLIMIT_NOFILE, &rl);
    EXPECT_EQ("prlimit64_new_soft", rl.rlim_cur, 20);

    /* Errors. */
    rl.rlim_cur = orig.rlim_max + 1;
    rl.rlim_max = orig.rlim_max;
    EXPECT_ERR("soft_above_hard", setrlimit(RLIMIT_NOFILE, &rl), EINVAL);
    EXPECT_ERR("bad_resource_get", syscall(SYS_getrlimit, 100, &rl), EINVAL);
    EXPECT_ERR("bad_resource_prlimit", syscall(SYS_prlimit64, 0, 100, NULL, &r64), EINVAL);
    EXPECT_ERR("getrlimit_efault", syscall(SYS_getrlimit, RLIMIT_NOFILE, BAD_PTR), EFAULT);
    EXPECT_ERR("prlimit_no_such_pid", syscall(SYS_prlimit64, 0x3ffffff0, RLIMIT_NOFILE, NULL, &r64), ESRCH);

    /* Other resources can be read; RLIMIT_STACK soft limit round trips. */
    struct rlimit st;
    EXPECT_OK("getrlimit_stack", getrlimit(RLIMIT_STACK, &st));
    EXPECT_OK("setrlimit_stack_same", setrlimit(RLIMIT_STACK, &st));
    EXPECT_OK("getrlimit_as", getrlimit(RLIMIT_AS, &rl));
    EXPECT_OK("getrlimit_core", getrlimit(RLIMIT_CORE, &rl));
    rl.rlim_cur = 0;
    EXPECT_OK("setrlimit_core_0", setrlimit(RLIMIT_CORE, &rl));
    getrlimit(RLIMIT_CORE, &rl);
    EXPECT_EQ("core_soft_0", rl.rlim_cur, 0);

    /* Restore. */
    EXPECT_OK("restore_nofile", setrlimit(RLIMIT_NOFILE, &orig));
    return finish();
}
