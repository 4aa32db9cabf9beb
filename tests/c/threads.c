// pthreads: create/join with return values, a mutex under contention, a condition variable
// hand-off, thread-local storage, pthread_exit, detached threads, and a storm of 1000 threads
// created and joined over time. Threads share pid, differ in tid.
#include "common.h"
#include <pthread.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static long counter;
static int turn;
static __thread int tls_value = 7;
static volatile int detached_done;

static void *add(void *arg)
{
    for (int i = 0; i < 20000; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
    }
    tls_value += (int)(long)arg;
    return (void *)(long)tls_value;
}

/* Two threads take turns 0,1,0,1... through one condition variable. */
static void *ping(void *arg)
{
    int me = (int)(long)arg;
    for (int round = 0; round < 500; round++) {
        pthread_mutex_lock(&lock);
        while (turn != me) pthread_cond_wait(&cond, &lock);
        turn = 1 - me;
        pthread_cond_broadcast(&cond);
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

static void *ids(void *arg)
{
    int *out = arg;
    out[0] = getpid();
    out[1] = (int)syscall(SYS_gettid);
    pthread_exit((void *)42);
}

static void *nothing(void *arg)
{
    return arg;
}

static void *detached(void *arg)
{
    (void)arg;
    __atomic_store_n(&detached_done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

int main(void)
{
    pthread_t t[8];
    for (long i = 0; i < 8; i++) REQUIRE(pthread_create(&t[i], NULL, add, (void *)i) == 0);
    long sum = 0;
    for (int i = 0; i < 8; i++) {
        void *ret;
        REQUIRE(pthread_join(t[i], &ret) == 0);
        sum += (long)ret;
    }
    EXPECT_EQ("mutex_counter", counter, 8 * 20000);
    EXPECT_EQ("tls_per_thread", sum, 8 * 7 + 28);
    EXPECT_EQ("main_tls_untouched", tls_value, 7);

    REQUIRE(pthread_create(&t[0], NULL, ping, (void *)0) == 0);
    REQUIRE(pthread_create(&t[1], NULL, ping, (void *)1) == 0);
    pthread_join(t[0], NULL);
    pthread_join(t[1], NULL);
    CHECK("condvar_pingpong", turn == 0);

    int got[2];
    void *ret;
    REQUIRE(pthread_create(&t[0], NULL, ids, got) == 0);
    pthread_join(t[0], &ret);
    EXPECT_EQ("pthread_exit_value", (long)ret, 42);
    CHECK("same_pid", got[0] == getpid());
    CHECK("own_tid", got[1] != got[0] && got[1] > 0);

    long joined = 0;
    for (int batch = 0; batch < 125; batch++) {
        for (long i = 0; i < 8; i++) REQUIRE(pthread_create(&t[i], NULL, nothing, (void *)(i + 1)) == 0);
        for (int i = 0; i < 8; i++) {
            REQUIRE(pthread_join(t[i], &ret) == 0);
            joined += (long)ret;
        }
    }
    EXPECT_EQ("storm_1000_threads", joined, 125 * 36);

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    REQUIRE(pthread_create(&t[0], &attr, detached, NULL) == 0);
    for (int i = 0; i < 2000 && !__atomic_load_n(&detached_done, __ATOMIC_SEQ_CST); i++) usleep(1000);
    CHECK("detached_ran", detached_done);
    return finish();
}
