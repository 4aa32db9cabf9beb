// veil-test: expect-exit=42
// exit_group(42) directly: the status is 42, atexit handlers do not run and
// unflushed stdio output (stdout is a pipe, so fully buffered) is lost.
#include "common.h"

static void on_exit_handler(void) { printf("atexit handler ran\n"); }

int main(void)
{
    atexit(on_exit_handler);
    printf("before exit_group\n");
    fflush(stdout);
    printf("this line stays in the stdio buffer\n");
    syscall(SYS_exit_group, 42);
    printf("not reached\n");
    return 0;
}
