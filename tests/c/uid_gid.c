// uid/gid family: getuid==geteuid, getresuid/getresgid agree, setting ids
// to the current values succeeds, setfsuid returns the previous value,
// getgroups is consistent. No ids are printed.
#include "common.h"
#include <grp.h>

int main(void)
{
    uid_t uid = getuid(), euid = geteuid();
    gid_t gid = getgid(), egid = getegid();
    CHECK("uid_eq_euid", uid == euid);
    CHECK("gid_eq_egid", gid == egid);
    CHECK("raw_getuid", syscall(SYS_getuid) == (long)uid);
    CHECK("raw_geteuid", syscall(SYS_geteuid) == (long)euid);
    CHECK("raw_getgid", syscall(SYS_getgid) == (long)gid);
    CHECK("raw_getegid", syscall(SYS_getegid) == (long)egid);

    uid_t r, e, s;
    gid_t rg, eg, sg;
    EXPECT_OK("getresuid", getresuid(&r, &e, &s));
    CHECK("resuid_matches", r == uid && e == euid && s == euid);
    EXPECT_OK("getresgid", getresgid(&rg, &eg, &sg));
    CHECK("resgid_matches", rg == gid && eg == egid && sg == egid);
    EXPECT_ERR("getresuid_efault", syscall(SYS_getresuid, BAD_PTR, &e, &s), EFAULT);

    /* Setting to the current values always succeeds. */
    EXPECT_OK("setuid_self", syscall(SYS_setuid, uid));
    EXPECT_OK("setgid_self", syscall(SYS_setgid, gid));
    EXPECT_OK("seteuid_self", seteuid(euid));
    EXPECT_OK("setegid_self", setegid(egid));
    EXPECT_OK("setreuid_noop", syscall(SYS_setreuid, -1, -1));
    EXPECT_OK("setregid_noop", syscall(SYS_setregid, -1, -1));
    EXPECT_OK("setresuid_noop", syscall(SYS_setresuid, -1, -1, -1));
    EXPECT_OK("setresgid_noop", syscall(SYS_setresgid, -1, -1, -1));
    EXPECT_OK("setresuid_same", syscall(SYS_setresuid, uid, euid, euid));
    CHECK("ids_unchanged", getuid() == uid && geteuid() == euid && getgid() == gid);

    /* setfsuid/setfsgid return the previous fs id (= euid/egid). */
    CHECK("setfsuid_prev", syscall(SYS_setfsuid, euid) == (long)euid);
    CHECK("setfsuid_query", syscall(SYS_setfsuid, -1) == (long)euid);
    CHECK("setfsgid_prev", syscall(SYS_setfsgid, egid) == (long)egid);

    /* getgroups: the count query agrees with the list. */
    int n = getgroups(0, NULL);
    CHECK("getgroups_count", n >= 0);
    gid_t groups[256];
    int m = getgroups(256, groups);
    CHECK("getgroups_list_same_count", m == n);
    EXPECT_ERR("getgroups_negative", syscall(SYS_getgroups, -1, groups), EINVAL);
    return finish();
}
