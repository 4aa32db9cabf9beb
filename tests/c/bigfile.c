// Big file: write 8 MiB of deterministic pseudo-random data in uneven
// chunks, read it back in other chunk sizes, compare checksums, and read
// a few ranges at random offsets.
#include "common.h"

#define SIZE (8u << 20)

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* Byte i of the file (xorshift of the position: reproducible anywhere). */
static unsigned char byte_at(uint64_t i)
{
    uint64_t x = i * 0x9e3779b97f4a7c15ULL + 12345;
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    return (unsigned char)x;
}

int main(void)
{
    const char *dir = scratch_dir("bigfile");
    DEF_PATH(f, dir, "big");
    int fd = open(f, O_RDWR | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);

    static unsigned char buf[1 << 20];
    const size_t chunks[] = {65536, 4097, 1, 131072, 12345, 1 << 20, 511};
    uint64_t h_write = 1469598103934665603ULL;
    size_t pos = 0, ci = 0;
    int write_ok = 1;
    while (pos < SIZE) {
        size_t n = chunks[ci++ % (sizeof chunks / sizeof chunks[0])];
        if (n > SIZE - pos) n = SIZE - pos;
        for (size_t i = 0; i < n; i++) buf[i] = byte_at(pos + i);
        h_write = fnv1a(h_write, buf, n);
        size_t done = 0;
        while (done < n) {
            ssize_t w = write(fd, buf + done, n - done);
            if (w <= 0) {
                write_ok = 0;
                break;
            }
            done += (size_t)w;
        }
        if (!write_ok) break;
        pos += n;
    }
    CHECK("write_all", write_ok && pos == SIZE);
    EXPECT_OK("fsync", fsync(fd));
    struct stat st;
    fstat(fd, &st);
    EXPECT_EQ("size", st.st_size, SIZE);
    CHECK("blocks_cover_size", (long long)st.st_blocks * 512 >= SIZE);

    /* Read back sequentially in 48 KiB chunks. */
    lseek(fd, 0, SEEK_SET);
    uint64_t h_read = 1469598103934665603ULL;
    size_t total = 0;
    for (;;) {
        ssize_t r = read(fd, buf, 49152);
        if (r <= 0) break;
        h_read = fnv1a(h_read, buf, (size_t)r);
        total += (size_t)r;
    }
    EXPECT_EQ("read_total", total, SIZE);
    CHECK("checksum_match", h_read == h_write);
    printf("checksum: %016llx\n", (unsigned long long)h_read);

    /* Positional reads at assorted offsets. */
    const size_t offs[] = {0, 1, 4095, 4096, 65537, SIZE / 2 - 3, SIZE - 100};
    int pread_ok = 1;
    for (size_t k = 0; k < sizeof offs / sizeof offs[0]; k++) {
        unsigned char small[100];
        ssize_t r = pread(fd, small, sizeof small, (off_t)offs[k]);
        pread_ok &= r == 100;
        for (ssize_t i = 0; i < r; i++) pread_ok &= small[i] == byte_at(offs[k] + (size_t)i);
    }
    CHECK("pread_ranges", pread_ok);
    EXPECT_EQ("pread_at_end", pread(fd, buf, 100, SIZE - 10), 10);
    close(fd);

    /* Reading through a fresh descriptor in one large read. */
    fd = open(f, O_RDONLY);
    static unsigned char all[SIZE];
    total = 0;
    for (;;) {
        ssize_t r = read(fd, all + total, SIZE - total);
        if (r <= 0) break;
        total += (size_t)r;
    }
    EXPECT_EQ("big_read_total", total, SIZE);
    CHECK("big_read_checksum", fnv1a(1469598103934665603ULL, all, total) == h_write);
    close(fd);

    rm_rf(dir);
    return finish();
}
