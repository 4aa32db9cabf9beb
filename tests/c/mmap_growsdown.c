// MAP_GROWSDOWN: a fault just below the mapping grows it down (to the faulting
// page), unless that would come within the stack guard gap (256 pages) of an
// accessible mapping below or exceed RLIMIT_STACK; shared ones are refused.
#include "common.h"
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>

#define PG 4096UL
/* Free room reserved below the mapping: more than the guard gap. */
#define ROOM 512UL
#define PAGES 16UL

/* Start of the /proc/self/maps line that ends at `end`, or 0. */
static unsigned long map_start_ending_at(unsigned long end)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    unsigned long s, e, found = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "%lx-%lx", &s, &e) == 2 && e == end) found = s;
    if (f) fclose(f);
    return found;
}

/* A MAP_GROWSDOWN mapping of PAGES pages with ROOM free pages below it. */
static unsigned char *growsdown_with_room(void)
{
    unsigned char *area = mmap(NULL, (ROOM + PAGES) * PG, PROT_NONE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (area == MAP_FAILED) return NULL;
    munmap(area, ROOM * PG);
    unsigned char *p = mmap(area + ROOM * PG, PAGES * PG, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN | MAP_FIXED, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void segv_exit(int sig)
{
    (void)sig;
    _exit(7);
}

/* Exit status of a child that writes at `target` (7: it got SIGSEGV). */
static int child_write(volatile unsigned char *target, rlim_t stack_limit)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGSEGV, segv_exit);
        if (stack_limit) {
            struct rlimit rl = {stack_limit, stack_limit};
            setrlimit(RLIMIT_STACK, &rl);
        }
        *target = 1;
        _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(void)
{
    unsigned char *p = growsdown_with_room();
    CHECK("map_growsdown", p != NULL);
    if (!p) return finish();
    unsigned long end = (unsigned long)p + PAGES * PG;
    CHECK("maps_starts_at_p", map_start_ending_at(end) == (unsigned long)p);

    /* Just below the mapping: it grows by one page, zero filled. */
    volatile unsigned char *below = p - 100;
    EXPECT_EQ("below_reads_zero", below[0], 0);
    below[0] = 0x5a;
    EXPECT_EQ("below_written", below[0], 0x5a);
    CHECK("grew_one_page", map_start_ending_at(end) == (unsigned long)p - PG);

    /* Far below, still clear of the guard gap: grows down to that page. */
    volatile unsigned char *far = p - 200 * PG + 8;
    far[0] = 3;
    EXPECT_EQ("far_written", far[0], 3);
    CHECK("grew_to_far_page", map_start_ending_at(end) == (unsigned long)p - 200 * PG);
    CHECK("middle_reads_zero", p[-(long)(100 * PG)] == 0);

    /* An accessible mapping at the bottom of the room: growing to within the
     * guard gap of it faults, growing to just outside it works. */
    unsigned char *low = mmap(p - ROOM * PG, PG, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    CHECK("map_low_neighbour", low == p - ROOM * PG);
    EXPECT_EQ("within_guard_gap_segv", child_write(p - 300 * PG, 0), 7);
    EXPECT_EQ("outside_guard_gap_ok", child_write(p - 255 * PG, 0), 0);

    /* RLIMIT_STACK bounds the mapping's size. */
    EXPECT_EQ("over_rlimit_stack_segv", child_write(p - 210 * PG, 64 * PG), 7);
    EXPECT_EQ("under_rlimit_stack_ok", child_write(p - 210 * PG, 1024 * PG), 0);

    /* Only private mappings can grow. */
    EXPECT_ERR("shared_growsdown", mmap(NULL, PG, PROT_READ | PROT_WRITE,
                                        MAP_SHARED | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0),
               EINVAL);
    return finish();
}
