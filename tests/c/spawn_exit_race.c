// veil-test: timeout=120
// Address spaces that end right after their processes: a forked sub-parent spawns a child
// (posix_spawn: into the sub-parent's own address space when it fits), reaps it and exits at
// once, while the child's last thread may still be finishing there; and sub-parents that exit
// with a second thread blocked in a read, whose host thread has to finish first. Every round's
// statuses are checked; a hang fails the test by its timeout.
#include "common.h"
#include <pthread.h>
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

/* Waits for `pid`; its exit code, or -1 if it did not exit normally. */
static int exit_code(pid_t pid)
{
    int st;
    pid_t r;
    do r = waitpid(pid, &st, 0);
    while (r == -1 && errno == EINTR);
    return r == pid && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Sub-parent: spawns this program as a child that exits 7 at once, reaps it, and exits. */
static void spawn_and_exit(const char *self)
{
    char *argv[] = {(char *)self, "child", NULL};
    pid_t child;
    if (posix_spawn(&child, self, NULL, NULL, argv, environ) != 0) _exit(2);
    _exit(exit_code(child) == 7 ? 0 : 3);
}

static void *read_forever(void *arg)
{
    char c;
    (void)!read(*(int *)arg, &c, 1);
    return NULL;
}

/* Sub-parent: exits while a second thread is blocked reading an empty pipe. */
static void exit_with_blocked_thread(const char *self)
{
    (void)self;
    static int fds[2];
    pthread_t thread;
    if (pipe(fds) != 0 || pthread_create(&thread, NULL, read_forever, &fds[0]) != 0) _exit(2);
    _exit(0);
}

/* Runs `rounds` sub-parents doing `body`; how many exited 0. */
static int rounds_ok(int rounds, void (*body)(const char *), const char *self)
{
    int ok = 0;
    for (int i = 0; i < rounds; i++) {
        pid_t sub = fork_flushed();
        REQUIRE(sub >= 0);
        if (sub == 0) body(self);
        if (exit_code(sub) == 0) ok++;
    }
    return ok;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "child") == 0) return 7;
    CHECK("spawn_reap_exit_300", rounds_ok(300, spawn_and_exit, argv[0]) == 300);
    CHECK("exit_with_blocked_thread_100", rounds_ok(100, exit_with_blocked_thread, argv[0]) == 100);
    return finish();
}
