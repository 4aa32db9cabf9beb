// System V shared memory and semaphores between processes: 8 forked workers increment
// counters in a SysV segment and in a MAP_SHARED anonymous mapping under a SysV semaphore
// (SEM_UNDO), segment and semaphore bookkeeping (IPC_STAT, GETVAL, GETPID-free checks),
// SEM_UNDO rolled back at exit, IPC_NOWAIT and timeouts, and the errors.
#include "common.h"
#include <sched.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>

#define WORKERS 8
#define ROUNDS 500

static int sem_change(int id, short delta, short flags)
{
    struct sembuf op = {0, delta, flags};
    return semop(id, &op, 1);
}

int main(void)
{
    int sem = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
    CHECK("semget", sem >= 0);
    EXPECT_OK("setval", semctl(sem, 0, SETVAL, 1));
    EXPECT_EQ("getval", semctl(sem, 0, GETVAL), 1);

    int shm = shmget(IPC_PRIVATE, 10000, IPC_CREAT | 0600);
    CHECK("shmget", shm >= 0);
    volatile long *seg = shmat(shm, NULL, 0);
    CHECK("shmat", seg != (void *)-1);
    CHECK("segment_zeroed", seg[0] == 0 && seg[1249] == 0);
    volatile long *anon = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK("mmap_shared_anon", anon != MAP_FAILED);

    for (int w = 0; w < WORKERS; w++) {
        pid_t p = fork();
        REQUIRE(p >= 0);
        if (p == 0) {
            for (int i = 0; i < ROUNDS; i++) {
                if (sem_change(sem, -1, SEM_UNDO) != 0) _exit(2);
                long s = seg[0], a = anon[0];
                if (i % 64 == 0) sched_yield();
                seg[0] = s + 1;
                anon[0] = a + 1;
                if (sem_change(sem, 1, SEM_UNDO) != 0) _exit(3);
            }
            _exit(0);
        }
    }
    int all_ok = 1;
    for (int w = 0; w < WORKERS; w++) {
        int st;
        if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) all_ok = 0;
    }
    CHECK("workers_ok", all_ok);
    EXPECT_EQ("segment_counter", seg[0], WORKERS * ROUNDS);
    EXPECT_EQ("anon_counter", anon[0], WORKERS * ROUNDS);
    EXPECT_EQ("sem_back_to_one", semctl(sem, 0, GETVAL), 1);

    struct shmid_ds ds;
    EXPECT_OK("shm_stat", shmctl(shm, IPC_STAT, &ds));
    EXPECT_EQ("shm_segsz", ds.shm_segsz, 10000);
    EXPECT_EQ("shm_nattch", ds.shm_nattch, 1);
    EXPECT_MODE("shm_mode", ds.shm_perm.mode & 0777, 0600);

    /* A second attachment sees the same bytes. */
    volatile long *again = shmat(shm, NULL, SHM_RDONLY);
    CHECK("second_attach_same_data", again != (void *)-1 && again[0] == WORKERS * ROUNDS);
    EXPECT_OK("shm_stat_2", shmctl(shm, IPC_STAT, &ds));
    EXPECT_EQ("shm_nattch_2", ds.shm_nattch, 2);
    EXPECT_OK("shmdt_second", shmdt((const void *)again));
    EXPECT_ERR("shmdt_not_attached", shmdt((const void *)again), EINVAL);

    /* SEM_UNDO: a process that ends holding the semaphore gives it back. */
    pid_t holder = fork();
    REQUIRE(holder >= 0);
    if (holder == 0) {
        sem_change(sem, -1, SEM_UNDO);
        _exit(0);
    }
    waitpid(holder, NULL, 0);
    EXPECT_EQ("undo_at_exit", semctl(sem, 0, GETVAL), 1);

    /* Without undo the decrement stays; then IPC_NOWAIT and a timeout fail with EAGAIN. */
    EXPECT_OK("take", sem_change(sem, -1, 0));
    EXPECT_ERR("nowait_eagain", sem_change(sem, -1, IPC_NOWAIT), EAGAIN);
    struct sembuf op = {0, -1, 0};
    struct timespec ts = {0, 20 * 1000 * 1000};
    EXPECT_ERR("timedop_eagain", semtimedop(sem, &op, 1, &ts), EAGAIN);
    EXPECT_OK("give", sem_change(sem, 1, 0));

    /* A waiter in another process is woken by a post. */
    pid_t waiter = fork();
    REQUIRE(waiter >= 0);
    if (waiter == 0) {
        struct sembuf w = {0, -2, 0};
        _exit(semop(sem, &w, 1) == 0 ? 0 : 1);
    }
    while (semctl(sem, 0, GETNCNT) != 1) sched_yield();
    EXPECT_EQ("ncnt_one", semctl(sem, 0, GETNCNT), 1);
    EXPECT_OK("post", sem_change(sem, 1, 0));
    int st;
    waitpid(waiter, &st, 0);
    CHECK("waiter_got_it", WIFEXITED(st) && WEXITSTATUS(st) == 0);
    EXPECT_EQ("after_waiter", semctl(sem, 0, GETVAL), 0);

    /* Sets of several semaphores and SETALL/GETALL. */
    int set = semget(IPC_PRIVATE, 3, IPC_CREAT | 0600);
    unsigned short vals[3] = {1, 2, 3}, got[3] = {0};
    EXPECT_OK("setall", semctl(set, 0, SETALL, vals));
    EXPECT_OK("getall", semctl(set, 0, GETALL, got));
    CHECK("getall_values", got[0] == 1 && got[1] == 2 && got[2] == 3);
    struct sembuf two[2] = {{0, -1, IPC_NOWAIT}, {2, -4, IPC_NOWAIT}};
    EXPECT_ERR("all_or_nothing", semop(set, two, 2), EAGAIN);
    EXPECT_EQ("first_untouched", semctl(set, 0, GETVAL), 1);
    struct sembuf bad = {3, 1, 0};
    EXPECT_ERR("semnum_range", semop(set, &bad, 1), EFBIG);
    EXPECT_ERR("setval_range", semctl(set, 0, SETVAL, 40000), ERANGE);
    struct semid_ds sds;
    EXPECT_OK("sem_stat", semctl(set, 0, IPC_STAT, &sds));
    EXPECT_EQ("sem_nsems", sds.sem_nsems, 3);
    EXPECT_OK("sem_rmid", semctl(set, 0, IPC_RMID));
    EXPECT_ERR("sem_gone", semctl(set, 0, GETVAL), EINVAL);

    /* Keys: IPC_EXCL on an existing key, lookups, size checks. */
    key_t key = 0x7e110000 | (getpid() & 0xffff);
    int k1 = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600);
    CHECK("shm_key_create", k1 >= 0);
    EXPECT_ERR("shm_key_excl", shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600), EEXIST);
    CHECK("shm_key_lookup", shmget(key, 100, 0) == k1);
    EXPECT_ERR("shm_key_too_big", shmget(key, 8192, 0), EINVAL);
    EXPECT_OK("shm_key_rmid", shmctl(k1, IPC_RMID, NULL));
    EXPECT_ERR("shm_key_gone", shmget(key, 4096, 0), ENOENT);
    EXPECT_ERR("shm_size_zero", shmget(IPC_PRIVATE, 0, IPC_CREAT | 0600), EINVAL);
    EXPECT_ERR("shmat_bad_id", (long)shmat(0x7fffff00, NULL, 0), EINVAL);
    EXPECT_ERR("semget_missing", semget(key, 1, 0), ENOENT);

    /* Removal with attachments: the id goes, the memory stays until detached. */
    EXPECT_OK("shm_rmid_attached", shmctl(shm, IPC_RMID, NULL));
    seg[1] = 42;
    CHECK("still_usable", seg[1] == 42);
    EXPECT_OK("shmdt", shmdt((const void *)seg));
    EXPECT_OK("sem_rmid_main", semctl(sem, 0, IPC_RMID));
    return finish();
}
