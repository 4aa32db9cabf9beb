// arch_prctl: ARCH_GET_FS matches the TCB self pointer at %fs:0, ARCH_SET_GS
// / ARCH_GET_GS round trip (and %gs-relative loads use the new base),
// and errors.
#include "common.h"

#define VT_ARCH_SET_GS 0x1001
#define VT_ARCH_SET_FS 0x1002
#define VT_ARCH_GET_FS 0x1003
#define VT_ARCH_GET_GS 0x1004

static long ap(int code, unsigned long arg)
{
    return syscall(SYS_arch_prctl, code, arg);
}

int main(void)
{
    unsigned long fs = 0, self = 0;
    EXPECT_OK("get_fs", ap(VT_ARCH_GET_FS, (unsigned long)&fs));
    __asm__ volatile("mov %%fs:0, %0" : "=r"(self));
    CHECK("fs_nonzero", fs != 0);
    CHECK("fs_equals_tcb_self_pointer", fs == self);
    /* Setting FS to its current value keeps everything working. */
    EXPECT_OK("set_fs_same", ap(VT_ARCH_SET_FS, fs));
    unsigned long fs2 = 0;
    ap(VT_ARCH_GET_FS, (unsigned long)&fs2);
    CHECK("fs_unchanged", fs2 == fs);
    errno = 0;
    CHECK("tls_errno_still_works", close(-1) == -1 && errno == EBADF);

    /* GS round trip. */
    static unsigned long block[4] = {0x1122334455667788UL, 0x99, 0, 0};
    unsigned long gs = 1;
    EXPECT_OK("get_gs_initial", ap(VT_ARCH_GET_GS, (unsigned long)&gs));
    unsigned long gs_initial = gs;
    EXPECT_OK("set_gs", ap(VT_ARCH_SET_GS, (unsigned long)block));
    EXPECT_OK("get_gs", ap(VT_ARCH_GET_GS, (unsigned long)&gs));
    CHECK("gs_round_trip", gs == (unsigned long)block);
    unsigned long v0 = 0, v1 = 0;
    __asm__ volatile("mov %%gs:0, %0" : "=r"(v0));
    __asm__ volatile("mov %%gs:8, %0" : "=r"(v1));
    CHECK("gs_load_0", v0 == 0x1122334455667788UL);
    CHECK("gs_load_8", v1 == 0x99);
    /* GS survives a few syscalls. */
    for (int i = 0; i < 10; i++) (void)syscall(SYS_getpid);
    ap(VT_ARCH_GET_GS, (unsigned long)&gs);
    CHECK("gs_survives_syscalls", gs == (unsigned long)block);
    EXPECT_OK("restore_gs", ap(VT_ARCH_SET_GS, gs_initial));
    ap(VT_ARCH_GET_GS, (unsigned long)&gs);
    CHECK("gs_restored", gs == gs_initial);

    /* Errors. */
    EXPECT_ERR("bad_code", ap(0x1999, 0), EINVAL);
    EXPECT_ERR("get_fs_efault", ap(VT_ARCH_GET_FS, (unsigned long)BAD_PTR), EFAULT);
    EXPECT_ERR("get_gs_efault", ap(VT_ARCH_GET_GS, 1), EFAULT);
    EXPECT_ERR("set_gs_kernel_addr", ap(VT_ARCH_SET_GS, 0xffff800000000000UL), EPERM);
    EXPECT_ERR("set_fs_kernel_addr", ap(VT_ARCH_SET_FS, 0xffff800000000000UL), EPERM);
    ap(VT_ARCH_GET_FS, (unsigned long)&fs2);
    CHECK("fs_unchanged_after_errors", fs2 == fs);
    return finish();
}
