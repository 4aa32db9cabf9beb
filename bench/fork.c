/* Process benchmarks:
 *   fork COUNT   fork + child _exit + waitpid, COUNT times; prints microseconds per round
 *   pipe MIB     a forked child writes MIB MiB in 64 KiB writes to a pipe the parent reads;
 *                prints MB/s */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: fork fork COUNT | fork pipe MIB\n");
        return 2;
    }
    long n = atol(argv[2]);
    if (strcmp(argv[1], "fork") == 0) {
        double start = now_us();
        for (long i = 0; i < n; i++) {
            pid_t pid = fork();
            if (pid == 0) _exit(0);
            if (pid < 0 || waitpid(pid, NULL, 0) != pid) return 1;
        }
        printf("%.1f\n", (now_us() - start) / n);
        return 0;
    }
    static char buf[64 * 1024];
    int fds[2];
    if (pipe(fds) != 0) return 1;
    double start = now_us();
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        memset(buf, 'x', sizeof buf);
        for (long i = 0; i < n * 16; i++) {
            for (size_t done = 0; done < sizeof buf;) {
                ssize_t w = write(fds[1], buf + done, sizeof buf - done);
                if (w <= 0) _exit(1);
                done += (size_t)w;
            }
        }
        _exit(0);
    }
    close(fds[1]);
    long long total = 0;
    ssize_t r;
    while ((r = read(fds[0], buf, sizeof buf)) > 0) total += r;
    waitpid(pid, NULL, 0);
    if (total != n * 1024LL * 1024) return 1;
    printf("%.1f\n", total / (now_us() - start));
    return 0;
}
