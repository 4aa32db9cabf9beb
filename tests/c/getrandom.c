// getrandom (raw syscall): requested lengths are returned, two calls
// differ, flags, and errors. No random bytes are printed.
#include "common.h"

#define VT_GRND_NONBLOCK 0x1
#define VT_GRND_RANDOM 0x2
#define VT_GRND_INSECURE 0x4

static long grnd(void *buf, size_t len, unsigned flags)
{
    return syscall(SYS_getrandom, buf, len, flags);
}

int main(void)
{
    unsigned char a[64], b[64];
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    EXPECT_EQ("len_64", grnd(a, sizeof a, 0), 64);
    EXPECT_EQ("len_64_again", grnd(b, sizeof b, 0), 64);
    CHECK("two_calls_differ", memcmp(a, b, sizeof a) != 0);
    int nonzero = 0;
    for (size_t i = 0; i < sizeof a; i++) nonzero += a[i] != 0;
    CHECK("not_all_zero", nonzero > 32);
    EXPECT_EQ("len_1", grnd(a, 1, 0), 1);
    EXPECT_EQ("len_0", grnd(a, 0, 0), 0);
    EXPECT_EQ("nonblock", grnd(a, 16, VT_GRND_NONBLOCK), 16);
    EXPECT_EQ("insecure", grnd(a, 16, VT_GRND_INSECURE), 16);
    EXPECT_EQ("random_small", grnd(a, 16, VT_GRND_RANDOM | VT_GRND_NONBLOCK), 16);

    /* Large requests: up to 33554431 bytes per call; 1 MiB here. */
    static unsigned char big[1 << 20];
    size_t got = 0;
    while (got < sizeof big) {
        long n = grnd(big + got, sizeof big - got, 0);
        if (n <= 0) break;
        got += (size_t)n;
    }
    EXPECT_EQ("big_total", got, sizeof big);
    unsigned long counts[256] = {0};
    for (size_t i = 0; i < sizeof big; i++) counts[big[i]]++;
    int spread = 1;
    for (int i = 0; i < 256; i++) spread &= counts[i] > 3000 && counts[i] < 5200;
    CHECK("big_byte_distribution_uniform", spread);

    /* The libc wrapper (glibc and musl both have it). */
    EXPECT_EQ("libc_getentropy", getentropy(a, 32), 0);

    EXPECT_ERR("bad_flags", grnd(a, 16, 0x100), EINVAL);
    EXPECT_ERR("insecure_and_random", grnd(a, 16, VT_GRND_INSECURE | VT_GRND_RANDOM), EINVAL);
    EXPECT_ERR("efault", grnd(BAD_PTR, 16, 0), EFAULT);

    /* /dev/urandom also differs between reads. */
    int fd = open("/dev/urandom", O_RDONLY);
    EXPECT_EQ("urandom_read", read(fd, a, 32), 32);
    EXPECT_EQ("urandom_read_again", read(fd, b, 32), 32);
    CHECK("urandom_differs", memcmp(a, b, 32) != 0);
    close(fd);
    return finish();
}
