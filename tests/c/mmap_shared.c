// File-backed MAP_SHARED mappings: stores reach the file (msync, munmap),
// write() is visible in the mapping, two mappings of one file are
// coherent, and ftruncate-extended files can be mapped.
#include "common.h"
#include <sys/mman.h>

#define PG 4096UL

int main(void)
{
    const char *dir = scratch_dir("mmap_shared");
    DEF_PATH(f, dir, "f");
    int fd = open(f, O_RDWR | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(ftruncate(fd, 2 * PG) == 0);

    char *p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK("map_shared", p != MAP_FAILED);
    CHECK("initially_zero", p[0] == 0 && p[2 * PG - 1] == 0);

    /* Stores through the mapping reach the file. */
    memcpy(p, "shared!", 7);
    memcpy(p + PG, "page2", 5);
    EXPECT_OK("msync_sync", msync(p, 2 * PG, MS_SYNC));
    char buf[16] = {0};
    EXPECT_EQ("pread_after_msync", pread(fd, buf, 7, 0), 7);
    EXPECT_STR("file_sees_store", buf, "shared!");
    memset(buf, 0, sizeof buf);
    pread(fd, buf, 5, PG);
    EXPECT_STR("file_sees_store_page2", buf, "page2");

    /* write() is visible through the mapping. */
    EXPECT_EQ("pwrite", pwrite(fd, "WRITE", 5, 100), 5);
    CHECK("map_sees_write", memcmp(p + 100, "WRITE", 5) == 0);

    /* Two shared mappings of the same file are coherent. */
    char *q = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK("second_map", q != MAP_FAILED);
    q[200] = 'Q';
    CHECK("coherent_q_to_p", p[200] == 'Q');
    p[201] = 'P';
    CHECK("coherent_p_to_q", q[201] == 'P');
    munmap(q, PG);

    /* Stores are kept after munmap and close, without msync. */
    p[300] = 'Z';
    EXPECT_OK("munmap", munmap(p, 2 * PG));
    close(fd);
    fd = open(f, O_RDONLY);
    char c = 0;
    pread(fd, &c, 1, 300);
    printf("byte_after_munmap: %c\n", c);
    struct stat st;
    fstat(fd, &st);
    EXPECT_EQ("size_unchanged", st.st_size, (long)(2 * PG));
    close(fd);

    /* MS_ASYNC and MS_INVALIDATE are accepted. */
    fd = open(f, O_RDWR);
    p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    p[0] = 'a';
    EXPECT_OK("msync_async", msync(p, PG, MS_ASYNC));
    EXPECT_OK("msync_invalidate", msync(p, PG, MS_INVALIDATE));
    EXPECT_ERR("msync_sync_and_async", msync(p, PG, MS_SYNC | MS_ASYNC), EINVAL);
    munmap(p, PG);
    close(fd);
    char all[8] = {0};
    read_file(f, all, sizeof all);
    EXPECT_STR("final_prefix", all, "ahared!");

    rm_rf(dir);
    return finish();
}
