// Memory after fork: globals, heap (small and large allocations), stack, brk and private
// anonymous and file mappings are copied (a write on one side is not seen by the other, in
// both directions, including pages first touched after the fork); munmap and mprotect in the
// child leave the parent's mappings alone; a grandchild gets the child's copy; MAP_SHARED
// anonymous memory is shared by parent, child and grandchild.
#include "common.h"
#include <sys/mman.h>
#include <sys/wait.h>

#define BIG (4 << 20)
#define PAGE 4096

static int g_data = 1;
static char g_bss[3 * PAGE];

/* Every private kind of memory the test writes on both sides. */
struct areas {
    int *data;
    char *bss;
    char *heap_small;
    char *heap_big;
    char *stack;
    char *anon;
    char *file_map;
};

static void fill(struct areas *a, char c)
{
    *a->data = c;
    memset(a->bss, c, sizeof g_bss);
    memset(a->heap_small, c, 64);
    memset(a->heap_big, c, BIG);
    memset(a->stack, c, 2 * PAGE);
    memset(a->anon, c, BIG);
    memset(a->file_map, c, 2 * PAGE);
}

static int all(const char *p, size_t n, char c)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != c) return 0;
    return 1;
}

/* A bitmask of the areas not entirely filled with `c` (0: all hold `c`). */
static int differs(const struct areas *a, char c)
{
    return (*a->data != c) << 0 | !all(a->bss, sizeof g_bss, c) << 1 |
           !all(a->heap_small, 64, c) << 2 | !all(a->heap_big, BIG, c) << 3 |
           !all(a->stack, 2 * PAGE, c) << 4 | !all(a->anon, BIG, c) << 5 |
           !all(a->file_map, 2 * PAGE, c) << 6;
}

static void private_copies(const char *dir)
{
    char stack[2 * PAGE];
    DEF_PATH(file, dir, "private");
    int fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(ftruncate(fd, 2 * PAGE) == 0);
    struct areas a = {
        .data = &g_data,
        .bss = g_bss,
        .heap_small = malloc(64),
        .heap_big = malloc(BIG),
        .stack = stack,
        .anon = mmap(NULL, BIG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
        .file_map = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0),
    };
    REQUIRE(a.heap_small && a.heap_big && a.anon != MAP_FAILED && a.file_map != MAP_FAILED);
    fill(&a, 'p');

    /* Child writes; parent keeps its values. The child also checks that it saw the parent's. */
    pid_t pid = fork_flushed();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        int before = differs(&a, 'p');
        fill(&a, 'c');
        _exit(before == 0 && differs(&a, 'c') == 0 ? 0 : 1);
    }
    CHECK("child_saw_parent_values_and_wrote", child_ok(pid));
    EXPECT_EQ("parent_areas_unchanged", differs(&a, 'p'), 0);

    /* Parent writes after the fork while the child waits; the child keeps the old values. */
    int go[2], done[2];
    REQUIRE(pipe(go) == 0 && pipe(done) == 0);
    pid = fork_flushed();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        char c;
        close(go[1]);
        close(done[0]);
        if (read(go[0], &c, 1) != 1) _exit(3);
        int r = differs(&a, 'p');
        _exit(write(done[1], &r, sizeof r) == sizeof r ? 0 : 3);
    }
    close(go[0]);
    close(done[1]);
    fill(&a, 'q');
    REQUIRE(write(go[1], "x", 1) == 1);
    int child_differs = -1;
    EXPECT_EQ("report", read(done[0], &child_differs, sizeof child_differs), (long)sizeof(int));
    EXPECT_EQ("child_areas_unchanged_by_parent", child_differs, 0);
    CHECK("child_exit", child_ok(pid));
    close(go[1]);
    close(done[0]);

    /* A grandchild gets the child's copy, not the parent's. */
    pid = fork_flushed();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        fill(&a, 'c');
        pid_t gpid = fork();
        if (gpid == 0) {
            int saw = differs(&a, 'c');
            fill(&a, 'g');
            _exit(saw == 0 ? 0 : 1);
        }
        int ok = gpid > 0 && child_ok(gpid) && differs(&a, 'c') == 0;
        _exit(ok ? 0 : 1);
    }
    CHECK("grandchild_copy_of_child", child_ok(pid));
    EXPECT_EQ("parent_areas_after_grandchild", differs(&a, 'q'), 0);

    /* The file behind the private mapping never changed. */
    char buf[2 * PAGE];
    EXPECT_EQ("file_read", pread(fd, buf, sizeof buf, 0), (long)sizeof buf);
    CHECK("file_still_zero", all(buf, sizeof buf, 0));
    munmap(a.anon, BIG);
    munmap(a.file_map, 2 * PAGE);
    free(a.heap_small);
    free(a.heap_big);
    close(fd);
}

