// Garbage pointers: syscalls given addresses that are low, in the kernel
// half, unmapped, PROT_NONE or read-only (when the kernel must write)
// fail with EFAULT and do not crash; bad mmap arguments fail with EINVAL.
#include "common.h"
#include <sys/mman.h>
#include <signal.h>
#include <sys/uio.h>
#include <time.h>

#define PG 4096UL

struct bad {
    const char *name;
    void *ptr;
};

int main(void)
{
    /* A page we unmap again, a PROT_NONE page, and a read-only page. */
    char *unmapped = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(unmapped != MAP_FAILED && munmap(unmapped, PG) == 0);
    char *none = mmap(NULL, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *ro = mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(none != MAP_FAILED && ro != MAP_FAILED);

    const struct bad src[] = {
        {"low", LOW_PTR}, {"kernel", BAD_PTR}, {"unmapped", unmapped}, {"prot_none", none},
        {"noncanonical", opaque_ptr(0x0000900000000000UL)},
    };
    const struct bad dst[] = {
        {"low", LOW_PTR}, {"kernel", BAD_PTR}, {"unmapped", unmapped},
        {"prot_none", none}, {"read_only", ro},
    };
    char label[64];
    int fd = open("/dev/zero", O_RDONLY);
    /* Writes go to a regular file: /dev/null would not read the buffer. */
    const char *dir = scratch_dir("efault");
    int sink = open(path_in(dir, "sink"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int dfd = open("/", O_RDONLY | O_DIRECTORY);
    REQUIRE(fd >= 0 && sink >= 0 && dfd >= 0);

    /* Kernel writes into user memory. */
    for (size_t i = 0; i < sizeof dst / sizeof dst[0]; i++) {
        void *p = dst[i].ptr;
        struct iovec iov = {p, 16};
#define T(what, call)                                                          \
    snprintf(label, sizeof label, "%s_%s", what, dst[i].name);                 \
    EXPECT_ERR(label, call, EFAULT)
        T("read", syscall(SYS_read, fd, p, 16));
        T("pread64", syscall(SYS_pread64, fd, p, 16, 0));
        T("readv_base", syscall(SYS_readv, fd, &iov, 1));
        T("fstat", syscall(SYS_fstat, fd, p));
        T("stat_buf", syscall(SYS_newfstatat, AT_FDCWD, "/", p, 0));
        T("getdents64", syscall(SYS_getdents64, dfd, p, 4096));
        T("uname", syscall(SYS_uname, p));
        T("clock_gettime", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, p));
        T("gettimeofday", syscall(SYS_gettimeofday, p, NULL));
        T("getcwd", syscall(SYS_getcwd, p, 256));
        T("readlink_buf", syscall(SYS_readlink, "/proc/self/exe", p, 64));
        T("pipe_fds", syscall(SYS_pipe2, p, 0));
        T("getrlimit", syscall(SYS_getrlimit, 7, p));
        T("sysinfo", syscall(SYS_sysinfo, p));
        T("getrandom", syscall(SYS_getrandom, p, 16, 0));
        T("rt_sigprocmask_old", syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, p, 8));
        T("sched_getaffinity", syscall(SYS_sched_getaffinity, 0, 128, p));
        T("times", syscall(SYS_times, p));
#undef T
    }
    /* Kernel reads from user memory (read-only pages are fine sources). */
    for (size_t i = 0; i < sizeof src / sizeof src[0]; i++) {
        void *p = src[i].ptr;
        struct iovec iov = {p, 16};
#define T(what, call)                                                          \
    snprintf(label, sizeof label, "%s_%s", what, src[i].name);                 \
    EXPECT_ERR(label, call, EFAULT)
        T("write", syscall(SYS_write, sink, p, 16));
        T("writev_base", syscall(SYS_writev, sink, &iov, 1));
        T("writev_iov", syscall(SYS_writev, sink, p, 1));
        T("readv_iov", syscall(SYS_readv, fd, p, 1));
        T("openat_path", syscall(SYS_openat, AT_FDCWD, p, O_RDONLY));
        T("open_path", syscall(SYS_open, p, O_RDONLY));
        T("stat_path", syscall(SYS_newfstatat, AT_FDCWD, p, opaque_ptr(0), 0));
        T("access_path", syscall(SYS_access, p, F_OK));
        T("mkdir_path", syscall(SYS_mkdir, p, 0755));
        T("unlink_path", syscall(SYS_unlink, p));
        T("chdir_path", syscall(SYS_chdir, p));
        T("execve_path", syscall(SYS_execve, p, NULL, NULL));
        T("nanosleep_req", syscall(SYS_nanosleep, p, NULL));
        T("rt_sigaction_act", syscall(SYS_rt_sigaction, SIGUSR1, p, NULL, 8));
        T("rt_sigprocmask_set", syscall(SYS_rt_sigprocmask, SIG_BLOCK, p, NULL, 8));
        T("setrlimit", syscall(SYS_setrlimit, 7, p));
        T("utimensat_times", syscall(SYS_utimensat, AT_FDCWD, "/tmp", p, 0));
#undef T
    }
    /* A read-only page is a valid source. */
    EXPECT_EQ("write_from_read_only", syscall(SYS_write, sink, ro, 16), 16);
    /* A buffer that starts valid and runs into an unmapped page: the kernel
     * copies nothing past the fault. For /dev/zero reads Linux reports a
     * short count or EFAULT; only check that it did not crash. */
    char *two = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(two != MAP_FAILED && munmap(two + PG, PG) == 0);
    long r = syscall(SYS_read, fd, two + PG - 8, 64);
    CHECK("straddling_read_survives", r == -1 || (r >= 0 && r <= 8));

    /* mmap argument errors. */
    EXPECT_ERR("mmap_len_0", mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), EINVAL);
    EXPECT_ERR("mmap_fixed_unaligned", mmap(opaque_ptr(0x200001), PG, PROT_READ,
                                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), EINVAL);
    EXPECT_ERR("mmap_no_type", mmap(NULL, PG, PROT_READ, MAP_ANONYMOUS, -1, 0), EINVAL);
    EXPECT_ERR("mmap_both_types", mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_SHARED | MAP_ANONYMOUS, -1, 0),
               EINVAL);
    EXPECT_ERR("mmap_huge", mmap(NULL, 1UL << 62, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), ENOMEM);
    EXPECT_ERR("mmap_offset_overflow", syscall(SYS_mmap, 0, 2 * PG, PROT_READ, MAP_PRIVATE, fd, -PG), EOVERFLOW);
    EXPECT_ERR("munmap_unaligned", syscall(SYS_munmap, 0x200001, PG), EINVAL);
    EXPECT_ERR("munmap_kernel", syscall(SYS_munmap, 0xffff800000000000UL, PG), EINVAL);

    /* Still alive, and the fds still work. */
    char z[4] = {1, 1, 1, 1};
    EXPECT_EQ("still_working", read(fd, z, 4), 4);
    CHECK("still_zero", z[0] == 0 && z[3] == 0);
    close(fd);
    close(sink);
    close(dfd);
    rm_rf(dir);
    return finish();
}
