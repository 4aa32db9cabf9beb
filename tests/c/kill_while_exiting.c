// Signals sent to a whole process group while its members exit: kill(0, sig), kill(-pgid, sig)
// and kill(pid, 0) race with children that end at the same time (in other address spaces),
// 50 rounds of 8 children. The sender once held the process table while reading an exiting
// child's status, which that child held while it looked up its parent in the table: both
// waited forever.
#include "common.h"
#include <signal.h>

int main(void)
{
    // A group of its own, so that the group's signals reach nobody else.
    setpgid(0, 0);
    signal(SIGUSR1, SIG_IGN);
    int delivered = 0, reaped = 0;
    for (int round = 0; round < 50; round++) {
        pid_t kids[8];
        for (int i = 0; i < 8; i++) {
            kids[i] = fork();
            REQUIRE(kids[i] >= 0);
            if (kids[i] == 0)
                _exit(i);
        }
        for (int i = 0; i < 200; i++) {
            delivered += kill(0, SIGUSR1) == 0;
            kill(-getpgrp(), SIGUSR1);
            kill(kids[i % 8], 0);
        }
        for (int i = 0; i < 8; i++) {
            int status;
            if (waitpid(kids[i], &status, 0) == kids[i] && WIFEXITED(status) &&
                WEXITSTATUS(status) == i)
                reaped++;
        }
    }
    EXPECT_EQ("group_kills_delivered", delivered, 50 * 200);
    EXPECT_EQ("children_reaped", reaped, 50 * 8);
    return finish();
}
