// Every exec starts from the file's contents, however the programs before it left their
// memory: children run one after another (posix_spawn, and fork + exec) check that their
// initialised data, bss, read-only data, text and deep stack are as loaded, then dirty what
// they can, and before exiting make part of their data read-only, or their data, bss and a
// stack page inaccessible, or a page of read-only data inaccessible, or a page of text
// non-executable, or unmap part of their bss. A fixed mapping over the range where an ended
// program (a copy of this executable) was loaded succeeds, as the range is free. Spawns go on
// while another thread forks (a spawn that cannot share its parent's address space, as a
// fixed-address program spawning itself, once hung the instance when a fork came at once).
#include "common.h"
#include <pthread.h>
#include <spawn.h>
#include <sys/mman.h>

extern char **environ;

static int counter = 42;
static char greeting[64] = "pristine";
static int zeroed[8192];
static const char constant[] = "read-only data";
/* Initialised data on a page of its own, which a child makes read-only. */
static char own_page[4096] __attribute__((aligned(4096))) = "own page";
/* Read-only data spanning pages, one of which a child makes inaccessible. */
static const char read_only[3 * 4096] __attribute__((aligned(4096))) = "read-only pages";

/* Code alone on its page, which a child makes non-executable. */
int own_code(void);
__asm__(".section .text.own_code,\"ax\",@progbits\n"
        ".p2align 12\n"
        ".globl own_code\n"
        "own_code: mov $42, %eax\n"
        "ret\n"
        ".p2align 12\n"
        ".skip 16\n"
        ".text\n");

/* Whether 768 KiB of stack below the caller's frame are all zero, then dirties them. */
static __attribute__((noinline)) int deep_stack_was_zero(void)
{
    volatile char probe;
    volatile char *below = (volatile char *)&probe - (1 << 20);
    int zero = 1;
    for (int i = 0; i < (768 << 10); i += 512) {
        if (below[i] != 0) zero = 0;
        below[i] = (char)0xa5;
    }
    return zero;
}

/* The child: exit code 0 if its memory was as loaded. `how` says what it does to its image
 * before exiting. */
static void child(const char *how)
{
    uintptr_t read_only_page = ((uintptr_t)read_only + 4096) & ~(uintptr_t)4095;
    int fresh = counter == 42 && strcmp(greeting, "pristine") == 0 &&
                strcmp(constant, "read-only data") == 0 && strcmp(own_page, "own page") == 0 &&
                strcmp(read_only, "read-only pages") == 0 && own_code() == 42 &&
                ((volatile const char *)read_only_page)[5] == 0;
    for (size_t i = 0; i < sizeof zeroed / sizeof zeroed[0]; i++)
        if (zeroed[i] != 0) fresh = 0;
    if (!deep_stack_was_zero()) fresh = 0;
    counter = 7;
    strcpy(greeting, "dirty");
    strcpy(own_page, "dirty");
    for (size_t i = 0; i < sizeof zeroed / sizeof zeroed[0]; i++) zeroed[i] = (int)i + 1;
    if (strcmp(how, "protect") == 0 && mprotect(own_page, 4096, PROT_READ) != 0) _exit(3);
    if (strcmp(how, "hide") == 0) {
        volatile char probe;
        uintptr_t stack_page = ((uintptr_t)&probe - (256 << 10)) & ~(uintptr_t)4095;
        memset((void *)stack_page, 0x77, 4096);
        if (mprotect(own_page, 4096, PROT_NONE) != 0 ||
            mprotect((void *)(((uintptr_t)&zeroed[4096]) & ~(uintptr_t)4095), 4096, PROT_NONE) ||
            mprotect((void *)stack_page, 4096, PROT_NONE) != 0)
            _exit(3);
    }
    if (strcmp(how, "hide-rodata") == 0 && mprotect((void *)read_only_page, 4096, PROT_NONE) != 0)
        _exit(3);
    if (strcmp(how, "no-exec") == 0 &&
        mprotect((void *)((uintptr_t)own_code & ~(uintptr_t)4095), 4096, PROT_READ) != 0)
        _exit(3);
    uintptr_t bss_page = ((uintptr_t)&zeroed[4096]) & ~(uintptr_t)4095;
    if (strcmp(how, "unmap") == 0 && munmap((void *)bss_page, 4096) != 0) _exit(3);
    _exit(fresh ? 0 : 1);
}

