// veil-test: expect-exit=7
// The exit syscall (not exit_group) in the only thread ends the process
// with that status; buffered output was flushed by hand before.
#include "common.h"

int main(void)
{
    printf("calling SYS_exit(7)\n");
    fflush(stdout);
    syscall(SYS_exit, 7);
    printf("not reached\n");
    return 0;
}
