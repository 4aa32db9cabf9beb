// Files across fork: parent and child share open file descriptions (offsets, status flags such
// as O_APPEND and O_NONBLOCK, flock locks) but have separate fd tables (FD_CLOEXEC, close,
// dup2, new fds); concurrent writes through one shared offset lose nothing; POSIX record locks
// belong to a process; 1 MiB through a pipe each way with a checksum and EOF when the writer
// exits; readers, writers and poll blocked on a pipe woken by the other process; EPIPE and
// SIGPIPE when the reader has gone.
#include "common.h"
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static void shared_offset(const char *dir)
{
    DEF_PATH(file, dir, "offset");
    int fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, "abc", 3) == 3);
    pid_t pid = fork_flushed();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        EXPECT_EQ("child_offset_inherited", lseek(fd, 0, SEEK_CUR), 3);
        EXPECT_EQ("child_write", write(fd, "defgh", 5), 5);
        child_done();
    }
    CHECK("child_wrote", child_ok(pid));
    EXPECT_EQ("parent_offset_moved_by_child_write", lseek(fd, 0, SEEK_CUR), 8);

    pid = fork_flushed();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        EXPECT_EQ("child_lseek", lseek(fd, 2, SEEK_SET), 2);
        child_done();
    }
    CHECK("child_seeked", child_ok(pid));
    EXPECT_EQ("parent_sees_child_lseek", lseek(fd, 0, SEEK_CUR), 2);
    EXPECT_EQ("parent_write", write(fd, "XY", 2), 2);
    char buf[16] = {0};
    EXPECT_EQ("pread_all", pread(fd, buf, sizeof buf - 1, 0), 8);
    EXPECT_STR("content", buf, "abXYefgh");

    /* A file opened again by the child is a new description with its own offset. */
    pid = fork_flushed();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        int own = open(file, O_RDONLY);
        char c[3] = {0};
        EXPECT_EQ("child_own_read", read(own, c, 2), 2);
        EXPECT_STR("child_own_data", c, "ab");
        child_done();
    }
    CHECK("child_own_open", child_ok(pid));
    EXPECT_EQ("parent_offset_unaffected", lseek(fd, 0, SEEK_CUR), 4);
    close(fd);
}

/* Parent and child write 1000 records each through one description at the same time: the
 * shared offset advances atomically with each write, so no record overwrites another. */
static void concurrent_writes(const char *dir)
{
    enum { N = 1000, LEN = 10 };
    DEF_PATH(file, dir, "concurrent");
    int fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    pid_t pid = fork_flushed();
    REQUIRE(pid >= 0);
    char who = pid == 0 ? 'c' : 'p';
    char rec[LEN];
    memset(rec, who, LEN - 1);
    rec[LEN - 1] = '\n';
    int written = 0;
    for (int i = 0; i < N; i++)
        if (write(fd, rec, LEN) == LEN) written++;
    if (pid == 0) _exit(written == N ? 0 : 1);
    CHECK("child_wrote_all", child_ok(pid));
    EXPECT_EQ("parent_wrote", written, N);
    EXPECT_EQ("offset", lseek(fd, 0, SEEK_CUR), 2 * N * LEN);
    static char all[2 * N * LEN];
    EXPECT_EQ("size", pread(fd, all, sizeof all, 0), (long)sizeof all);
    int p = 0, c = 0, torn = 0;
    for (int i = 0; i < 2 * N; i++) {
        const char *r = all + i * LEN;
        if (r[LEN - 1] != '\n' || memchr(r, r[0] == 'p' ? 'c' : 'p', LEN - 1)) torn++;
        else if (r[0] == 'p') p++;
        else if (r[0] == 'c') c++;
    }
    EXPECT_EQ("parent_records", p, N);
    EXPECT_EQ("child_records", c, N);
    EXPECT_EQ("torn_records", torn, 0);
    close(fd);
}

