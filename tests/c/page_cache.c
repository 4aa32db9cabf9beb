// Read-only private mappings of files on the host file system (which Veil
// serves from its page cache): contents, several mappings of one file,
// mprotect to writable (a private copy), MADV_DONTNEED, a fork, files
// changed through write(), truncate() and a shared writable mapping, and the
// program's own executable.
#include "common.h"
#include <sys/mman.h>

#define PG 4096UL
#define SIZE (3 * PG + 100)

static char data[SIZE];

static void fill(char base)
{
    for (size_t i = 0; i < SIZE; i++) data[i] = (char)(base + (i % 26) + (i / PG));
}

static char *map_ro(int fd, size_t len, off_t offset)
{
    char *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, offset);
    return p == MAP_FAILED ? NULL : p;
}

int main(void)
{
    /* A host directory: next to this program (/tmp is a RAM file system under Veil). */
    char self[400];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 16);
    REQUIRE(n > 0);
    self[n] = 0;
    char f[420];
    snprintf(f, sizeof f, "%s.data", self);
    unlink(f);
    fill('A');
    write_file(f, data, SIZE);
    int fd = open(f, O_RDONLY);
    REQUIRE(fd >= 0);

    char *a = map_ro(fd, SIZE, 0);
    CHECK("contents", a && memcmp(a, data, SIZE) == 0);
    int tail_zero = 1;
    for (size_t i = SIZE; a && i < 4 * PG; i++) tail_zero &= a[i] == 0;
    CHECK("eof_tail_zero", tail_zero);
    char *b = map_ro(fd, PG, PG);
    CHECK("offset_contents", b && memcmp(b, data + PG, PG) == 0);
    char *x = mmap(NULL, PG, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
    CHECK("exec_mapping", x != MAP_FAILED && memcmp(x, data, PG) == 0);

    /* Made writable, a mapping gets its own copy: nobody else sees its stores. */
    CHECK("mprotect_rw", mprotect(a, SIZE, PROT_READ | PROT_WRITE) == 0);
    memcpy(a + PG, "PRIVATE", 7);
    CHECK("store_visible", memcmp(a + PG, "PRIVATE", 7) == 0 && memcmp(a, data, PG) == 0);
    CHECK("other_mapping_unchanged", memcmp(b, data + PG, PG) == 0);
    char *c = map_ro(fd, 2 * PG, 0);
    CHECK("new_mapping_unchanged", c && memcmp(c, data, 2 * PG) == 0);
    char buf[8] = {0};
    CHECK("file_unchanged", pread(fd, buf, 7, PG) == 7 && memcmp(buf, data + PG, 7) == 0);
    CHECK("mprotect_back_ro", mprotect(a, SIZE, PROT_READ) == 0 && memcmp(a + PG, "PRIVATE", 7) == 0);

    /* MADV_DONTNEED on a read-only private mapping: it reads as the file again. */
    CHECK("dontneed", madvise(c, 2 * PG, MADV_DONTNEED) == 0 && memcmp(c, data, 2 * PG) == 0);

    /* A forked child sees the same contents. */
    pid_t pid = fork_flushed();
    if (pid == 0) _exit(memcmp(c, data, 2 * PG) == 0 && memcmp(b, data + PG, PG) == 0 ? 0 : 1);
    CHECK("fork_child_contents", child_ok(pid));

    /* Rewritten through write() (same size): a new mapping has the new bytes. */
    fill('a');
    int w = open(f, O_WRONLY);
    CHECK("rewrite", w >= 0 && pwrite(w, data, SIZE, 0) == (ssize_t)SIZE);
    char *d = map_ro(fd, SIZE, 0);
    CHECK("sees_rewrite", d && memcmp(d, data, SIZE) == 0);

    /* Truncated and refilled by path. */
    CHECK("truncate", truncate(f, 0) == 0 && truncate(f, PG) == 0);
    char *e = map_ro(fd, PG, 0);
    int zeros = 1;
    for (size_t i = 0; e && i < PG; i++) zeros &= e[i] == 0;
    CHECK("sees_truncate", e && zeros);
    CHECK("refill", pwrite(w, data, SIZE, 0) == (ssize_t)SIZE);

    /* Stores through a shared writable mapping reach later private mappings. */
    int rw = open(f, O_RDWR);
    char *s = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, rw, 0);
    CHECK("shared_map", s != MAP_FAILED);
    if (s != MAP_FAILED) memcpy(s, "SHARED", 6);
    char *g = map_ro(fd, PG, 0);
    CHECK("sees_shared_store", g && memcmp(g, "SHARED", 6) == 0 && memcmp(g + 6, data + 6, PG - 6) == 0);

    /* The program's own executable, mapped read-only, matches what read() returns. */
    int me = open(self, O_RDONLY);
    char *m = map_ro(me, PG, 0);
    char head[PG];
    CHECK("own_executable", m && pread(me, head, PG, 0) == (ssize_t)PG && memcmp(m, head, PG) == 0);

    close(me);
    close(rw);
    close(w);
    close(fd);
    unlink(f);
    return finish();
}
