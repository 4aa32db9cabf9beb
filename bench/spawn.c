/* Spawn latency: posix_spawn of a program + waitpid, N times; prints microseconds per spawn. */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: spawn PROGRAM [COUNT]\n");
        return 2;
    }
    long count = argc > 2 ? atol(argv[2]) : 200;
    char *child_argv[] = {argv[1], NULL};
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < count; i++) {
        pid_t pid;
        int status;
        if (posix_spawn(&pid, argv[1], NULL, NULL, child_argv, environ) != 0) return 1;
        waitpid(pid, &status, 0);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%.1f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / count / 1e3);
    return 0;
}
