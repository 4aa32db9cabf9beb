// MAP_FIXED over a program's own mapping replaces it in one step: processes mapping memory at
// the same time (under Veil, spawned processes may share one host address space) never take
// the range in between, so the replacement never fails.
#include "common.h"
#include <spawn.h>
#include <sys/mman.h>

extern char **environ;

enum { WORKERS = 4, ROUNDS = 3000, LEN = 64 * 1024 };

/* Maps, replaces with MAP_FIXED and unmaps, ROUNDS times; exit status 1 if a replacement
 * failed. */
static int worker(void)
{
    int failed = 0;
    for (int i = 0; i < ROUNDS; i++) {
        char *p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return 2;
        char *q = mmap(p, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                       -1, 0);
        if (q != p)
            failed = 1;
        else
            munmap(p, LEN);
    }
    return failed;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        return worker();
    pid_t pids[WORKERS];
    char *child_argv[] = {argv[0], "worker", NULL};
    for (int i = 0; i < WORKERS; i++)
        REQUIRE(posix_spawn(&pids[i], argv[0], NULL, NULL, child_argv, environ) == 0);
    int ok = 0;
    for (int i = 0; i < WORKERS; i++) {
        int status;
        waitpid(pids[i], &status, 0);
        ok += WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    EXPECT_EQ("workers whose MAP_FIXED replacements all succeeded", ok, WORKERS);
    return finish();
}
