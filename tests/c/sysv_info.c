// System V IPC introspection, the way ipcs(1) does it: IPC_INFO (limits), SHM_INFO/MSG_INFO/
// SEM_INFO (usage) return the highest index in use, and *_STAT walks indexes up to it to find
// every object. Only relations are printed: the host may hold other objects natively.
#include "common.h"
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>

#ifndef SHM_STAT_ANY
#define SHM_STAT_ANY 15
#endif
#ifndef MSG_STAT_ANY
#define MSG_STAT_ANY 13
#endif
#ifndef SEM_STAT_ANY
#define SEM_STAT_ANY 20
#endif

int main(void)
{
    int shm = shmget(IPC_PRIVATE, 8192, IPC_CREAT | 0600);
    int msq = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    int sem = semget(IPC_PRIVATE, 3, IPC_CREAT | 0600);
    REQUIRE(shm >= 0 && msq >= 0 && sem >= 0);
    struct {
        long mtype;
        char text[5];
    } message = {1, "hello"};
    REQUIRE(msgsnd(msq, &message, 5, 0) == 0);

    /* Shared memory. */
    struct shminfo limits;
    int max = shmctl(0, IPC_INFO, (struct shmid_ds *)(void *)&limits);
    CHECK("shm_ipc_info", max >= 0 && limits.shmmni > 0 && limits.shmmin == 1 && limits.shmmax >= 8192);
    struct shm_info usage;
    max = shmctl(0, SHM_INFO, (struct shmid_ds *)(void *)&usage);
    CHECK("shm_info", max >= 0 && usage.used_ids >= 1 && usage.shm_tot >= 2);
    int found = 0;
    for (int i = 0; i <= max; i++) {
        struct shmid_ds ds;
        int id = shmctl(i, SHM_STAT, &ds);
        if (id == shm) found = ds.shm_segsz == 8192 && (ds.shm_perm.mode & 0777) == 0600;
    }
    CHECK("shm_stat_finds_segment", found);
    struct shmid_ds any;
    EXPECT_ERR("shm_stat_bad_index", shmctl(max + 1000, SHM_STAT_ANY, &any), EINVAL);

    /* Message queues. */
    struct msginfo minfo;
    max = msgctl(0, IPC_INFO, (struct msqid_ds *)(void *)&minfo);
    CHECK("msg_ipc_info", max >= 0 && minfo.msgmax > 0 && minfo.msgmnb > 0 && minfo.msgmni > 0);
    max = msgctl(0, MSG_INFO, (struct msqid_ds *)(void *)&minfo);
    CHECK("msg_info", max >= 0 && minfo.msgpool >= 1 && minfo.msgmap >= 1 && minfo.msgtql >= 5);
    found = 0;
    for (int i = 0; i <= max; i++) {
        struct msqid_ds ds;
        int id = msgctl(i, MSG_STAT, &ds);
        if (id == msq) found = ds.msg_qnum == 1 && ds.msg_cbytes == 5;
    }
    CHECK("msg_stat_finds_queue", found);

    /* Semaphore sets. */
    struct seminfo sinfo;
    union {
        int val;
        struct semid_ds *buf;
        unsigned short *array;
        struct seminfo *info;
    } arg;
    arg.info = &sinfo;
    max = semctl(0, 0, IPC_INFO, arg);
    CHECK("sem_ipc_info", max >= 0 && sinfo.semmsl > 0 && sinfo.semopm > 0 && sinfo.semvmx == 32767);
    max = semctl(0, 0, SEM_INFO, arg);
    CHECK("sem_info", max >= 0 && sinfo.semusz >= 1 && sinfo.semaem >= 3);
    found = 0;
    for (int i = 0; i <= max; i++) {
        struct semid_ds ds;
        arg.buf = &ds;
        int id = semctl(i, 0, SEM_STAT, arg);
        if (id == sem) found = ds.sem_nsems == 3;
    }
    CHECK("sem_stat_finds_set", found);

    shmctl(shm, IPC_RMID, NULL);
    msgctl(msq, IPC_RMID, NULL);
    semctl(sem, 0, IPC_RMID);
    return finish();
}