/* Pages never touched before the fork are zero on both sides and stay private. */
static void untouched_pages(void)
{
    char *m = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(m != MAP_FAILED);
    pid_t pid = fork_flushed();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        int zero = all(m, 16 * PAGE, 0);
        memset(m, 'c', 16 * PAGE);
        _exit(zero ? 0 : 1);
    }
    CHECK("child_saw_zero_pages", child_ok(pid));
    CHECK("parent_pages_still_zero", all(m, 16 * PAGE, 0));
    munmap(m, 16 * PAGE);
}

/* munmap, mprotect, mmap and brk in the child change only the child's address space. */
static void layout_changes(void)
{
    char *m = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(m != MAP_FAILED);
    memset(m, 'p', 4 * PAGE);
    char *brk0 = (char *)syscall(SYS_brk, 0);
    pid_t pid = fork_flushed();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        munmap(m, PAGE);
        mprotect(m + PAGE, PAGE, PROT_NONE);
        mmap(m + 2 * PAGE, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        char *grown = (char *)syscall(SYS_brk, brk0 + 16 * PAGE);
        if (grown != brk0 + 16 * PAGE) _exit(1);
        memset(brk0, 'c', 16 * PAGE);
        _exit(0);
    }
    CHECK("child_changed_layout", child_ok(pid));
    CHECK("parent_page0_mapped", all(m, PAGE, 'p'));
    CHECK("parent_page1_writable", (m[PAGE] = 'w') == 'w' && all(m + PAGE + 1, PAGE - 1, 'p'));
    CHECK("parent_page2_private_data", all(m + 2 * PAGE, PAGE, 'p'));
    CHECK("parent_brk_unchanged", (char *)syscall(SYS_brk, 0) == brk0);
    munmap(m, 4 * PAGE);
}

/* MAP_SHARED anonymous memory is the same memory in parent, child and grandchild. */
static void shared_anon(void)
{
    volatile int *s = mmap(NULL, BIG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    REQUIRE(s != MAP_FAILED);
    s[0] = 1;
    int go[2];
    REQUIRE(pipe(go) == 0);
    pid_t pid = fork_flushed();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        char c;
        int saw_parent = s[0] == 1;
        s[0] = 2;
        s[BIG / sizeof(int) - 1] = 3; /* a page the parent never touched */
        close(go[1]);
        /* The parent writes while this child still runs. */
        if (read(go[0], &c, 1) != 1) _exit(3);
        int saw_later = s[1] == 7;
        pid_t gpid = fork();
        if (gpid == 0) {
            s[2] = 9;
            _exit(0);
        }
        int ok = saw_parent && saw_later && gpid > 0 && child_ok(gpid) && s[2] == 9;
        _exit(ok ? 0 : 1);
    }
    close(go[0]);
    s[1] = 7;
    REQUIRE(write(go[1], "x", 1) == 1);
    CHECK("shared_child_ok", child_ok(pid));
    EXPECT_EQ("shared_child_write", s[0], 2);
    EXPECT_EQ("shared_child_write_far", s[BIG / sizeof(int) - 1], 3);
    EXPECT_EQ("shared_grandchild_write", s[2], 9);
    close(go[1]);

    /* Many children increment their own slot; the parent sees them all. */
    enum { N = 16 };
    for (int i = 0; i < N; i++) {
        pid = fork_flushed();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            for (int k = 0; k <= i; k++) s[1024 + i]++;
            _exit(0);
        }
        REQUIRE(child_ok(pid));
    }
    int sum = 0;
    for (int i = 0; i < N; i++) sum += s[1024 + i];
    EXPECT_EQ("shared_slots_sum", sum, N * (N + 1) / 2);
    munmap((void *)s, BIG);
}

int main(void)
{
    const char *dir = scratch_dir("fork_memory");
    private_copies(dir);
    untouched_pages();
    layout_changes();
    shared_anon();
    rm_rf(dir);
    return finish();
}
