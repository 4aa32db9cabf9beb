// getdents64: list a directory we created (sorted output with types), many
// entries through a small buffer, rewinding, and errors.
#include "common.h"
#include <dirent.h>

struct entry {
    char name[64];
    unsigned char type;
};

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

static char type_char(unsigned char t)
{
    switch (t) {
    case DT_REG: return 'f';
    case DT_DIR: return 'd';
    case DT_LNK: return 'l';
    case DT_CHR: return 'c';
    case DT_UNKNOWN: return '?';
    default: return 'o';
    }
}

/* Read all entries of fd with a buffer of `bufsize` bytes. Returns the count
 * (or -1), fills `out` (up to max) and the number of getdents64 calls. */
static int list(int fd, size_t bufsize, struct entry *out, int max, int *calls)
{
    static char buf[65536];
    int count = 0;
    *calls = 0;
    for (;;) {
        long n = syscall(SYS_getdents64, fd, buf, bufsize);
        (*calls)++;
        if (n < 0) return -1;
        if (n == 0) return count;
        for (long off = 0; off < n;) {
            unsigned short reclen;
            memcpy(&reclen, buf + off + 16, sizeof reclen);
            if (count < max) {
                snprintf(out[count].name, sizeof out[count].name, "%s", buf + off + 19);
                out[count].type = (unsigned char)buf[off + 18];
            }
            count++;
            off += reclen;
        }
    }
}

int main(void)
{
    const char *dir = scratch_dir("getdents64");
    write_file(path_in(dir, "banana"), "b", 1);
    write_file(path_in(dir, "apple"), "a", 1);
    write_file(path_in(dir, "cherry"), "", 0);
    REQUIRE(mkdir(path_in(dir, "dir"), 0755) == 0);
    REQUIRE(symlink("apple", path_in(dir, "link")) == 0);

    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    REQUIRE(fd >= 0);
    static struct entry ents[512];
    int calls;
    int n = list(fd, 4096, ents, 512, &calls);
    EXPECT_EQ("count", n, 7);
    qsort(ents, (size_t)n, sizeof ents[0], cmp_entry);
    for (int i = 0; i < n && i < 16; i++) printf("entry: %c %s\n", type_char(ents[i].type), ents[i].name);
    EXPECT_EQ("at_end_again", syscall(SYS_getdents64, fd, (char[512]){0}, 512), 0);

    /* Rewind and list again. */
    EXPECT_EQ("rewind", lseek(fd, 0, SEEK_SET), 0);
    EXPECT_EQ("count_after_rewind", list(fd, 4096, ents, 512, &calls), 7);
    close(fd);

    /* Many entries through a small buffer need several calls. */
    char big[256];
    snprintf(big, sizeof big, "%s", path_in(dir, "dir"));
    for (int i = 0; i < 300; i++) {
        char name[32];
        snprintf(name, sizeof name, "file_%03d", i);
        write_file(path_in(big, name), "", 0);
    }
    fd = open(big, O_RDONLY | O_DIRECTORY);
    n = list(fd, 256, ents, 512, &calls);
    EXPECT_EQ("many_count", n, 302);
    CHECK("many_needed_several_calls", calls > 10);
    qsort(ents, (size_t)(n < 512 ? n : 512), sizeof ents[0], cmp_entry);
    int names_ok = 1;
    for (int i = 0; i < 300; i++) {
        char name[32];
        snprintf(name, sizeof name, "file_%03d", i);
        names_ok &= strcmp(ents[i + 2].name, name) == 0 && ents[i + 2].type == DT_REG;
    }
    CHECK("many_names_complete", names_ok);
    /* Remove entries between calls: a rewound listing sees the new state. */
    for (int i = 0; i < 300; i += 2) {
        char name[32];
        snprintf(name, sizeof name, "file_%03d", i);
        unlink(path_in(big, name));
    }
    lseek(fd, 0, SEEK_SET);
    EXPECT_EQ("count_after_unlink", list(fd, 1024, ents, 512, &calls), 152);

    /* Errors. */
    lseek(fd, 0, SEEK_SET);
    EXPECT_ERR("buffer_too_small", syscall(SYS_getdents64, fd, (char[8]){0}, 8), EINVAL);
    EXPECT_ERR("bad_fd", syscall(SYS_getdents64, -1, (char[512]){0}, 512), EBADF);
    EXPECT_ERR("efault", syscall(SYS_getdents64, fd, BAD_PTR, 4096), EFAULT);
    int ffd = open(path_in(dir, "apple"), O_RDONLY);
    EXPECT_ERR("not_a_dir", syscall(SYS_getdents64, ffd, (char[512]){0}, 512), ENOTDIR);
    close(ffd);
    close(fd);

    /* An empty directory still has . and .. */
    REQUIRE(mkdir(path_in(dir, "empty"), 0755) == 0);
    fd = open(path_in(dir, "empty"), O_RDONLY | O_DIRECTORY);
    n = list(fd, 4096, ents, 512, &calls);
    qsort(ents, (size_t)n, sizeof ents[0], cmp_entry);
    EXPECT_EQ("empty_count", n, 2);
    printf("empty_entries: %s %s\n", ents[0].name, ents[1].name);
    close(fd);

    rm_rf(dir);
    return finish();
}