static void status_flags(const char *dir)
{
    DEF_PATH(file, dir, "flags");
    int fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, "12345", 5) == 5);
    int p[2];
    REQUIRE(pipe(p) == 0);
    pid_t pid = fork_flushed();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        EXPECT_OK("child_set_append", fcntl(fd, F_SETFL, O_APPEND));
        EXPECT_OK("child_set_nonblock", fcntl(p[0], F_SETFL, O_NONBLOCK));
        child_done();
    }
    CHECK("child_set_flags", child_ok(pid));
    CHECK("parent_sees_append", (fcntl(fd, F_GETFL) & O_APPEND) != 0);
    CHECK("parent_sees_nonblock", (fcntl(p[0], F_GETFL) & O_NONBLOCK) != 0);
    REQUIRE(lseek(fd, 0, SEEK_SET) == 0);
    EXPECT_EQ("append_write", write(fd, "67", 2), 2);
    char buf[16] = {0};
    EXPECT_EQ("append_pread", pread(fd, buf, sizeof buf - 1, 0), 7);
    EXPECT_STR("append_content", buf, "1234567");
    char c;
    EXPECT_ERR("parent_read_nonblocking", read(p[0], &c, 1), EAGAIN);

    /* And back: the parent clears O_NONBLOCK, the child sees it. */
    REQUIRE(fcntl(p[0], F_SETFL, 0) == 0);
    pid = fork_flushed();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        CHECK("child_sees_blocking", (fcntl(p[0], F_GETFL) & O_NONBLOCK) == 0);
        child_done();
    }
    CHECK("child_saw_cleared", child_ok(pid));
    close(fd);
    close(p[0]);
    close(p[1]);
}

static void fd_tables(const char *dir)
{
    DEF_PATH(file, dir, "fds");
    int a = open(file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int b = open(file, O_RDWR);
    int report[2];
    REQUIRE(a >= 0 && b >= 0 && pipe(report) == 0);
    pid_t pid = fork_flushed();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        EXPECT_EQ("child_a_cloexec_inherited", fcntl(a, F_GETFD), FD_CLOEXEC);
        EXPECT_EQ("child_b_no_cloexec_inherited", fcntl(b, F_GETFD), 0);
        EXPECT_OK("child_clear_a", fcntl(a, F_SETFD, 0));
        EXPECT_OK("child_set_b", fcntl(b, F_SETFD, FD_CLOEXEC));
        EXPECT_OK("child_close_a", close(a));
        EXPECT_OK("child_dup2_b_over_report", dup2(b, report[0]));
        int fresh = open("/dev/null", O_RDONLY);
        CHECK("child_fresh_fd_reuses_closed", fresh == a);
        int fresh2 = open("/dev/null", O_RDONLY);
        CHECK("child_second_fresh_fd", fresh2 > 0);
        if (write(report[1], &fresh2, sizeof fresh2) != (ssize_t)sizeof fresh2) check_failed();
        child_done();
    }
    int fresh2 = -1;
    EXPECT_EQ("fd_report", read(report[0], &fresh2, sizeof fresh2), (long)sizeof fresh2);
    CHECK("child_fd_table", child_ok(pid));
    EXPECT_EQ("parent_a_still_cloexec", fcntl(a, F_GETFD), FD_CLOEXEC);
    EXPECT_EQ("parent_b_still_no_cloexec", fcntl(b, F_GETFD), 0);
    EXPECT_EQ("parent_a_still_open", write(a, "x", 1), 1);
    /* report[0] is still the parent's pipe, not the child's dup of b. */
    struct stat st;
    REQUIRE(fstat(report[0], &st) == 0);
    CHECK("parent_report_still_pipe", S_ISFIFO(st.st_mode));
    EXPECT_ERR("child_new_fd_not_in_parent", fcntl(fresh2, F_GETFD), EBADF);
    close(a);
    close(b);
    close(report[0]);
    close(report[1]);
}

/* The byte at `offset` of the stream sent through pipes. */
static unsigned char pattern(size_t offset)
{
    return (unsigned char)(offset * 7 + offset / 4099);
}

/* Sends `total` bytes of pattern() in chunks of varying sizes; 0 on success. */
static int send_stream(int fd, size_t total)
{
    static unsigned char chunk[8192];
    size_t off = 0;
    for (size_t i = 0; off < total; i++) {
        size_t n = 1 + (i * 1237) % sizeof chunk;
        if (n > total - off) n = total - off;
        for (size_t k = 0; k < n; k++) chunk[k] = pattern(off + k);
        for (size_t done = 0; done < n;) {
            ssize_t w = write(fd, chunk + done, n - done);
            if (w <= 0) return -1;
            done += (size_t)w;
        }
        off += n;
    }
    return 0;
}

