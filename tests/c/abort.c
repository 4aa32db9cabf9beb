// veil-test: expect-signal=6
// abort() kills the process with SIGABRT, even if SIGABRT was blocked.
#include "common.h"
#include <sys/resource.h>
#include <signal.h>

int main(void)
{
    /* No core file. */
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGABRT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    printf("about to abort\n");
    fflush(stdout);
    abort();
}
