// System V message queues: typed messages and msgrcv's type selection (first, exact,
// MSG_EXCEPT, lowest up to |type|), truncation rules (E2BIG, MSG_NOERROR), IPC_NOWAIT, a
// receiver in another process woken by a send, IPC_STAT counters and removal.
#include "common.h"
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/wait.h>

struct msg {
    long type;
    char text[64];
};

static int send(int q, long type, const char *text)
{
    struct msg m = {type, {0}};
    strcpy(m.text, text);
    return msgsnd(q, &m, strlen(text) + 1, IPC_NOWAIT);
}

static void receive(int q, const char *label, long type, int flags)
{
    struct msg m = {0, {0}};
    long n = msgrcv(q, &m, sizeof m.text, type, flags | IPC_NOWAIT);
    if (n < 0)
        printf("%s: %s\n", label, errname(errno));
    else
        printf("%s: type %ld \"%s\" (%ld bytes)\n", label, m.type, m.text, n);
}

int main(void)
{
    int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    CHECK("msgget", q >= 0);
    EXPECT_OK("send_a", send(q, 5, "five"));
    EXPECT_OK("send_b", send(q, 2, "two"));
    EXPECT_OK("send_c", send(q, 9, "nine"));
    EXPECT_OK("send_d", send(q, 2, "two again"));
    EXPECT_ERR("send_type_zero", send(q, 0, "bad"), EINVAL);

    struct msqid_ds ds;
    EXPECT_OK("stat", msgctl(q, IPC_STAT, &ds));
    EXPECT_EQ("qnum", ds.msg_qnum, 4);
    EXPECT_EQ("cbytes", ds.msg_cbytes, 5 + 4 + 5 + 10);
    EXPECT_EQ("qbytes", ds.msg_qbytes, 16384);

    receive(q, "exact_2", 2, 0);
    receive(q, "except_5", 5, MSG_EXCEPT);
    receive(q, "lowest_le_6", -6, 0);
    receive(q, "first", 0, 0);
    receive(q, "empty", 0, 0);

    /* Too long for the buffer: E2BIG leaves it queued, MSG_NOERROR truncates. */
    EXPECT_OK("send_long", send(q, 1, "a rather long message"));
    struct msg m;
    EXPECT_ERR("e2big", msgrcv(q, &m, 4, 0, IPC_NOWAIT), E2BIG);
    memset(&m, 0, sizeof m);
    EXPECT_EQ("noerror_truncates", msgrcv(q, &m, 4, 0, IPC_NOWAIT | MSG_NOERROR), 4);
    CHECK("truncated_text", memcmp(m.text, "a ra", 4) == 0);

    /* A blocked receiver in a child is woken by the parent's send. */
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        struct msg in;
        long n = msgrcv(q, &in, sizeof in.text, 7, 0);
        _exit(n == 6 && strcmp(in.text, "hello") == 0 ? 0 : 1);
    }
    usleep(50 * 1000);
    EXPECT_OK("send_to_child", send(q, 7, "hello"));
    int st;
    waitpid(child, &st, 0);
    CHECK("child_received", WIFEXITED(st) && WEXITSTATUS(st) == 0);

    EXPECT_OK("rmid", msgctl(q, IPC_RMID, NULL));
    EXPECT_ERR("gone", send(q, 1, "x"), EINVAL);
    EXPECT_ERR("msgget_missing", msgget(0x7e120000 | (getpid() & 0xffff), 0), ENOENT);
    return finish();
}
