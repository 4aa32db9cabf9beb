/* Thread benchmarks: pipe throughput between two threads (64 KiB writes), futex ping-pong
 * between two threads (round trips), and thread create+join. Prints one number per mode. */
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static int fds[2];
static long total_bytes;

static void *pipe_reader(void *arg)
{
    static char buf[65536];
    long got = 0;
    while (got < total_bytes) {
        ssize_t n = read(fds[0], buf, sizeof buf);
        if (n <= 0) break;
        got += n;
    }
    return arg;
}

static uint32_t word;
static long rounds;

static void futex_wait(uint32_t *w, uint32_t v) { syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0); }
static void futex_wake(uint32_t *w) { syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0); }

static void *ponger(void *arg)
{
    for (long i = 0; i < rounds; i++) {
        while (__atomic_load_n(&word, __ATOMIC_ACQUIRE) != 1) futex_wait(&word, 0);
        __atomic_store_n(&word, 0, __ATOMIC_RELEASE);
        futex_wake(&word);
    }
    return arg;
}

static void *nothing(void *arg) { return arg; }

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "pipe";
    long n = argc > 2 ? atol(argv[2]) : 0;
    if (!strcmp(mode, "pipe")) {
        total_bytes = (n ? n : 256) << 20;
        static char buf[65536];
        memset(buf, 'x', sizeof buf);
        pipe(fds);
        pthread_t t;
        double t0 = now();
        pthread_create(&t, NULL, pipe_reader, NULL);
        for (long sent = 0; sent < total_bytes; sent += sizeof buf) write(fds[1], buf, sizeof buf);
        pthread_join(t, NULL);
        printf("%.1f\n", total_bytes / (now() - t0) / 1e6); /* MB/s */
    } else if (!strcmp(mode, "futex")) {
        rounds = n ? n : 20000;
        pthread_t t;
        pthread_create(&t, NULL, ponger, NULL);
        double t0 = now();
        for (long i = 0; i < rounds; i++) {
            __atomic_store_n(&word, 1, __ATOMIC_RELEASE);
            futex_wake(&word);
            while (__atomic_load_n(&word, __ATOMIC_ACQUIRE) != 0) futex_wait(&word, 1);
        }
        pthread_join(t, NULL);
        printf("%.2f\n", (now() - t0) / rounds * 1e6); /* us per round trip */
    } else {
        long count = n ? n : 2000;
        double t0 = now();
        for (long i = 0; i < count; i++) {
            pthread_t t;
            pthread_create(&t, NULL, nothing, NULL);
            pthread_join(t, NULL);
        }
        printf("%.2f\n", (now() - t0) / count * 1e6); /* us per create+join */
    }
    return 0;
}
