// flock and fcntl record locks within one process: flock conflicts
// between separate open file descriptions (not between dups), lock
// conversion, LOCK_NB, and errors. POSIX record locks never conflict with
// the owning process itself.
#include "common.h"
#include <sys/file.h>

int main(void)
{
    const char *dir = scratch_dir("flock");
    DEF_PATH(f, dir, "f");
    write_file(f, "0123456789", 10);
    int a = open(f, O_RDWR);
    int b = open(f, O_RDWR);
    REQUIRE(a >= 0 && b >= 0);

    EXPECT_OK("flock_ex_a", flock(a, LOCK_EX));
    EXPECT_ERR("flock_ex_b_nb", flock(b, LOCK_EX | LOCK_NB), EAGAIN);
    EXPECT_ERR("flock_sh_b_nb", flock(b, LOCK_SH | LOCK_NB), EAGAIN);
    /* A dup shares the open file description, hence the lock. */
    int d = dup(a);
    EXPECT_OK("flock_ex_dup", flock(d, LOCK_EX | LOCK_NB));
    EXPECT_OK("flock_un_a", flock(a, LOCK_UN));
    EXPECT_OK("flock_ex_b_after_unlock", flock(b, LOCK_EX | LOCK_NB));
    EXPECT_OK("flock_un_b", flock(b, LOCK_UN));

    /* Shared locks coexist; an exclusive one then conflicts. */
    EXPECT_OK("flock_sh_a", flock(a, LOCK_SH));
    EXPECT_OK("flock_sh_b", flock(b, LOCK_SH | LOCK_NB));
    int c = open(f, O_RDONLY);
    EXPECT_ERR("flock_ex_c_nb", flock(c, LOCK_EX | LOCK_NB), EAGAIN);
    EXPECT_OK("flock_un_b2", flock(b, LOCK_UN));
    /* Conversion from shared to exclusive when nobody else holds it. */
    EXPECT_OK("flock_convert_a", flock(a, LOCK_EX | LOCK_NB));
    EXPECT_ERR("flock_sh_c_nb", flock(c, LOCK_SH | LOCK_NB), EAGAIN);
    /* Closing the last descriptor of a description releases its lock. */
    close(a);
    close(d);
    EXPECT_OK("flock_after_close", flock(c, LOCK_EX | LOCK_NB));
    close(c);

    /* Errors. */
    EXPECT_ERR("flock_bad_op", flock(b, 0), EINVAL);
    EXPECT_ERR("flock_bad_op2", flock(b, LOCK_SH | LOCK_EX), EINVAL);
    EXPECT_ERR("flock_badfd", flock(-1, LOCK_SH), EBADF);

    /* POSIX record locks: one process never conflicts with itself. */
    struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 5};
    EXPECT_OK("setlk_wr_b", fcntl(b, F_SETLK, &lk));
    int e = open(f, O_RDWR);
    EXPECT_OK("setlk_wr_e_same_process", fcntl(e, F_SETLK, &lk));
    lk.l_type = F_WRLCK;
    EXPECT_OK("getlk", fcntl(e, F_GETLK, &lk));
    EXPECT_EQ("getlk_reports_unlocked", lk.l_type, F_UNLCK);
    lk.l_type = F_RDLCK;
    lk.l_start = 2;
    lk.l_len = 0;
    EXPECT_OK("setlk_rd_to_eof", fcntl(b, F_SETLKW, &lk));
    lk.l_type = F_UNLCK;
    lk.l_start = 0;
    EXPECT_OK("setlk_unlock_all", fcntl(b, F_SETLK, &lk));
    /* Open file description locks (F_OFD_*) do conflict across descriptions. */
    struct flock ofd = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1, .l_pid = 0};
    EXPECT_OK("ofd_setlk_b", fcntl(b, F_OFD_SETLK, &ofd));
    ofd.l_pid = 0;
    EXPECT_ERR("ofd_setlk_e_conflict", fcntl(e, F_OFD_SETLK, &ofd), EAGAIN);
    ofd.l_pid = 0;
    EXPECT_OK("ofd_getlk_e", fcntl(e, F_OFD_GETLK, &ofd));
    EXPECT_EQ("ofd_getlk_type", ofd.l_type, F_WRLCK);
    CHECK("ofd_getlk_pid_is_minus_1", ofd.l_pid == -1);
    struct flock bad = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1, .l_pid = 5};
    EXPECT_ERR("ofd_nonzero_pid", fcntl(e, F_OFD_SETLK, &bad), EINVAL);
    bad.l_type = 42;
    bad.l_pid = 0;
    EXPECT_ERR("setlk_bad_type", fcntl(e, F_SETLK, &bad), EINVAL);
    close(b);
    close(e);

    rm_rf(dir);
    return finish();
}
