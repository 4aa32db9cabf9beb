// Several writer threads share one pipe: every write of PIPE_BUF bytes arrives whole (never
// interleaved with another writer's bytes), and each writer's records arrive in order.
#include "common.h"
#include <limits.h>
#include <pthread.h>

#define WRITERS 4
#define RECORDS 300

static int fds[2];

static void *writer(void *arg)
{
    int id = (int)(long)arg;
    static __thread unsigned char rec[PIPE_BUF];
    for (int seq = 0; seq < RECORDS; seq++) {
        memset(rec, 'a' + id, sizeof rec);
        memcpy(rec, &seq, sizeof seq);
        if (write(fds[1], rec, sizeof rec) != (ssize_t)sizeof rec) return (void *)1;
    }
    return NULL;
}

int main(void)
{
    REQUIRE(pipe(fds) == 0);
    pthread_t t[WRITERS];
    for (long i = 0; i < WRITERS; i++) REQUIRE(pthread_create(&t[i], NULL, writer, (void *)i) == 0);
    int next[WRITERS] = {0};
    int torn = 0, out_of_order = 0, records = 0;
    static unsigned char rec[PIPE_BUF];
    while (records < WRITERS * RECORDS) {
        size_t have = 0;
        while (have < sizeof rec) {
            ssize_t n = read(fds[0], rec + have, sizeof rec - have);
            REQUIRE(n > 0);
            have += (size_t)n;
        }
        int id = rec[sizeof rec - 1] - 'a';
        int seq;
        memcpy(&seq, rec, sizeof seq);
        for (size_t i = sizeof seq; i < sizeof rec; i++) {
            if (rec[i] != rec[sizeof rec - 1]) {
                torn++;
                break;
            }
        }
        if (id < 0 || id >= WRITERS || seq != next[id]++) out_of_order++;
        records++;
    }
    for (int i = 0; i < WRITERS; i++) {
        void *ret;
        pthread_join(t[i], &ret);
        CHECK("writer_ok", ret == NULL);
    }
    EXPECT_EQ("records", records, WRITERS * RECORDS);
    EXPECT_EQ("torn_records", torn, 0);
    EXPECT_EQ("out_of_order", out_of_order, 0);
    return finish();
}
