// A futex word in a MAP_SHARED mapping of a file on the host's file system (under Veil /tmp is
// a RAM file system, so /var/tmp): waiters and wakers meet across processes, through the
// mapping a fork inherits and through a second mapping of the file at another address, as
// process-shared locks in mapped files need (LMDB's lock file). Waits time out instead of
// hanging when a wake-up does not arrive.
#include "common.h"
#include <sys/mman.h>
#include <time.h>

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define PG 4096

static long futex(volatile unsigned *word, int op, unsigned val, const struct timespec *timeout)
{
    return syscall(SYS_futex, word, op, val, timeout, NULL, 0);
}

/* The parent wakes until a waiter was there (or 2 s passed); returns how many it woke. */
static long wake_waiter(volatile unsigned *word)
{
    for (int i = 0; i < 2000; i++) {
        long n = futex(word, FUTEX_WAKE, 1, NULL);
        if (n != 0)
            return n;
        usleep(1000);
    }
    return 0;
}

/* In a child: waits while the word is 0 (3 s at most); exit status 0 if woken. */
static void wait_in_child(volatile unsigned *word)
{
    struct timespec limit = {3, 0};
    _exit(futex(word, FUTEX_WAIT, 0, &limit) == 0 ? 0 : 1);
}

int main(void)
{
    const char *path = "/var/tmp/vt_futex_shared_file";
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(ftruncate(fd, 2 * PG) == 0);
    volatile unsigned *map = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    REQUIRE(map != MAP_FAILED);

    // The child waits through the mapping it inherited.
    volatile unsigned *word = map + 16;
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0)
        wait_in_child(word);
    CHECK("inherited_mapping_woke", wake_waiter(word) == 1);
    int status;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK("inherited_mapping_waiter_woken", WIFEXITED(status) && WEXITSTATUS(status) == 0);

    // The child maps the file again (at another address) and waits on the second page there.
    word = map + PG / sizeof *map + 8;
    pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        volatile unsigned *own = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (own == MAP_FAILED || own == map)
            _exit(2);
        wait_in_child(own + PG / sizeof *own + 8);
    }
    CHECK("other_mapping_woke", wake_waiter(word) == 1);
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK("other_mapping_waiter_woken", WIFEXITED(status) && WEXITSTATUS(status) == 0);

    // A word at another offset of the file is another futex.
    pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        struct timespec limit = {0, 200 * 1000 * 1000};
        long r = futex(map + 100, FUTEX_WAIT, 0, &limit);
        _exit(r == -1 && errno == ETIMEDOUT ? 0 : 1);
    }
    usleep(50 * 1000);
    CHECK("other_offset_not_woken", futex(map + 101, FUTEX_WAKE, 1, NULL) == 0);
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK("other_offset_waiter_timed_out", WIFEXITED(status) && WEXITSTATUS(status) == 0);

    munmap((void *)map, 2 * PG);
    close(fd);
    unlink(path);
    return finish();
}
