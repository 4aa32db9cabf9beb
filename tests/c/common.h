/*
 * common.h - tiny helpers shared by the Veil C test programs.
 *
 * Every program prints one line per check, `label: result`, where the result
 * is deterministic (booleans, errno names, counts, contents). The helpers
 * below also count checks whose result differs from what Linux is known to
 * do; `finish()` turns that count into the exit status (1 if any check
 * failed) so that a broken test is noticed when it runs natively.
 *
 * Only POSIX/Linux APIs present in both glibc and musl are used, and no
 * <linux/...> kernel headers (musl-gcc does not see them): raw syscall()
 * with numbers from <sys/syscall.h> stands in where musl lacks a wrapper.
 */
#ifndef VEIL_TEST_COMMON_H
#define VEIL_TEST_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define UNUSED __attribute__((unused))

/* Number of failed checks so far. */
static UNUSED int g_failures;

/* The symbolic name of an errno value ("E123" for unknown ones). */
static UNUSED const char *errname(int e)
{
    static char buf[16];
    switch (e) {
    case 0: return "0";
#define E_(x) case x: return #x;
    E_(EPERM) E_(ENOENT) E_(ESRCH) E_(EINTR) E_(EIO) E_(ENXIO) E_(E2BIG)
    E_(ENOEXEC) E_(EBADF) E_(ECHILD) E_(EAGAIN) E_(ENOMEM) E_(EACCES)
    E_(EFAULT) E_(ENOTBLK) E_(EBUSY) E_(EEXIST) E_(EXDEV) E_(ENODEV)
    E_(ENOTDIR) E_(EISDIR) E_(EINVAL) E_(ENFILE) E_(EMFILE) E_(ENOTTY)
    E_(ETXTBSY) E_(EFBIG) E_(ENOSPC) E_(ESPIPE) E_(EROFS) E_(EMLINK)
    E_(EPIPE) E_(EDOM) E_(ERANGE) E_(EDEADLK) E_(ENAMETOOLONG) E_(ENOLCK)
    E_(ENOSYS) E_(ENOTEMPTY) E_(ELOOP) E_(ENOMSG) E_(EIDRM) E_(ENODATA)
    E_(EOVERFLOW) E_(EBADFD) E_(EOPNOTSUPP) E_(ETIMEDOUT) E_(ENOTSOCK)
    E_(ECANCELED) E_(EOWNERDEAD) E_(EMSGSIZE)
#undef E_
    default:
        snprintf(buf, sizeof buf, "E%d", e);
        return buf;
    }
}

static UNUSED void check_failed(void) { g_failures++; }

/* Exit status of a test: 0 if every check gave the expected result. */
static UNUSED int finish(void)
{
    fflush(stdout);
    if (g_failures) {
        fprintf(stderr, "%d check(s) did not give the expected result\n", g_failures);
        return 1;
    }
    return 0;
}

/* Print `label: ok` if cond holds, `label: FAIL` otherwise. */
#define CHECK(label, cond)                                                     \
    do {                                                                       \
        int ok_ = !!(cond);                                                    \
        printf("%s: %s\n", (label), ok_ ? "ok" : "FAIL");                      \
        if (!ok_) check_failed();                                              \
    } while (0)

/* Evaluate `call`; expect it to succeed (not return -1). Prints `label: ok`
 * or `label: ERRNO_NAME`. */
#define EXPECT_OK(label, call)                                                 \
    do {                                                                       \
        errno = 0;                                                             \
        long r_ = (long)(call);                                                \
        int e_ = errno;                                                        \
        if (r_ == -1) {                                                        \
            printf("%s: %s\n", (label), errname(e_));                          \
            check_failed();                                                    \
        } else {                                                               \
            printf("%s: ok\n", (label));                                       \
        }                                                                      \
    } while (0)

/* Evaluate `call`; expect it to fail with -1 and errno == `err`. Prints the
 * errno name it got, or `ret=N` if it succeeded. */
#define EXPECT_ERR(label, call, err)                                           \
    do {                                                                       \
        errno = 0;                                                             \
        long r_ = (long)(call);                                                \
        int e_ = errno;                                                        \
        if (r_ == -1) {                                                        \
            printf("%s: %s\n", (label), errname(e_));                          \
            if (e_ != (err)) check_failed();                                   \
        } else {                                                               \
            printf("%s: ret=%ld (expected %s)\n", (label), r_, errname(err));  \
            check_failed();                                                    \
        }                                                                      \
    } while (0)

/* Print `label: <value>` and expect value == expected (integers). */
#define EXPECT_EQ(label, value, expected)                                      \
    do {                                                                       \
        long long v_ = (long long)(value);                                     \
        long long x_ = (long long)(expected);                                  \
        printf("%s: %lld\n", (label), v_);                                     \
        if (v_ != x_) check_failed();                                          \
    } while (0)

