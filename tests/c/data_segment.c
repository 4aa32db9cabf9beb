// A program's data segment and private writable file mappings are copy-on-write views of the
// file: initialised data and the zeroed bss (including the part of bss in the data segment's
// last file page) read as the file says; a write is the writer's alone: not seen by a copy of
// the program spawned afterwards, by a forked child's parent, nor in the file or in another
// private mapping of it; MADV_DONTNEED on a written private file page shows the file again;
// mprotect to read-only keeps the written contents (RELRO does that).
#include "common.h"
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define PAGE 4096

extern char **environ;

static int g_data[4] = {11, 22, 33, 44};
static char g_text[] = "initialised data";
static int g_bss[2 * PAGE];

/* What a fresh copy of this program sees, as an exit code: 0 if pristine. */
static int check_pristine(void)
{
    int bad = 0;
    bad |= g_data[0] != 11 || g_data[3] != 44;
    bad |= strcmp(g_text, "initialised data") != 0;
    for (size_t i = 0; i < sizeof g_bss / sizeof g_bss[0]; i++)
        bad |= g_bss[i] != 0;
    return bad;
}

static int spawn_copy(const char *self)
{
    char *argv[] = {(char *)self, "child", NULL};
    pid_t pid;
    int status;
    if (posix_spawn(&pid, self, NULL, NULL, argv, environ) != 0) return -1;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
    return WEXITSTATUS(status);
}

/* Private writable mappings of this program's own file (on the host file system, so served
 * from Veil's page cache). */
static void private_file_mappings(void)
{
    int fd = open("/proc/self/exe", O_RDONLY);
    REQUIRE(fd >= 0);
    char file[2];
    REQUIRE(pread(fd, file, 2, PAGE + 10) == 2);
    char *a = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    char *b = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    REQUIRE(a != MAP_FAILED && b != MAP_FAILED);
    CHECK("private mapping shows the file", memcmp(a, "\x7f" "ELF", 4) == 0 && a[PAGE + 10] == file[0]);
    a[1] = 'w';
    a[PAGE + 10] = (char)~file[0];
    CHECK("write seen by the writer", a[1] == 'w' && a[PAGE + 10] == (char)~file[0]);
    CHECK("write not seen by another private mapping", b[1] == 'E' && b[PAGE + 10] == file[0]);
    char got = 0;
    REQUIRE(pread(fd, &got, 1, 1) == 1);
    CHECK("write not in the file", got == 'E');
    EXPECT_OK("madvise DONTNEED", madvise(a, PAGE, MADV_DONTNEED));
    CHECK("after DONTNEED the file shows again", a[1] == 'E');
    CHECK("the other page keeps its write", a[PAGE + 10] == (char)~file[0]);
    EXPECT_OK("mprotect read-only", mprotect(a + PAGE, PAGE, PROT_READ));
    CHECK("read-only keeps the write", a[PAGE + 10] == (char)~file[0]);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        b[PAGE + 11] = (char)~file[1];
        _exit(b[PAGE + 11] == (char)~file[1] ? 0 : 1);
    }
    int status;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK("forked child's write is its own",
          WIFEXITED(status) && WEXITSTATUS(status) == 0 && b[PAGE + 11] == file[1]);
    munmap(a, 2 * PAGE);
    munmap(b, 2 * PAGE);
    close(fd);
}

int main(int argc, char **argv)
{
    if (argc > 1) return check_pristine();
    CHECK("initialised data", g_data[1] == 22 && strcmp(g_text, "initialised data") == 0);
    CHECK("bss is zero", check_pristine() == 0);
    g_data[0] = 99;
    strcpy(g_text, "parent wrote it");
    g_bss[0] = 5;
    g_bss[2 * PAGE - 1] = 6;
    EXPECT_EQ("spawned copy sees pristine data", spawn_copy(argv[0]), 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        g_data[1] = 77;
        g_bss[1] = 7;
        _exit(0);
    }
    int status;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK("child's writes are its own", g_data[1] == 22 && g_bss[1] == 0);
    CHECK("parent keeps its writes", g_data[0] == 99 && g_bss[2 * PAGE - 1] == 6);
    private_file_mappings();
    return finish();
}
