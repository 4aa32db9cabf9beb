// execve from a thread of a multi-threaded process: the other threads end, the new program
// runs in the same process (same pid) and its exit status is the process's.
#include "common.h"
#include <pthread.h>

static void *spinner(void *arg)
{
    (void)arg;
    for (;;) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void *execer(void *arg)
{
    (void)arg;
    char pid[32];
    snprintf(pid, sizeof pid, "%d", getpid());
    execl("/bin/sh", "sh", "-c", "[ \"$1\" = \"$$\" ] && echo same-pid; echo exec-from-thread", "sh", pid, (char *)NULL);
    printf("exec failed: %s\n", errname(errno));
    return NULL;
}

int main(void)
{
    pthread_t a, b, c;
    REQUIRE(pthread_create(&a, NULL, spinner, NULL) == 0);
    REQUIRE(pthread_create(&b, NULL, spinner, NULL) == 0);
    fflush(stdout);
    REQUIRE(pthread_create(&c, NULL, execer, NULL) == 0);
    for (;;) pause();
}
