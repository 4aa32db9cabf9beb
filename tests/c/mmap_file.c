// File-backed MAP_PRIVATE mappings: contents match the file, private
// writes are invisible in the file, offsets, EOF tail zeroing, closing the
// fd, /dev/zero, and errors.
#include "common.h"
#include <sys/mman.h>

#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif

#define PG 4096UL

int main(void)
{
    const char *dir = scratch_dir("mmap_file");
    DEF_PATH(f, dir, "f");
    /* Three pages plus 100 bytes of a known pattern. */
    size_t size = 3 * PG + 100;
    static char data[3 * 4096 + 100];
    for (size_t i = 0; i < size; i++) data[i] = (char)('A' + (i % 26) + (i / PG));
    write_file(f, data, size);
    int fd = open(f, O_RDONLY);
    REQUIRE(fd >= 0);

    char *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK("map_private", p != MAP_FAILED);
    CHECK("contents_match", memcmp(p, data, size) == 0);
    /* The rest of the last page reads as zeros. */
    int tail_zero = 1;
    for (size_t i = size; i < 4 * PG; i++) tail_zero &= p[i] == 0;
    CHECK("eof_tail_zero", tail_zero);
    munmap(p, size);

    /* A page-aligned offset maps the right part. */
    p = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 2 * PG);
    CHECK("offset_map", p != MAP_FAILED && memcmp(p, data + 2 * PG, PG) == 0);
    munmap(p, PG);

    /* Private writable mapping of a read-only fd: writes stay private. */
    p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK("map_private_rw", p != MAP_FAILED);
    memcpy(p, "PRIVATE", 7);
    p[PG + 5] = '#';
    CHECK("private_write_visible_in_map", memcmp(p, "PRIVATE", 7) == 0 && p[PG + 5] == '#');
    char buf[16] = {0};
    pread(fd, buf, 7, 0);
    CHECK("private_write_not_in_file", memcmp(buf, data, 7) == 0);
    /* A second private mapping does not see the first one's writes. */
    char *p2 = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK("other_mapping_unaffected", p2 != MAP_FAILED && memcmp(p2, data, 7) == 0);
    munmap(p2, PG);

    /* The mapping outlives the descriptor. */
    close(fd);
    CHECK("survives_close", p[PG + 5] == '#' && memcmp(p + 2 * PG, data + 2 * PG, PG) == 0);
    munmap(p, size);
    struct stat st;
    stat(f, &st);
    EXPECT_EQ("file_size_unchanged", st.st_size, (long)size);

    /* /dev/zero private mappings are zero pages. */
    int z = open("/dev/zero", O_RDWR);
    char *zp = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, z, 0);
    CHECK("devzero_map", zp != MAP_FAILED && zp[0] == 0 && zp[2 * PG - 1] == 0);
    zp[10] = 1;
    CHECK("devzero_writable", zp[10] == 1);
    munmap(zp, 2 * PG);
    close(z);

    /* Errors. */
    fd = open(f, O_RDONLY);
    EXPECT_ERR("unaligned_offset", mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 100), EINVAL);
    EXPECT_ERR("shared_write_on_rdonly", mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), EACCES);
    EXPECT_ERR("shared_validate_unknown_flag",
               mmap(NULL, PG, PROT_READ, MAP_SHARED_VALIDATE | 0x800000, fd, 0), EOPNOTSUPP);
    close(fd);
    int wo = open(f, O_WRONLY);
    EXPECT_ERR("write_only_fd", mmap(NULL, PG, PROT_READ, MAP_PRIVATE, wo, 0), EACCES);
    close(wo);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    EXPECT_ERR("directory", mmap(NULL, PG, PROT_READ, MAP_PRIVATE, dfd, 0), ENODEV);
    close(dfd);
    int pfd = open(f, O_PATH);
    EXPECT_ERR("opath_fd", mmap(NULL, PG, PROT_READ, MAP_PRIVATE, pfd, 0), EBADF);
    close(pfd);
    EXPECT_ERR("closed_fd", mmap(NULL, PG, PROT_READ, MAP_PRIVATE, 77, 0), EBADF);

    rm_rf(dir);
    return finish();
}
