// An execve closes the close-on-exec descriptors as close() would: a forked child takes POSIX
// record locks through a close-on-exec fd and a kept fd of two files and registers for a POSIX
// message queue's notification, then runs this program again (/proc/self/exe, "after-exec"
// mode). After the exec the lock taken through the close-on-exec fd is gone (any close of a
// process's fd of a file drops its locks on that file) while the other stays; message queue
// descriptors are always close-on-exec, so the registration is gone and the parent can
// register in turn.
#include "common.h"
#include <mqueue.h>
#include <signal.h>

#define QUEUE "/veil_exec_closes"

/* Who holds a write lock on the first 10 bytes of `fd`'s file (0: nobody). */
static pid_t lock_holder(int fd)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
    if (fcntl(fd, F_GETLK, &fl) != 0) return -1;
    return fl.l_type == F_UNLCK ? 0 : fl.l_pid;
}

static int lock_first_bytes(int fd)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
    return fcntl(fd, F_SETLK, &fl);
}

/* The exec'd child: says it runs, then waits for the parent to close the pipe. */
static int after_exec(int ready_fd, int wait_fd)
{
    if (write(ready_fd, "x", 1) != 1) return 3;
    char c;
    while (read(wait_fd, &c, 1) > 0) {
    }
    return 0;
}

static void register_for(mqd_t q)
{
    struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1};
    REQUIRE(mq_notify(q, &ev) == 0);
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "after-exec") == 0)
        return after_exec(atoi(argv[2]), atoi(argv[3]));

    char dir[] = "/tmp/veil-exec-closes-XXXXXX";
    REQUIRE(mkdtemp(dir) != NULL);
    char dropped_path[64], kept_path[64];
    snprintf(dropped_path, sizeof dropped_path, "%s/dropped", dir);
    snprintf(kept_path, sizeof kept_path, "%s/kept", dir);
    int dropped = open(dropped_path, O_RDWR | O_CREAT, 0600);
    int kept = open(kept_path, O_RDWR | O_CREAT, 0600);
    REQUIRE(dropped >= 0 && kept >= 0);
    mq_unlink(QUEUE);
    struct mq_attr attr = {.mq_maxmsg = 4, .mq_msgsize = 16};
    mqd_t queue = mq_open(QUEUE, O_RDWR | O_CREAT, 0600, &attr);
    REQUIRE(queue != (mqd_t)-1);
    int fd_flags = fcntl((int)queue, F_GETFD);
    CHECK("mq_descriptor_is_close_on_exec", fd_flags >= 0 && (fd_flags & FD_CLOEXEC));

    int ready[2], release[2], locked[2];
    REQUIRE(pipe(ready) == 0 && pipe(release) == 0 && pipe(locked) == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        close(ready[0]);
        close(release[1]);
        close(locked[0]);
        int cloexec_fd = open(dropped_path, O_RDWR | O_CLOEXEC);
        int kept_fd = open(kept_path, O_RDWR);
        mqd_t child_queue = mq_open(QUEUE, O_RDWR);
        if (cloexec_fd < 0 || kept_fd < 0 || child_queue == (mqd_t)-1) _exit(2);
        if (lock_first_bytes(cloexec_fd) != 0 || lock_first_bytes(kept_fd) != 0) _exit(2);
        register_for(child_queue);
        /* Tell the parent what holds before the exec, then wait for its go. */
        if (write(locked[1], "l", 1) != 1) _exit(2);
        char go;
        if (read(release[0], &go, 1) != 1) _exit(2);
        char a[2][16];
        snprintf(a[0], sizeof a[0], "%d", ready[1]);
        snprintf(a[1], sizeof a[1], "%d", release[0]);
        char *args[] = {argv[0], "after-exec", a[0], a[1], NULL};
        execv("/proc/self/exe", args);
        _exit(126);
    }
    close(ready[1]);
    close(release[0]);
    close(locked[1]);
    char c;
    REQUIRE(read(locked[0], &c, 1) == 1);
    EXPECT_EQ("before_exec_cloexec_file_locked", lock_holder(dropped) == pid, 1);
    EXPECT_EQ("before_exec_kept_file_locked", lock_holder(kept) == pid, 1);
    struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1};
    EXPECT_ERR("before_exec_queue_registration_taken", mq_notify(queue, &ev), EBUSY);

    REQUIRE(write(release[1], "g", 1) == 1);
    REQUIRE(read(ready[0], &c, 1) == 1);
    EXPECT_EQ("after_exec_cloexec_file_unlocked", lock_holder(dropped), 0);
    EXPECT_EQ("after_exec_kept_file_still_locked", lock_holder(kept) == pid, 1);
    EXPECT_OK("after_exec_queue_registration_free", mq_notify(queue, &ev));
    EXPECT_OK("unregister", mq_notify(queue, NULL));

    close(release[1]);
    int status;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    EXPECT_EQ("child_exit_code", WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0);
    EXPECT_EQ("after_exit_kept_file_unlocked", lock_holder(kept), 0);

    mq_close(queue);
    mq_unlink(QUEUE);
    close(dropped);
    close(kept);
    rm_rf(dir);
    return finish();
}
