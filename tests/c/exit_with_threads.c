// A process that ends while its other threads still run: children spawned one after another
// start threads that keep writing to the program's bss and then end with exit() while those
// threads write; each next child must find its bss zero (the memory of an ended program is
// not written to after it ended). Two threads calling _exit at once end the process with one
// of their codes; a thread calling _exit while another execs ends the process either way,
// without hanging. (In the musl-static build this program's vfork children cannot load where it
// is and move to address spaces of their own; one that ended there at once used to resume this
// program there, which then died at address 0, about one run in ten.)
#include "common.h"
#include <pthread.h>
#include <spawn.h>

extern char **environ;

static volatile long scribble[16384];
static volatile int started;

static void *scribbler(void *arg)
{
    long mark = (long)arg;
    __atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
    for (;;)
        for (size_t i = 0; i < sizeof scribble / sizeof scribble[0]; i += 64) scribble[i] = mark;
    return NULL;
}

/* Checks its bss, starts writers, and exits while they write: 0 if the bss was zero. */
static int scribbling_child(void)
{
    int fresh = 1;
    for (size_t i = 0; i < sizeof scribble / sizeof scribble[0]; i++)
        if (scribble[i] != 0) fresh = 0;
    for (long t = 1; t <= 3; t++) {
        pthread_t thread;
        if (pthread_create(&thread, NULL, scribbler, (void *)t) != 0) return 3;
    }
    while (__atomic_load_n(&started, __ATOMIC_SEQ_CST) < 3) {
    }
    exit(fresh ? 0 : 1);
}

static void *exit_with_arg(void *arg)
{
    _exit((int)(long)arg);
}

/* Two threads call _exit at once, with codes 5 and 6. */
static int racing_exits(void)
{
    pthread_t thread;
    if (pthread_create(&thread, NULL, exit_with_arg, (void *)5L) != 0) return 3;
    _exit(6);
}

static char *self_path;

static void *exec_true(void *arg)
{
    (void)arg;
    char *argv[] = {self_path, "exit-code", "9", NULL};
    execve(self_path, argv, environ);
    return NULL;
}

/* One thread execs this program (which exits 9) while another calls _exit(8). */
static int exec_racing_exit(void)
{
    pthread_t thread;
    if (pthread_create(&thread, NULL, exec_true, NULL) != 0) return 3;
    _exit(8);
}

static int run(const char *mode)
{
    char *argv[] = {self_path, (char *)mode, "0", NULL};
    pid_t pid;
    if (posix_spawn(&pid, self_path, NULL, NULL, argv, environ) != 0) return -1;
    int status;
    if (waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv)
{
    char path[256];
    ssize_t len = readlink("/proc/self/exe", path, sizeof path - 1);
    REQUIRE(len > 0);
    path[len] = 0;
    self_path = path;
    if (argc == 3 && strcmp(argv[1], "scribble") == 0) return scribbling_child();
    if (argc == 3 && strcmp(argv[1], "race") == 0) return racing_exits();
    if (argc == 3 && strcmp(argv[1], "exec-race") == 0) return exec_racing_exit();
    if (argc == 3 && strcmp(argv[1], "exit-code") == 0) return atoi(argv[2]);

    int fresh = 0;
    for (int i = 0; i < 30; i++) fresh += run("scribble") == 0;
    EXPECT_EQ("children_found_their_bss_zero", fresh, 30);
    int one_of_two = 0;
    for (int i = 0; i < 20; i++) {
        int code = run("race");
        one_of_two += code == 5 || code == 6;
    }
    EXPECT_EQ("racing_exits_end_with_one_of_their_codes", one_of_two, 20);
    int either = 0;
    for (int i = 0; i < 20; i++) {
        int code = run("exec-race");
        either += code == 8 || code == 9;
    }
    EXPECT_EQ("exec_racing_exit_ends_either_way", either, 20);
    return finish();
}
