// veil-test: expect-exit=3
// Returning 3 from main: exit status 3, atexit handlers run in reverse
// order, and buffered stdio output is flushed.
#include "common.h"

static void first(void) { printf("atexit first registered (runs last)\n"); }
static void second(void) { printf("atexit second registered (runs first)\n"); }

int main(void)
{
    atexit(first);
    atexit(second);
    printf("main returns 3\n");
    /* No fflush: exit() flushes. */
    return 3;
}
