// Forks from several threads in turn and at once: each copy finds the forking thread's stack,
// the heap and the globals as they were, and its own forks (from its only thread, and from a
// thread it starts) work too. Also forks after the thread that forked last has ended.
#include "common.h"
#include <pthread.h>

#define THREADS 4
#define FORKS_PER_THREAD 25

static long global_value = 1234;
static long *heap_value;

/* In a copy: checks what the forking thread and the process had; returns the copy's exit
 * status. */
static int check_copy(long stack_value, long expected_stack)
{
    if (stack_value != expected_stack) return 2;
    if (global_value != 1234 || *heap_value != 5678) return 3;
    return 0;
}

struct forker {
    long id;
    int failures;
};

static void *fork_in_thread(void *arg)
{
    struct forker *f = arg;
    long on_stack = 1000 + f->id;
    for (int i = 0; i < FORKS_PER_THREAD; i++) {
        pid_t pid = fork();
        if (pid == 0) _exit(check_copy(on_stack, 1000 + f->id));
        int status = 0;
        if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0)
            f->failures++;
    }
    return NULL;
}

/* Forks from a thread and returns the status the copy exited with. */
static void *fork_once(void *arg UNUSED)
{
    long on_stack = 77;
    pid_t pid = fork();
    if (pid == 0) _exit(check_copy(on_stack, 77));
    int status = -1;
    if (pid > 0) waitpid(pid, &status, 0);
    return (void *)(long)status;
}

/* Runs fork_once on a new thread; true if its copy was intact. */
static int fork_on_new_thread(void)
{
    pthread_t t;
    void *status = NULL;
    if (pthread_create(&t, NULL, fork_once, NULL) != 0) return 0;
    pthread_join(t, &status);
    return (long)status == 0;
}

int main(void)
{
    heap_value = malloc(sizeof *heap_value);
    REQUIRE(heap_value != NULL);
    *heap_value = 5678;

    /* One thread after another. */
    int one_by_one = 0;
    for (int i = 0; i < 6; i++) one_by_one += fork_on_new_thread();
    EXPECT_EQ("threads_one_by_one", one_by_one, 6);

    /* The main thread, after threads that forked have ended. */
    long on_stack = 42;
    pid_t pid = fork();
    if (pid == 0) _exit(check_copy(on_stack, 42));
    int status = -1;
    waitpid(pid, &status, 0);
    EXPECT_EQ("main_after_threads", status, 0);

    /* Several threads at once, the main thread too. */
    pthread_t threads[THREADS];
    struct forker forkers[THREADS];
    for (int i = 0; i < THREADS; i++) {
        forkers[i] = (struct forker){.id = i, .failures = 0};
        REQUIRE(pthread_create(&threads[i], NULL, fork_in_thread, &forkers[i]) == 0);
    }
    struct forker main_forker = {.id = THREADS, .failures = 0};
    fork_in_thread(&main_forker);
    int failures = main_forker.failures;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        failures += forkers[i].failures;
    }
    EXPECT_EQ("threads_at_once_failures", failures, 0);

    /* After a thread forked last, a copy made by the main thread forks again: from a new
     * thread, then from its main thread. */
    REQUIRE(fork_on_new_thread());
    pid = fork();
    if (pid == 0) {
        int ok = fork_on_new_thread();
        pid_t grandchild = fork();
        if (grandchild == 0) _exit(check_copy(on_stack, 42));
        int gs = -1;
        waitpid(grandchild, &gs, 0);
        _exit(ok && gs == 0 ? 0 : 5);
    }
    waitpid(pid, &status, 0);
    EXPECT_EQ("copy_forks_again", status, 0);
    return finish();
}