/* Runs `path` with argv[1] = "child", argv[2] = how; its exit code. */
static int spawn_child(const char *path, const char *how, int use_fork)
{
    char *argv[] = {(char *)path, "child", (char *)how, NULL};
    pid_t pid;
    if (use_fork) {
        pid = fork();
        if (pid == 0) {
            execve(path, argv, environ);
            _exit(127);
        }
    } else if (posix_spawn(&pid, path, NULL, NULL, argv, environ) != 0) {
        return -1;
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static volatile int forking = 1;

/* Forks children that exit at once, until `forking` is cleared. */
static void *fork_loop(void *arg)
{
    (void)arg;
    while (forking) {
        pid_t pid = fork();
        if (pid == 0) _exit(0);
        if (pid > 0) waitpid(pid, NULL, 0);
    }
    return NULL;
}

/* A copy of the executable at `copy`; 0 on success. */
static int copy_file(const char *from, const char *copy)
{
    int in = open(from, O_RDONLY), out = open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0700);
    if (in < 0 || out < 0) return -1;
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, n) != n) return -1;
    close(in);
    return close(out);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "child") == 0) child(argv[2]);
    if (argc == 3 && strcmp(argv[1], "where") == 0) {
        /* Reports where its data page is, then ends. */
        printf("%lx\n", (unsigned long)(((uintptr_t)&counter) & ~(uintptr_t)4095));
        return 0;
    }
    char self[256];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    REQUIRE(len > 0);
    self[len] = 0;

    const char *hows[] = {"plain",       "plain", "protect", "plain",   "hide",  "plain",
                          "hide-rodata", "plain", "no-exec", "plain",   "unmap", "plain"};
    for (size_t i = 0; i < sizeof hows / sizeof hows[0]; i++) {
        char label[64];
        snprintf(label, sizeof label, "spawned_child_%zu_%s_fresh", i, hows[i]);
        EXPECT_EQ(label, spawn_child(self, hows[i], 0), 0);
    }
    for (int i = 0; i < 3; i++) {
        char label[64];
        snprintf(label, sizeof label, "forked_child_%d_fresh", i);
        EXPECT_EQ(label, spawn_child(self, "plain", 1), 0);
    }

    pthread_t forker;
    REQUIRE(pthread_create(&forker, NULL, fork_loop, NULL) == 0);
    int fresh_while_forking = 0;
    for (int i = 0; i < 100; i++) fresh_while_forking += spawn_child(self, "plain", 0) == 0;
    forking = 0;
    pthread_join(forker, NULL);
    EXPECT_EQ("spawned_while_forking_fresh", fresh_while_forking, 100);

    /* A copy of this program (another file) runs, reports where it was, and ends; its range
     * is then free for a fixed mapping. */
    char dir[] = "/tmp/veil-exec-fresh-XXXXXX";
    REQUIRE(mkdtemp(dir) != NULL);
    char copy[128];
    snprintf(copy, sizeof copy, "%s/copy", dir);
    REQUIRE(copy_file(self, copy) == 0);
    int out[2];
    REQUIRE(pipe(out) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    char *where_argv[] = {copy, "where", "-", NULL};
    pid_t pid;
    REQUIRE(posix_spawn(&pid, copy, &actions, NULL, where_argv, environ) == 0);
    close(out[1]);
    char text[64] = {0};
    REQUIRE(read(out[0], text, sizeof text - 1) > 0);
    int status;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    unsigned long page = strtoul(text, NULL, 16);
    /* Where the copy ran at this program's own address (it is not position-independent, or
     * it ran in an address space of its own) there is nothing to check. */
    int own_range = page == (((uintptr_t)&counter) & ~(uintptr_t)4095);
    void *at = own_range ? MAP_FAILED
                         : mmap((void *)page, 4096, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    CHECK("fixed_mapping_where_an_ended_program_was", own_range || at == (void *)page);
    CHECK("it_is_zero", own_range || (at != MAP_FAILED && *(volatile int *)at == 0));
    if (at != MAP_FAILED) munmap(at, 4096);
    EXPECT_EQ("copy_runs_again", spawn_child(copy, "plain", 0), 0);
    unlink(copy);
    rmdir(dir);
    return finish();
}