/* Reads until EOF; returns the byte count and sets *bad to the number of wrong bytes. */
static size_t receive_stream(int fd, size_t *bad)
{
    static unsigned char buf[5000];
    size_t off = 0;
    *bad = 0;
    for (size_t i = 0;; i++) {
        ssize_t n = read(fd, buf, 1 + (i * 811) % sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        for (ssize_t k = 0; k < n; k++)
            if (buf[k] != pattern(off + (size_t)k)) ++*bad;
        off += (size_t)n;
    }
    return off;
}

static void pipe_streams(void)
{
    enum { TOTAL = 1 << 20 };
    int p[2];
    REQUIRE(pipe(p) == 0);
    pid_t pid = fork_flushed();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        _exit(send_stream(p[1], TOTAL) == 0 ? 0 : 1);
    }
    /* EOF comes only once every write end is closed: the parent's here, the child's at exit. */
    close(p[1]);
    size_t bad;
    EXPECT_EQ("child_to_parent_bytes", receive_stream(p[0], &bad), TOTAL);
    EXPECT_EQ("child_to_parent_bad_bytes", bad, 0);
    CHECK("child_sent", child_ok(pid));
    close(p[0]);

    REQUIRE(pipe(p) == 0);
    pid = fork_flushed();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        close(p[1]);
        size_t got = receive_stream(p[0], &bad);
        _exit(got == TOTAL && bad == 0 ? 0 : 1);
    }
    close(p[0]);
    EXPECT_EQ("parent_to_child_sent", send_stream(p[1], TOTAL), 0);
    close(p[1]);
    CHECK("child_received_all", child_ok(pid));
}

/* The parent blocks first; the child acts a little later from its own process. */
static void blocked_io(void)
{
    int p[2];
    REQUIRE(pipe(p) == 0);
    pid_t pid = fork_flushed();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        sleep_ms(100);
        _exit(write(p[1], "late", 4) == 4 ? 0 : 1);
    }
    close(p[1]);
    char buf[8] = {0};
    EXPECT_EQ("blocked_read_woken", read(p[0], buf, sizeof buf - 1), 4);
    EXPECT_STR("blocked_read_data", buf, "late");
    EXPECT_EQ("eof_after_writer_exit", read(p[0], buf, sizeof buf), 0);
    CHECK("late_writer", child_ok(pid));
    close(p[0]);

    /* A writer exiting without writing wakes the blocked reader with EOF. */
    REQUIRE(pipe(p) == 0);
    pid = fork_flushed();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        sleep_ms(100);
        _exit(0);
    }
    close(p[1]);
    EXPECT_EQ("blocked_read_eof", read(p[0], buf, sizeof buf), 0);
    CHECK("silent_writer", child_ok(pid));
    close(p[0]);

    /* poll in the parent, woken by the child's write. */
    REQUIRE(pipe(p) == 0);
    pid = fork_flushed();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        sleep_ms(100);
        _exit(write(p[1], "!", 1) == 1 ? 0 : 1);
    }
    struct pollfd pfd = {.fd = p[0], .events = POLLIN};
    EXPECT_EQ("poll_woken", poll(&pfd, 1, 10000), 1);
    CHECK("poll_pollin", (pfd.revents & POLLIN) != 0);
    CHECK("poll_writer", child_ok(pid));
    close(p[0]);
    close(p[1]);

    /* A writer blocked on a full pipe, drained later by the child. */
    REQUIRE(pipe(p) == 0);
    static char big[65536 * 2];
    memset(big, 'z', sizeof big);
    pid = fork_flushed();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        close(p[1]);
        sleep_ms(100);
        size_t got = 0;
        for (ssize_t n; (n = read(p[0], big, sizeof big)) > 0;) got += (size_t)n;
        _exit(got == sizeof big ? 0 : 1);
    }
    close(p[0]);
    EXPECT_EQ("blocked_write_completes", write(p[1], big, sizeof big), (long)sizeof big);
    close(p[1]);
    CHECK("drainer", child_ok(pid));
}

