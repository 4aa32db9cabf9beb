// POSIX shared memory and semaphores between processes: shm_open + ftruncate + mmap
// MAP_SHARED in a producer and a consumer (forked), synchronised by process-shared unnamed
// semaphores living in the shared object, and a named semaphore (sem_open) used as a lock.
#include "common.h"
#include <sched.h>
#include <semaphore.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define ITEMS 2000
#define SLOTS 16

struct ring {
    sem_t free_slots, used_slots;
    int data[SLOTS];
    long total;
};

int main(void)
{
    char name[64];
    snprintf(name, sizeof name, "/vt_posix_shm_%d", (int)getpid() & 0xffff);
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    CHECK("shm_open", fd >= 0);
    EXPECT_OK("ftruncate", ftruncate(fd, sizeof(struct ring)));
    struct ring *r = mmap(NULL, sizeof *r, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK("mmap", r != MAP_FAILED);
    EXPECT_OK("sem_init_free", sem_init(&r->free_slots, 1, SLOTS));
    EXPECT_OK("sem_init_used", sem_init(&r->used_slots, 1, 0));

    pid_t consumer = fork();
    REQUIRE(consumer >= 0);
    if (consumer == 0) {
        /* The consumer maps the object again, by name, at its own address. */
        int cfd = shm_open(name, O_RDWR, 0);
        struct ring *c = mmap(NULL, sizeof *c, PROT_READ | PROT_WRITE, MAP_SHARED, cfd, 0);
        if (c == MAP_FAILED) _exit(2);
        long sum = 0;
        for (int i = 0; i < ITEMS; i++) {
            sem_wait(&c->used_slots);
            sum += c->data[i % SLOTS];
            sem_post(&c->free_slots);
        }
        c->total = sum;
        _exit(0);
    }
    long expected = 0;
    for (int i = 0; i < ITEMS; i++) {
        sem_wait(&r->free_slots);
        r->data[i % SLOTS] = i * 3;
        expected += i * 3;
        sem_post(&r->used_slots);
    }
    int st;
    waitpid(consumer, &st, 0);
    CHECK("consumer_ok", WIFEXITED(st) && WEXITSTATUS(st) == 0);
    EXPECT_EQ("sum_matches", r->total, expected);

    /* The file's contents are the mapping's. */
    long total = 0;
    EXPECT_EQ("pread_total", pread(fd, &total, sizeof total, offsetof(struct ring, total)), (long)sizeof total);
    EXPECT_EQ("pread_sees_store", total, expected);

    /* A named semaphore as a lock between processes. */
    char sname[64];
    snprintf(sname, sizeof sname, "/vt_sem_%d", (int)getpid() & 0xffff);
    sem_t *lock = sem_open(sname, O_CREAT | O_EXCL, 0600, 1);
    CHECK("sem_open", lock != SEM_FAILED);
    r->total = 0;
    for (int w = 0; w < 4; w++) {
        if (fork() == 0) {
            sem_t *l = sem_open(sname, 0);
            for (int i = 0; i < 300; i++) {
                sem_wait(l);
                long v = r->total;
                sched_yield();
                r->total = v + 1;
                sem_post(l);
            }
            _exit(0);
        }
    }
    for (int w = 0; w < 4; w++) wait(NULL);
    EXPECT_EQ("locked_counter", r->total, 1200);
    EXPECT_OK("sem_close", sem_close(lock));
    EXPECT_OK("sem_unlink", sem_unlink(sname));
    EXPECT_OK("shm_unlink", shm_unlink(name));
    EXPECT_ERR("shm_gone", shm_open(name, O_RDWR, 0), ENOENT);
    return finish();
}
