/* Syscall round trip: N getppid calls, prints nanoseconds per call. With "generic" as the
 * second argument the calls go through glibc's generic syscall() (its `syscall` instruction
 * takes the number from a register: Veil traps it every time); otherwise through the getppid()
 * wrapper (`mov $nr, %eax; syscall`: Veil patches the site into its fast path). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    int generic = argc > 2 && strcmp(argv[2], "generic") == 0;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    if (generic)
        for (long i = 0; i < n; i++) syscall(SYS_getppid);
    else
        for (long i = 0; i < n; i++) getppid();
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns = (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);
    printf("%.1f\n", ns / n);
    return 0;
}
