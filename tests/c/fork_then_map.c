// Mappings made right after a run of forks stay as made: Veil moves its own code to huge
// pages on a thread of its own after an address space's 16th fork, while the program goes on
// mapping, unmapping and making syscalls on another thread (a scratch mapping it cleaned up
// too eagerly once took a program's fresh mapping with it). Children forked meanwhile, and
// their own children, run and see their memory too.
#include "common.h"
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define MAPPINGS 300
#define FORKS 20
#define PAGE 4096

static volatile int stop;

/* Makes syscalls the whole time: veil's code runs on this thread while it is being moved. */
static void *syscalls(void *arg)
{
    long *count = arg;
    while (!stop) {
        if (getpid() <= 0) return NULL;
        ++*count;
    }
    return NULL;
}

static size_t length_of(int i) { return (size_t)(1 + i % 4) << 20; }

/* Whether the first `n` mappings (those not unmapped) hold what was written there. */
static int intact(char **maps, int n)
{
    for (int i = 0; i < n; i++) {
        if (maps[i] && (maps[i][0] != (char)i || maps[i][length_of(i) - 1] != (char)i)) return 0;
    }
    return 1;
}

/* Forks a child that checks the mappings it inherited and forks a grandchild that does the
 * same; true if both found them intact. */
static int check_in_child(char **maps, int n)
{
    pid_t pid = fork();
    if (pid < 0) return 0;
    if (pid == 0) {
        if (!intact(maps, n)) _exit(2);
        pid_t grandchild = fork();
        if (grandchild == 0) _exit(intact(maps, n) ? 0 : 3);
        int status;
        if (grandchild < 0 || waitpid(grandchild, &status, 0) != grandchild) _exit(4);
        _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 5);
    }
    int status;
    return waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int main(void)
{
    long count = 0;
    pthread_t thread;
    CHECK("thread started", pthread_create(&thread, NULL, syscalls, &count) == 0);

    /* More forks than Veil waits for before it moves its code; the last child is waited for
     * later, while the code moves. */
    int forked = 1;
    pid_t last = -1;
    for (int i = 0; i < FORKS && forked; i++) {
        if (last > 0) forked = waitpid(last, NULL, 0) == last;
        last = fork();
        if (last == 0) _exit(0);
        forked = forked && last > 0;
    }
    CHECK("forks", forked);

    static char *maps[MAPPINGS];
    int mapped = 1, children_ok = 1;
    for (int i = 0; i < MAPPINGS && mapped; i++) {
        size_t len = length_of(i);
        maps[i] = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (maps[i] == MAP_FAILED) {
            maps[i] = NULL;
            mapped = 0;
            break;
        }
        maps[i][0] = (char)i;
        maps[i][len - 1] = (char)i;
        /* Unmap some, so that the host reuses the holes. */
        if (i % 3 == 2) {
            munmap(maps[i - 1], length_of(i - 1));
            maps[i - 1] = NULL;
        }
        if (i % 50 == 0) children_ok &= check_in_child(maps, i + 1);
    }
    CHECK("all mapped", mapped);
    int status;
    CHECK("last child ended", waitpid(last, &status, 0) == last && WIFEXITED(status)
                                   && WEXITSTATUS(status) == 0);
    CHECK("mappings intact", intact(maps, MAPPINGS));
    CHECK("children and grandchildren saw their copies", children_ok);
    CHECK("a child after the mappings", check_in_child(maps, MAPPINGS));
    stop = 1;
    CHECK("thread joined", pthread_join(thread, NULL) == 0);
    CHECK("syscall thread ran", count > 0);
    return 0;
}
