// mprotect: changing protections keeps contents, permissions are visible
// in /proc/self/maps, partial ranges split mappings, and errors.
#include "common.h"
#include <sys/mman.h>

#define PG 4096UL

/* The permission string ("rw-p") of the /proc/self/maps line containing addr. */
static const char *perms_at(const void *addr)
{
    static char perms[8];
    static char maps[1 << 16];
    strcpy(perms, "none");
    if (read_file("/proc/self/maps", maps, sizeof maps) < 0) return "unreadable";
    for (char *line = maps; line && *line;) {
        char *nl = strchr(line, '\n');
        unsigned long lo, hi;
        char pr[5];
        if (sscanf(line, "%lx-%lx %4s", &lo, &hi, pr) == 3 && (uintptr_t)addr >= lo && (uintptr_t)addr < hi) {
            snprintf(perms, sizeof perms, "%s", pr);
            break;
        }
        line = nl ? nl + 1 : NULL;
    }
    return perms;
}

int main(void)
{
    unsigned char *p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(p != MAP_FAILED);
    memset(p, 0x5a, 4 * PG);
    printf("initial: %s\n", perms_at(p));

    EXPECT_OK("mprotect_read", mprotect(p, 4 * PG, PROT_READ));
    printf("after_read_only: %s\n", perms_at(p));
    CHECK("contents_kept_ro", p[0] == 0x5a && p[4 * PG - 1] == 0x5a);

    EXPECT_OK("mprotect_none", mprotect(p, 4 * PG, PROT_NONE));
    printf("after_none: %s\n", perms_at(p));
    EXPECT_OK("mprotect_rw_again", mprotect(p, 4 * PG, PROT_READ | PROT_WRITE));
    CHECK("contents_kept_after_none", p[PG] == 0x5a);
    p[PG] = 1;
    CHECK("writable_again", p[PG] == 1);

    /* A sub-range: only the second page changes. */
    EXPECT_OK("mprotect_one_page", mprotect(p + PG, PG, PROT_READ));
    printf("page0: %s\n", perms_at(p));
    printf("page1: %s\n", perms_at(p + PG));
    printf("page2: %s\n", perms_at(p + 2 * PG));
    EXPECT_OK("mprotect_exec", mprotect(p + 2 * PG, PG, PROT_READ | PROT_EXEC));
    printf("page2_exec: %s\n", perms_at(p + 2 * PG));
    /* Length is rounded up to a page. */
    EXPECT_OK("mprotect_len_rounded", mprotect(p + 3 * PG, 1, PROT_READ));
    printf("page3: %s\n", perms_at(p + 3 * PG));
    EXPECT_OK("mprotect_len_zero", mprotect(p, 0, PROT_NONE));
    printf("page0_after_len_zero: %s\n", perms_at(p));

    /* Errors. */
    /* Raw syscall: musl's wrapper rounds the start down itself. */
    EXPECT_ERR("unaligned", syscall(SYS_mprotect, p + 1, PG, PROT_READ), EINVAL);
    EXPECT_ERR("bad_prot", mprotect(p, PG, 0x100), EINVAL);
    EXPECT_ERR("unmapped", mprotect(BAD_PTR, PG, PROT_READ), ENOMEM);
    munmap(p + 2 * PG, PG);
    EXPECT_ERR("range_with_hole", mprotect(p, 4 * PG, PROT_READ), ENOMEM);
    EXPECT_ERR("hole_only", mprotect(p + 2 * PG, PG, PROT_READ), ENOMEM);
    munmap(p, 4 * PG);

    /* Write to a read-only file mapping is refused for MAP_SHARED upgrade. */
    const char *dir = scratch_dir("mprotect");
    DEF_PATH(f, dir, "f");
    write_file(f, "abc", 3);
    int fd = open(f, O_RDONLY);
    char *m = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
    REQUIRE(m != MAP_FAILED);
    EXPECT_ERR("shared_ro_fd_to_write", mprotect(m, PG, PROT_READ | PROT_WRITE), EACCES);
    munmap(m, PG);
    m = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0);
    EXPECT_OK("private_ro_fd_to_write", mprotect(m, PG, PROT_READ | PROT_WRITE));
    m[0] = 'X';
    CHECK("private_written", m[0] == 'X');
    munmap(m, PG);
    close(fd);
    rm_rf(dir);
    return finish();
}
