// fork in a multi-threaded process: four threads pass a token around a mutex/condvar ring while
// the main thread forks. The child has one thread (the forking one, with its thread-local
// data), sees the ring frozen, can create and join threads of its own, and exits; the parent's
// ring keeps turning. A fork from a secondary thread gives a child whose only thread is a copy
// of that thread.
#include "common.h"
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>

#define RING 4

static pthread_mutex_t ring_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ring_cond = PTHREAD_COND_INITIALIZER;
static int turn;
static atomic_int rounds;
static atomic_int stop;
static __thread int tls_value;

/* Ring member `id` waits for its turn, passes the token on, and counts full rounds. */
static void *ring_member(void *arg)
{
    int id = (int)(long)arg;
    pthread_mutex_lock(&ring_lock);
    while (!atomic_load(&stop)) {
        if (turn != id) {
            pthread_cond_wait(&ring_cond, &ring_lock);
            continue;
        }
        turn = (id + 1) % RING;
        if (id == RING - 1) atomic_fetch_add(&rounds, 1);
        pthread_cond_broadcast(&ring_cond);
    }
    pthread_mutex_unlock(&ring_lock);
    return NULL;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* Waits up to ~5 s for the ring to make `more` rounds past `from`; 1 if it did. */
static int ring_advances(int from, int more)
{
    for (int i = 0; i < 500; i++) {
        if (atomic_load(&rounds) >= from + more) return 1;
        sleep_ms(10);
    }
    return 0;
}

/* The "Threads:" count of /proc/self/status, or -1. */
static int thread_count(void)
{
    static char buf[8192];
    if (read_file("/proc/self/status", buf, sizeof buf) < 0) return -1;
    const char *t = strstr(buf, "\nThreads:");
    return t ? atoi(t + strlen("\nThreads:")) : -1;
}

static void *square(void *arg)
{
    long v = (long)arg;
    /* A new thread starts with its own thread-local data, zeroed. */
    if (tls_value != 0) return (void *)-1L;
    tls_value = (int)v;
    return (void *)(v * tls_value);
}

/* In a child: the ring does not run here, and new threads work. */
static void child_checks(int expect_tls)
{
    EXPECT_EQ("child_threads", thread_count(), 1);
    EXPECT_EQ("child_tls_copied", tls_value, expect_tls);
    CHECK("child_tid_is_pid", syscall(SYS_gettid) == getpid());
    int frozen = atomic_load(&rounds);
    sleep_ms(50);
    CHECK("child_ring_frozen", atomic_load(&rounds) == frozen);
    pthread_t t[3];
    long sum = 0;
    int created = 0;
    for (long i = 0; i < 3; i++)
        created += pthread_create(&t[i], NULL, square, (void *)(i + 2)) == 0;
    EXPECT_EQ("child_threads_created", created, 3);
    for (int i = 0; i < created; i++) {
        void *r;
        if (pthread_join(t[i], &r) == 0) sum += (long)r;
    }
    EXPECT_EQ("child_threads_joined_sum", sum, 4 + 9 + 16);
    EXPECT_EQ("child_tls_unchanged_by_threads", tls_value, expect_tls);
}

static void *fork_from_thread(void *arg)
{
    (void)arg;
    tls_value = 77;
    pid_t pid = fork_flushed();
    if (pid == 0) {
        child_checks(77);
        child_done();
    }
    return (void *)(long)(pid > 0 && child_ok(pid));
}

int main(void)
{
    tls_value = 5;
    pthread_t ring[RING];
    for (long i = 0; i < RING; i++)
        REQUIRE(pthread_create(&ring[i], NULL, ring_member, (void *)i) == 0);
    CHECK("ring_running", ring_advances(0, 100));
    EXPECT_EQ("parent_threads", thread_count(), RING + 1);

    int forks_ok = 0, advanced = 0;
    for (int n = 0; n < 20; n++) {
        int before = atomic_load(&rounds);
        pid_t pid = fork_flushed();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            /* Only the first child's checks are printed; the others report by exit status. */
            if (n > 0) REQUIRE(freopen("/dev/null", "w", stdout));
            child_checks(5);
            child_done();
        }
        forks_ok += child_ok(pid);
        advanced += ring_advances(before, 10);
    }
    EXPECT_EQ("children_ok", forks_ok, 20);
    EXPECT_EQ("ring_advanced_after_each_fork", advanced, 20);

    pthread_t forker;
    void *forked_ok = NULL;
    REQUIRE(pthread_create(&forker, NULL, fork_from_thread, NULL) == 0);
    REQUIRE(pthread_join(forker, &forked_ok) == 0);
    CHECK("fork_from_thread_child", forked_ok != NULL);
    EXPECT_EQ("parent_tls_unchanged", tls_value, 5);

    int before = atomic_load(&rounds);
    CHECK("ring_still_running", ring_advances(before, 100));
    atomic_store(&stop, 1);
    pthread_mutex_lock(&ring_lock);
    pthread_cond_broadcast(&ring_cond);
    pthread_mutex_unlock(&ring_lock);
    for (int i = 0; i < RING; i++) REQUIRE(pthread_join(ring[i], NULL) == 0);
    return finish();
}