static void broken_pipes(void)
{
    int p[2];
    REQUIRE(pipe(p) == 0);
    pid_t pid = fork_flushed();
    REQUIRE(pid >= 0);
    if (pid == 0) _exit(0);
    close(p[0]);
    CHECK("reader_child_gone", child_ok(pid));
    /* The child's copy of the read end closed with it: no reader is left. */
    void (*old)(int) = signal(SIGPIPE, SIG_IGN);
    EXPECT_ERR("write_no_reader", write(p[1], "x", 1), EPIPE);
    signal(SIGPIPE, old);
    close(p[1]);

    REQUIRE(pipe(p) == 0);
    close(p[0]);
    pid = fork_flushed();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        write(p[1], "x", 1);
        _exit(1);
    }
    int st;
    REQUIRE(waitpid(pid, &st, 0) == pid);
    CHECK("writer_killed_by_sigpipe", WIFSIGNALED(st) && WTERMSIG(st) == SIGPIPE);
    close(p[1]);
}

static void locks(const char *dir)
{
    DEF_PATH(file, dir, "locks");
    write_file(file, "0123456789", 10);
    int fd = open(file, O_RDWR);
    REQUIRE(fd >= 0);
    pid_t parent = getpid();

    /* POSIX record locks belong to the process: the child is another owner. */
    struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 5};
    EXPECT_OK("parent_setlk", fcntl(fd, F_SETLK, &lk));
    int go[2];
    REQUIRE(pipe(go) == 0);
    pid_t pid = fork_flushed();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        close(go[1]);
        struct flock c = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 2, .l_len = 1};
        EXPECT_ERR("child_setlk_conflict", fcntl(fd, F_SETLK, &c), EAGAIN);
        c.l_type = F_RDLCK;
        EXPECT_OK("child_getlk", fcntl(fd, F_GETLK, &c));
        EXPECT_EQ("child_getlk_type", c.l_type, F_WRLCK);
        CHECK("child_getlk_pid_is_parent", c.l_pid == parent);
        EXPECT_EQ("child_getlk_start", c.l_start, 0);
        EXPECT_EQ("child_getlk_len", c.l_len, 5);
        struct flock other = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 5, .l_len = 5};
        EXPECT_OK("child_setlk_other_range", fcntl(fd, F_SETLK, &other));
        /* Tell the parent, then wait in F_SETLKW until it unlocks. */
        char ch;
        if (read(go[0], &ch, 1) != 1) check_failed();
        c.l_type = F_WRLCK;
        EXPECT_OK("child_setlkw_after_unlock", fcntl(fd, F_SETLKW, &c));
        child_done();
    }
    close(go[0]);
    REQUIRE(write(go[1], "g", 1) == 1);
    /* Give the child time to block in F_SETLKW. */
    sleep_ms(100);
    lk.l_type = F_UNLCK;
    EXPECT_OK("parent_unlock", fcntl(fd, F_SETLK, &lk));
    CHECK("child_locks", child_ok(pid));
    close(go[1]);
    /* The child's locks ended with it. */
    struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 5, .l_len = 1};
    EXPECT_OK("parent_lock_after_child_exit", fcntl(fd, F_SETLK, &q));
    q.l_type = F_UNLCK;
    fcntl(fd, F_SETLK, &q);

    /* flock locks belong to the open file description, which the child shares. */
    EXPECT_OK("parent_flock", flock(fd, LOCK_EX));
    pid = fork_flushed();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        EXPECT_OK("child_flock_shared_description", flock(fd, LOCK_EX | LOCK_NB));
        int own = open(file, O_RDWR);
        EXPECT_ERR("child_flock_own_description", flock(own, LOCK_EX | LOCK_NB), EAGAIN);
        child_done();
    }
    CHECK("child_flock", child_ok(pid));
    /* Still locked: the child's exit closed its descriptor, not the description. */
    int own = open(file, O_RDWR);
    EXPECT_ERR("flock_still_held", flock(own, LOCK_EX | LOCK_NB), EAGAIN);
    close(own);
    close(fd);
}

int main(void)
{
    const char *dir = scratch_dir("fork_files");
    shared_offset(dir);
    concurrent_writes(dir);
    status_flags(dir);
    fd_tables(dir);
    pipe_streams();
    blocked_io();
    broken_pipes();
    locks(dir);
    rm_rf(dir);
    return finish();
}
