// uname: sysname/machine values, non-empty fields, NUL termination,
// agreement with /proc/sys/kernel, and EFAULT.
#include "common.h"
#include <sys/utsname.h>

int main(void)
{
    struct utsname u;
    memset(&u, 0x7f, sizeof u);
    EXPECT_OK("uname", uname(&u));
    EXPECT_STR("sysname", u.sysname, "Linux");
    EXPECT_STR("machine", u.machine, "x86_64");
    CHECK("release_nonempty", u.release[0] != 0 && memchr(u.release, 0, sizeof u.release));
    CHECK("release_starts_with_digit", u.release[0] >= '1' && u.release[0] <= '9');
    CHECK("version_nonempty", u.version[0] != 0 && memchr(u.version, 0, sizeof u.version));
    CHECK("nodename_terminated", memchr(u.nodename, 0, sizeof u.nodename) != NULL);
    CHECK("domainname_terminated", memchr(u.domainname, 0, sizeof u.domainname) != NULL);

    /* /proc/sys/kernel agrees with uname. */
    char buf[512];
    if (read_file("/proc/sys/kernel/ostype", buf, sizeof buf) > 0) {
        buf[strcspn(buf, "\n")] = 0;
        EXPECT_STR("proc_ostype", buf, "Linux");
    } else {
        printf("proc_ostype: %s\n", errname(errno));
        check_failed();
    }
    CHECK("proc_osrelease_matches",
          read_file("/proc/sys/kernel/osrelease", buf, sizeof buf) > 0 &&
              (buf[strcspn(buf, "\n")] = 0, strcmp(buf, u.release) == 0));
    CHECK("proc_hostname_matches",
          read_file("/proc/sys/kernel/hostname", buf, sizeof buf) > 0 &&
              (buf[strcspn(buf, "\n")] = 0, strcmp(buf, u.nodename) == 0));
    char host[256];
    EXPECT_OK("gethostname", gethostname(host, sizeof host));
    CHECK("gethostname_matches", strcmp(host, u.nodename) == 0);

    EXPECT_ERR("uname_efault", syscall(SYS_uname, BAD_PTR), EFAULT);
    EXPECT_ERR("uname_efault_low", syscall(SYS_uname, LOW_PTR), EFAULT);
    /* personality(0xffffffff) queries without changing: PER_LINUX. */
    EXPECT_EQ("personality_query", syscall(SYS_personality, 0xffffffffUL) & 0xff, 0);
    return finish();
}
