// prctl: PR_SET_NAME/PR_GET_NAME round trip (and /proc/self/comm), the
// initial name, PR_GET/SET_DUMPABLE, PR_SET/GET_PDEATHSIG, NO_NEW_PRIVS,
// and errors.
#include "common.h"
#include <sys/prctl.h>

static void show_comm(const char *label)
{
    char buf[64];
    if (read_file("/proc/self/comm", buf, sizeof buf) < 0) {
        printf("%s: %s\n", label, errname(errno));
        return;
    }
    buf[strcspn(buf, "\n")] = 0;
    printf("%s: %s\n", label, buf);
}

int main(int argc, char **argv)
{
    (void)argc;
    char name[32] = {0};
    EXPECT_OK("get_name", prctl(PR_GET_NAME, name, 0, 0, 0));
    /* The initial name is the executable's base name, truncated to 15. */
    const char *slash = strrchr(argv[0], '/');
    char expect[16] = {0};
    strncpy(expect, slash ? slash + 1 : argv[0], 15);
    CHECK("initial_name_is_basename", strcmp(name, expect) == 0);

    EXPECT_OK("set_name", prctl(PR_SET_NAME, "veil-test", 0, 0, 0));
    memset(name, 0, sizeof name);
    prctl(PR_GET_NAME, name, 0, 0, 0);
    EXPECT_STR("name_after_set", name, "veil-test");
    show_comm("comm_after_set");
    EXPECT_OK("set_long_name", prctl(PR_SET_NAME, "abcdefghijklmnopqrstuvwxyz", 0, 0, 0));
    memset(name, 0x55, sizeof name);
    prctl(PR_GET_NAME, name, 0, 0, 0);
    EXPECT_STR("name_truncated_to_15", name, "abcdefghijklmno");
    show_comm("comm_truncated");
    /* Writing /proc/self/comm sets the name too. */
    int fd = open("/proc/self/comm", O_WRONLY);
    CHECK("comm_open_write", fd >= 0);
    EXPECT_EQ("comm_write", write(fd, "via-proc", 8), 8);
    close(fd);
    memset(name, 0, sizeof name);
    prctl(PR_GET_NAME, name, 0, 0, 0);
    EXPECT_STR("name_after_comm_write", name, "via-proc");

    /* Dumpable. */
    EXPECT_EQ("get_dumpable", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 1);
    EXPECT_OK("set_dumpable_0", prctl(PR_SET_DUMPABLE, 0, 0, 0, 0));
    EXPECT_EQ("get_dumpable_0", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
    EXPECT_OK("set_dumpable_1", prctl(PR_SET_DUMPABLE, 1, 0, 0, 0));
    EXPECT_EQ("get_dumpable_1", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 1);
    EXPECT_ERR("set_dumpable_2", prctl(PR_SET_DUMPABLE, 2, 0, 0, 0), EINVAL);

    /* Parent-death signal (never delivered here). */
    int sig = -1;
    EXPECT_OK("get_pdeathsig", prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0));
    EXPECT_EQ("pdeathsig_initial", sig, 0);
    EXPECT_OK("set_pdeathsig", prctl(PR_SET_PDEATHSIG, 10, 0, 0, 0));
    prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0);
    EXPECT_EQ("pdeathsig_after_set", sig, 10);
    EXPECT_OK("clear_pdeathsig", prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0));
    EXPECT_ERR("set_pdeathsig_bad", prctl(PR_SET_PDEATHSIG, 100, 0, 0, 0), EINVAL);

    /* No new privileges: off, then on (one way). */
    EXPECT_EQ("no_new_privs_initial", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 0);
    EXPECT_OK("set_no_new_privs", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
    EXPECT_EQ("no_new_privs_set", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 1);
    EXPECT_EQ("get_seccomp", prctl(PR_GET_SECCOMP, 0, 0, 0, 0), 0);
    EXPECT_EQ("get_child_subreaper", (prctl(PR_GET_CHILD_SUBREAPER, &sig, 0, 0, 0), sig), 0);

    /* Errors. */
    EXPECT_ERR("bad_option", prctl(0x7fffffff, 0, 0, 0, 0), EINVAL);
    EXPECT_ERR("set_name_efault", prctl(PR_SET_NAME, BAD_PTR, 0, 0, 0), EFAULT);
    EXPECT_ERR("get_name_efault", prctl(PR_GET_NAME, BAD_PTR, 0, 0, 0), EFAULT);
    return finish();
}
