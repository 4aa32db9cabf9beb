// memfd_create (raw syscall): an anonymous file with normal file
// semantics, its /proc/self/fd name, mapping it, sealing, and errors.
#include "common.h"
#include <sys/mman.h>

#define VT_MFD_CLOEXEC 0x1U
#define VT_MFD_ALLOW_SEALING 0x2U
#define VT_F_ADD_SEALS 1033
#define VT_F_GET_SEALS 1034
#define VT_F_SEAL_SEAL 0x1
#define VT_F_SEAL_SHRINK 0x2
#define VT_F_SEAL_GROW 0x4
#define VT_F_SEAL_WRITE 0x8

int main(void)
{
    int fd = (int)syscall(SYS_memfd_create, "veil-memfd", VT_MFD_CLOEXEC | VT_MFD_ALLOW_SEALING);
    CHECK("memfd_create", fd >= 0);
    EXPECT_EQ("cloexec", fcntl(fd, F_GETFD), FD_CLOEXEC);
    struct stat st;
    fstat(fd, &st);
    CHECK("is_regular", S_ISREG(st.st_mode));
    EXPECT_EQ("initial_size", st.st_size, 0);
    char buf[64];
    snprintf(buf, sizeof buf, "/proc/self/fd/%d", fd);
    char link[128] = {0};
    ssize_t n = readlink(buf, link, sizeof link - 1);
    CHECK("proc_link_readable", n > 0);
    printf("proc_link: %s\n", link);

    EXPECT_EQ("write", write(fd, "memfd data", 10), 10);
    memset(buf, 0, sizeof buf);
    EXPECT_EQ("pread", pread(fd, buf, sizeof buf, 0), 10);
    EXPECT_STR("contents", buf, "memfd data");
    EXPECT_OK("ftruncate", ftruncate(fd, 8192));
    char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK("mmap_shared", p != MAP_FAILED);
    CHECK("mmap_sees_data", memcmp(p, "memfd data", 10) == 0);
    memcpy(p + 4096, "via map", 7);
    memset(buf, 0, sizeof buf);
    pread(fd, buf, 7, 4096);
    EXPECT_STR("read_sees_map_store", buf, "via map");
    munmap(p, 8192);

    /* Seals. */
    EXPECT_EQ("initial_seals", fcntl(fd, VT_F_GET_SEALS), 0);
    EXPECT_OK("add_seal_shrink_grow", fcntl(fd, VT_F_ADD_SEALS, VT_F_SEAL_SHRINK | VT_F_SEAL_GROW));
    EXPECT_EQ("seals_now", fcntl(fd, VT_F_GET_SEALS), VT_F_SEAL_SHRINK | VT_F_SEAL_GROW);
    EXPECT_ERR("shrink_sealed", ftruncate(fd, 100), EPERM);
    EXPECT_ERR("grow_sealed", ftruncate(fd, 100000), EPERM);
    EXPECT_ERR("write_past_end_sealed", pwrite(fd, "x", 1, 8192), EPERM);
    EXPECT_EQ("write_inside_ok", pwrite(fd, "y", 1, 0), 1);
    /* Not while a writable shared mapping exists. */
    p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    EXPECT_ERR("seal_write_while_mapped_writable", fcntl(fd, VT_F_ADD_SEALS, VT_F_SEAL_WRITE), EBUSY);
    munmap(p, 4096);
    EXPECT_OK("add_seal_write", fcntl(fd, VT_F_ADD_SEALS, VT_F_SEAL_WRITE));
    EXPECT_ERR("write_sealed", pwrite(fd, "z", 1, 0), EPERM);
    EXPECT_ERR("map_shared_write_sealed", mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), EPERM);
    EXPECT_OK("add_seal_seal", fcntl(fd, VT_F_ADD_SEALS, VT_F_SEAL_SEAL));
    EXPECT_ERR("seal_after_seal", fcntl(fd, VT_F_ADD_SEALS, VT_F_SEAL_SHRINK), EPERM);
    close(fd);

    /* Without MFD_ALLOW_SEALING the file is sealed against sealing. */
    fd = (int)syscall(SYS_memfd_create, "nosealing", 0);
    EXPECT_EQ("no_cloexec", fcntl(fd, F_GETFD), 0);
    EXPECT_EQ("seals_without_allow", fcntl(fd, VT_F_GET_SEALS), VT_F_SEAL_SEAL);
    EXPECT_ERR("add_seal_without_allow", fcntl(fd, VT_F_ADD_SEALS, VT_F_SEAL_WRITE), EPERM);
    close(fd);

    /* Errors. */
    EXPECT_ERR("bad_flags", syscall(SYS_memfd_create, "x", 0x100U), EINVAL);
    char longname[300];
    memset(longname, 'm', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    EXPECT_ERR("name_too_long", syscall(SYS_memfd_create, longname, 0), EINVAL);
    EXPECT_ERR("name_efault", syscall(SYS_memfd_create, BAD_PTR, 0), EFAULT);
    /* A regular file cannot be sealed: EINVAL on disk file systems, EPERM on tmpfs (where
     * F_SEAL_SEAL is preset), and the scratch directory may be either. */
    const char *dir = scratch_dir("memfd");
    DEF_PATH(f, dir, "f");
    write_file(f, "x", 1);
    int rf = open(f, O_RDWR);
    long sealed = fcntl(rf, VT_F_ADD_SEALS, VT_F_SEAL_WRITE);
    CHECK("seal_regular_file_refused", sealed == -1 && (errno == EINVAL || errno == EPERM));
    close(rf);
    rm_rf(dir);
    return finish();
}
