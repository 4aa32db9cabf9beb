// utimensat/futimens/utimes: explicit timestamps read back exactly,
// UTIME_OMIT, UTIME_NOW, NULL times, AT_SYMLINK_NOFOLLOW, and errors.
#include "common.h"
#include <sys/time.h>
#include <time.h>

static void show_times(const char *label, const char *path, int nofollow)
{
    struct stat st;
    if ((nofollow ? lstat(path, &st) : stat(path, &st)) != 0) {
        printf("%s: %s\n", label, errname(errno));
        return;
    }
    printf("%s: atime=%lld.%09ld mtime=%lld.%09ld\n", label, (long long)st.st_atim.tv_sec,
           st.st_atim.tv_nsec, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

static int recent(time_t t)
{
    time_t now = time(NULL);
    return t >= now - 60 && t <= now + 2;
}

int main(void)
{
    const char *dir = scratch_dir("utimensat");
    char base[256];
    snprintf(base, sizeof base, "%s", dir);
    DEF_PATH(f, base, "f");
    write_file(f, "x", 1);
    struct stat st;

    struct timespec ts[2] = {{1600000000, 123456789}, {1500000000, 987654321}};
    EXPECT_OK("utimensat_explicit", utimensat(AT_FDCWD, f, ts, 0));
    show_times("explicit", f, 0);
    stat(f, &st);
    CHECK("ctime_updated_to_now", recent(st.st_ctime));

    /* UTIME_OMIT keeps one of them. */
    struct timespec omit_m[2] = {{1700000000, 1}, {0, UTIME_OMIT}};
    EXPECT_OK("omit_mtime", utimensat(AT_FDCWD, f, omit_m, 0));
    show_times("after_omit_mtime", f, 0);
    struct timespec omit_a[2] = {{0, UTIME_OMIT}, {1400000000, 500}};
    EXPECT_OK("omit_atime", utimensat(AT_FDCWD, f, omit_a, 0));
    show_times("after_omit_atime", f, 0);
    struct timespec omit_both[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
    EXPECT_OK("omit_both", utimensat(AT_FDCWD, f, omit_both, 0));
    show_times("after_omit_both", f, 0);

    /* futimens on a descriptor; dates before 1970 work. */
    int fd = open(f, O_RDONLY);
    struct timespec old[2] = {{-86400, 0}, {0, 0}};
    EXPECT_OK("futimens", futimens(fd, old));
    show_times("futimens", f, 0);

    /* UTIME_NOW and NULL set the current time. */
    struct timespec now_m[2] = {{0, UTIME_OMIT}, {0, UTIME_NOW}};
    EXPECT_OK("utime_now", utimensat(AT_FDCWD, f, now_m, 0));
    stat(f, &st);
    CHECK("mtime_now", recent(st.st_mtime));
    EXPECT_EQ("atime_kept_with_now", st.st_atim.tv_sec, -86400);
    EXPECT_OK("utimensat_null", utimensat(AT_FDCWD, f, NULL, 0));
    stat(f, &st);
    CHECK("both_now", recent(st.st_mtime) && recent(st.st_atime));
    EXPECT_OK("futimens_null", futimens(fd, NULL));
    close(fd);

    /* Writing a file updates its mtime. */
    utimensat(AT_FDCWD, f, ts, 0);
    fd = open(f, O_WRONLY);
    write(fd, "y", 1);
    close(fd);
    stat(f, &st);
    CHECK("write_updates_mtime", recent(st.st_mtime));

    /* utimes (microseconds). */
    struct timeval tv[2] = {{1234567890, 250000}, {1234567891, 750000}};
    EXPECT_OK("utimes", utimes(f, tv));
    show_times("utimes", f, 0);

    /* AT_SYMLINK_NOFOLLOW changes the link, not its target. */
    REQUIRE(symlink("f", path_in(base, "l")) == 0);
    struct timespec lts[2] = {{1111111111, 111}, {1222222222, 222}};
    EXPECT_OK("nofollow", utimensat(AT_FDCWD, path_in(base, "l"), lts, AT_SYMLINK_NOFOLLOW));
    show_times("link_itself", path_in(base, "l"), 1);
    show_times("target_unchanged", f, 0);
    EXPECT_OK("follow", utimensat(AT_FDCWD, path_in(base, "l"), lts, 0));
    show_times("target_via_link", f, 0);
    /* Directory and dirfd-relative. */
    int dfd = open(base, O_RDONLY | O_DIRECTORY);
    EXPECT_OK("dirfd_relative", utimensat(dfd, "f", ts, 0));
    show_times("dirfd_relative", f, 0);

    /* Errors. */
    struct timespec bad[2] = {{0, 1000000000}, {0, 0}};
    EXPECT_ERR("nsec_too_big", utimensat(AT_FDCWD, f, bad, 0), EINVAL);
    struct timespec neg[2] = {{0, -1}, {0, 0}};
    EXPECT_ERR("nsec_negative", utimensat(AT_FDCWD, f, neg, 0), EINVAL);
    EXPECT_ERR("bad_flags", utimensat(AT_FDCWD, f, ts, 0x1), EINVAL);
    EXPECT_ERR("missing", utimensat(AT_FDCWD, path_in(base, "none"), ts, 0), ENOENT);
    EXPECT_ERR("bad_dirfd", utimensat(-5, "f", ts, 0), EBADF);
    EXPECT_ERR("efault_times", syscall(SYS_utimensat, AT_FDCWD, f, LOW_PTR, 0), EFAULT);
    show_times("unchanged_after_errors", f, 0);
    close(dfd);

    rm_rf(base);
    return finish();
}