/* Print `label: 0<octal>` and expect value == expected (file modes). */
#define EXPECT_MODE(label, value, expected)                                    \
    do {                                                                       \
        unsigned v_ = (unsigned)(value);                                       \
        printf("%s: %04o\n", (label), v_);                                     \
        if (v_ != (unsigned)(expected)) check_failed();                        \
    } while (0)

/* Print `label: "<string>"` and expect it equal to `expected`. */
#define EXPECT_STR(label, value, expected)                                     \
    do {                                                                       \
        const char *s_ = (value);                                              \
        printf("%s: \"%s\"\n", (label), s_ ? s_ : "(null)");                   \
        if (!s_ || strcmp(s_, (expected)) != 0) check_failed();                \
    } while (0)

/* Abort the test (exit 2) when the environment itself is broken, e.g. a
 * setup step that must work failed. */
#define REQUIRE(cond)                                                          \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fflush(stdout);                                                    \
            fprintf(stderr, "%s:%d: setup failed: %s (errno %s)\n", __FILE__,   \
                    __LINE__, #cond, errname(errno));                          \
            exit(2);                                                           \
        }                                                                      \
    } while (0)

/* ---- scratch directory under /tmp ---------------------------------------- */

/* Remove a directory tree (no symlink following); best effort. */
static UNUSED void rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (!S_ISDIR(st.st_mode)) {
        unlink(path);
        return;
    }
    chmod(path, 0700);
    /* Use getdents64 through opendir-free code: a small fixed-size loop. */
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        char buf[4096];
        for (;;) {
            long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
            if (n <= 0) break;
            for (long off = 0; off < n;) {
                unsigned short reclen;
                memcpy(&reclen, buf + off + 16, sizeof reclen);
                const char *name = buf + off + 19;
                if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0) {
                    char child[4096];
                    snprintf(child, sizeof child, "%s/%s", path, name);
                    rm_rf(child);
                }
                off += reclen;
            }
        }
        close(fd);
    }
    rmdir(path);
}

/* Create an empty scratch directory /tmp/vt_<name> and return its path. */
static UNUSED const char *scratch_dir(const char *name)
{
    static char path[256];
    snprintf(path, sizeof path, "/tmp/vt_%s", name);
    rm_rf(path);
    REQUIRE(mkdir(path, 0755) == 0);
    return path;
}

/* Declare a local buffer `var` holding "<dir>/<leaf>" (for paths used
 * throughout a test). */
#define DEF_PATH(var, dir, leaf)                                               \
    char var[512];                                                             \
    snprintf(var, sizeof var, "%s/%s", (dir), (leaf))

/* Build "<dir>/<leaf>" in a static rotating buffer: the result stays valid
 * for the next 7 calls only, so use it for arguments, not for variables
 * (use DEF_PATH for those). */
static UNUSED const char *path_in(const char *dir, const char *leaf)
{
    static char bufs[8][512];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s", dir, leaf);
    return b;
}

/* Write a whole file with the given contents (setup helper). */
static UNUSED void write_file(const char *path, const char *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, data, len) == (ssize_t)len);
    REQUIRE(close(fd) == 0);
}

/* Read up to cap-1 bytes of a file into buf (NUL terminated); -1 on error. */
static UNUSED ssize_t read_file(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    size_t got = 0;
    while (got + 1 < cap) {
        ssize_t n = read(fd, buf + got, cap - 1 - got);
        if (n < 0) {
            close(fd);
            return -1;
        }
        if (n == 0) break;
        got += (size_t)n;
    }
    buf[got] = 0;
    close(fd);
    return (ssize_t)got;
}

/* Forks with stdout flushed, so that buffered output is not printed twice. */
static UNUSED pid_t fork_flushed(void)
{
    fflush(stdout);
    return fork();
}

/* Ends a child: its exit status tells whether all the checks it printed held. */
static UNUSED void child_done(void)
{
    fflush(stdout);
    _exit(g_failures ? 1 : 0);
}

/* Waits for `pid` (through signal interruptions); 1 if it exited with status 0. */
static UNUSED int child_ok(pid_t pid)
{
    int st;
    pid_t r;
    do r = waitpid(pid, &st, 0);
    while (r == -1 && errno == EINTR);
    return r == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* Turn an integer into a pointer the compiler cannot reason about (so that
 * deliberately bad pointers do not trigger -Wstringop-* diagnostics). */
static inline void *opaque_ptr(uintptr_t v)
{
    __asm__("" : "+r"(v));
    return (void *)v;
}
/* An address that is never mapped in user space (kernel half). */
#define BAD_PTR opaque_ptr(0xffff800000000000UL)
/* A low address below mmap_min_addr. */
#define LOW_PTR opaque_ptr(1)

#endif
