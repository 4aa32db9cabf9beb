// veil-test: expect-signal=11
// A null pointer store kills the process with SIGSEGV (no handler).
#include "common.h"
#include <sys/resource.h>

int main(void)
{
    /* No core file. */
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    printf("about to dereference NULL\n");
    fflush(stdout);
    volatile int *p = opaque_ptr(0);
    *p = 1;
    printf("not reached\n");
    return 0;
}
