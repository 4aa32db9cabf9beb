// Forked children that load large programs at the same time: each program's files go into
// the instance's page cache from another address space, concurrently. (The host pipe the
// page cache is filled through was once inherited by forked children, so their fills mixed
// each other's bytes and the programs crashed.)
#include "common.h"

int main(void)
{
    char *const programs[][4] = {
        {"/usr/bin/python3", "-c", "pass", NULL},
        {"/usr/bin/perl", "-e", "1", NULL},
        {"/usr/bin/sqlite3", "--version", NULL, NULL},
        {"/bin/busybox", "true", NULL, NULL},
        {"/usr/bin/lua5.4", "-v", NULL, NULL},
        {"/usr/bin/sort", "--version", NULL, NULL},
    };
    const int n = sizeof programs / sizeof programs[0];
    pid_t pids[sizeof programs / sizeof programs[0]];
    fflush(stdout);
    for (int i = 0; i < n; i++) {
        pids[i] = fork();
        REQUIRE(pids[i] >= 0);
        if (pids[i] == 0) {
            int null = open("/dev/null", O_WRONLY);
            dup2(null, 1);
            dup2(null, 2);
            execv(programs[i][0], programs[i]);
            _exit(127);
        }
    }
    for (int i = 0; i < n; i++) {
        int status;
        REQUIRE(waitpid(pids[i], &status, 0) == pids[i]);
        printf("%s: exit %d signal %d\n", programs[i][0], WIFEXITED(status) ? WEXITSTATUS(status) : -1,
               WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    }
    return finish();
}
