// Forks from several threads in turn and at once: each copy finds the forking thread's stack,
// the heap and the globals as they were, and its own forks (from its only thread, and from a
// thread it starts) work too. Also forks after the thread that forked last has ended, and a
// copy made by a thread whose CPU clock runs and which a signal from its parent wakes.
#include "common.h"
#include <pthread.h>
#include <signal.h>
#include <time.h>

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

/* Two live threads fork in turn, each waiting for the other's fork to finish. */
static pthread_mutex_t turn_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_changed = PTHREAD_COND_INITIALIZER;
static int turn;

static void *fork_in_turn(void *arg)
{
    struct forker *f = arg;
    long on_stack = 2000 + f->id;
    for (int i = 0; i < 10; i++) {
        pthread_mutex_lock(&turn_lock);
        while (turn % 2 != f->id) pthread_cond_wait(&turn_changed, &turn_lock);
        pthread_mutex_unlock(&turn_lock);
        pid_t pid = fork();
        if (pid == 0) _exit(check_copy(on_stack, 2000 + f->id));
        int status = 0;
        if (pid < 0 || waitpid(pid, &status, 0) != pid || status != 0) f->failures++;
        pthread_mutex_lock(&turn_lock);
        turn++;
        pthread_cond_broadcast(&turn_changed);
        pthread_mutex_unlock(&turn_lock);
    }
    return NULL;
}

static volatile sig_atomic_t got_usr1;
static void on_usr1(int sig) { (void)sig; got_usr1 = 1; }

/* Forked from a thread: the copy's CPU clock runs, and a signal from its parent ends its
 * wait. Returns the copy's status. */
static void *fork_busy_and_paused(void *arg UNUSED)
{
    int ready[2];
    if (pipe(ready) != 0) return (void *)-1L;
    /* Blocked until the copy waits for it in sigsuspend (no lost wake-up). */
    sigset_t usr1, unblocked;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &usr1, &unblocked);
    pid_t pid = fork();
    if (pid == 0) {
        struct timespec start, end;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start);
        volatile unsigned long spin = 0;
        for (unsigned long i = 0; i < 20000000UL; i++) spin += i;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &end);
        long used_ns = (end.tv_sec - start.tv_sec) * 1000000000L + end.tv_nsec - start.tv_nsec;
        if (used_ns <= 0) _exit(6);
        if (write(ready[1], "r", 1) != 1) _exit(7);
        while (!got_usr1) sigsuspend(&unblocked);
        _exit(0);
    }
    char byte;
    long status = -1;
    if (pid > 0 && read(ready[0], &byte, 1) == 1 && kill(pid, SIGUSR1) == 0) {
        int st = -1;
        waitpid(pid, &st, 0);
        status = st;
    }
    close(ready[0]);
    close(ready[1]);
    pthread_sigmask(SIG_SETMASK, &unblocked, NULL);
    return (void *)status;
}

int main(void)
{
    heap_value = malloc(sizeof *heap_value);
    REQUIRE(heap_value != NULL);
    *heap_value = 5678;

    struct sigaction sa = {0};
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);

    /* Two live threads in turn. */
    pthread_t pair[2];
    struct forker pair_forkers[2] = {{.id = 0}, {.id = 1}};
    for (int i = 0; i < 2; i++)
        REQUIRE(pthread_create(&pair[i], NULL, fork_in_turn, &pair_forkers[i]) == 0);
    for (int i = 0; i < 2; i++) pthread_join(pair[i], NULL);
    EXPECT_EQ("threads_in_turn_failures", pair_forkers[0].failures + pair_forkers[1].failures, 0);

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

    /* A copy made by a thread: its CPU clock, and a signal from its parent. */
    pthread_t busy;
    void *busy_status = NULL;
    REQUIRE(pthread_create(&busy, NULL, fork_busy_and_paused, NULL) == 0);
    pthread_join(busy, &busy_status);
    EXPECT_EQ("copy_clock_and_signal", (long)busy_status, 0);
    return finish();
}
