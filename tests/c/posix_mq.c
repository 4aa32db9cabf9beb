// POSIX message queues: mq_open name and attribute rules, mq_getattr/mq_setattr (O_NONBLOCK
// only), priority order (highest first, FIFO within a priority), size/full/empty errors,
// absolute timeouts, blocking receive and send across processes (by name and through an
// inherited descriptor), mq_notify with SIGEV_SIGNAL (EBUSY, SI_MESGQ, one shot, only on an
// empty queue, dropped when the owner closes), poll/select on a queue, mq_unlink, access mode 3
// and messages handed straight to a waiting receiver.
// Name checks use the raw syscall where the libcs differ: glibc rejects a name without a
// leading '/' itself (EINVAL) while musl strips an optional '/' and passes anything on; the
// kernel takes the name without the slash and refuses any '/' in it (EACCES).
#include "common.h"
#include <mqueue.h>
#include <poll.h>
#include <signal.h>
#include <sys/select.h>
#include <time.h>

#define PFX "/veil_mq_test_"
static const char *const names[] = {PFX "a", PFX "b", PFX "d", PFX "h", PFX "n", PFX "p", PFX "r"};

static mqd_t create(const char *name, int flags, long maxmsg, long msgsize)
{
    struct mq_attr a = {.mq_maxmsg = maxmsg, .mq_msgsize = msgsize};
    return mq_open(name, flags | O_CREAT | O_EXCL, 0600, &a);
}

/* Print `label: flags F maxmsg M msgsize S curmsgs C` (flags 0 or O_NONBLOCK) and compare. */
static void expect_attr(const char *label, mqd_t q, long flags, long maxmsg, long msgsize, long cur)
{
    struct mq_attr a = {.mq_flags = -1};
    if (mq_getattr(q, &a) != 0) printf("%s: %s\n", label, errname(errno));
    else printf("%s: flags %s maxmsg %ld msgsize %ld curmsgs %ld\n", label,
                a.mq_flags == O_NONBLOCK ? "O_NONBLOCK" : a.mq_flags ? "other" : "0", a.mq_maxmsg,
                a.mq_msgsize, a.mq_curmsgs);
    if (a.mq_flags != flags || a.mq_maxmsg != maxmsg || a.mq_msgsize != msgsize || a.mq_curmsgs != cur)
        check_failed();
}

static long curmsgs(mqd_t q)
{
    struct mq_attr a = {.mq_curmsgs = -1};
    mq_getattr(q, &a);
    return a.mq_curmsgs;
}

static struct timespec realtime_in(long ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += ms * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    return ts;
}

/* Receive one message (waiting at most 5 s) and print `label: prio P "text" (N bytes)` or the
 * errno name. */
static void receive(mqd_t q, const char *label)
{
    char buf[8192 + 1] = {0};
    unsigned prio = 999;
    struct timespec deadline = realtime_in(5000);
    ssize_t n = mq_timedreceive(q, buf, sizeof buf - 1, &prio, &deadline);
    if (n < 0) printf("%s: %s\n", label, errname(errno));
    else printf("%s: prio %u \"%s\" (%zd bytes)\n", label, prio, buf, n);
}

static long ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static void test_open(void)
{
    mqd_t q = create(PFX "a", O_RDWR, 4, 64);
    CHECK("open_create_excl", q >= 0);
    expect_attr("attr", q, 0, 4, 64, 0);
    EXPECT_ERR("open_excl_again", create(PFX "a", O_RDWR, 4, 64), EEXIST);
    struct mq_attr big = {.mq_maxmsg = 8, .mq_msgsize = 128};
    mqd_t q2 = mq_open(PFX "a", O_RDWR | O_CREAT, 0600, &big);
    CHECK("open_creat_existing", q2 >= 0 && q2 != q);
    expect_attr("existing_attr_kept", q2, 0, 4, 64, 0);
    mq_close(q2);
    EXPECT_ERR("open_missing", mq_open(PFX "missing", O_RDWR), ENOENT);
    EXPECT_ERR("maxmsg_zero", create(PFX "b", O_RDWR, 0, 64), EINVAL);
    EXPECT_ERR("msgsize_zero", create(PFX "b", O_RDWR, 4, 0), EINVAL);
    EXPECT_ERR("maxmsg_negative", create(PFX "b", O_RDWR, -1, 64), EINVAL);
    EXPECT_ERR("msgsize_negative", create(PFX "b", O_RDWR, 4, -1), EINVAL);
    mqd_t d = mq_open(PFX "d", O_RDWR | O_CREAT | O_EXCL, 0600, NULL);
    expect_attr("default_attr", d, 0, 10, 8192, 0);
    mq_close(d);
    EXPECT_OK("unlink_default", mq_unlink(PFX "d"));

    /* Names. */
    EXPECT_ERR("name_two_slashes", mq_open("/veil_mq_test/x", O_RDWR | O_CREAT, 0600, NULL), EACCES);
    EXPECT_ERR("name_slash_only", mq_open("/", O_RDWR | O_CREAT, 0600, NULL), ENOENT);
    EXPECT_ERR("name_dot", mq_open("/.", O_RDWR | O_CREAT, 0600, NULL), EACCES);
    EXPECT_ERR("name_dotdot", mq_open("/..", O_RDWR | O_CREAT, 0600, NULL), EACCES);
    char name[300] = "/";
    memset(name + 1, 'm', 255);
    mqd_t l = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, NULL);
    CHECK("name_255_chars", l >= 0);
    mq_close(l);
    EXPECT_OK("unlink_255_chars", mq_unlink(name));
    strcat(name, "m");
    EXPECT_ERR("name_256_chars", mq_open(name, O_RDWR | O_CREAT, 0600, NULL), ENAMETOOLONG);
    EXPECT_ERR("unlink_256_chars", mq_unlink(name), ENAMETOOLONG);
    long raw = syscall(SYS_mq_open, PFX "a" + 1, O_RDWR, 0, NULL);
    expect_attr("raw_name_without_slash_is_same_queue", (mqd_t)raw, 0, 4, 64, 0);
    close((int)raw);
    EXPECT_ERR("raw_name_with_slash", syscall(SYS_mq_open, PFX "a", O_RDWR, 0, NULL), EACCES);
    EXPECT_ERR("raw_name_empty", syscall(SYS_mq_open, "", O_RDWR | O_CREAT, 0600, NULL), ENOENT);
    EXPECT_ERR("raw_unlink_with_slash", syscall(SYS_mq_unlink, PFX "a"), EACCES);
    mq_close(q);
}

static void test_setattr_and_priority(void)
{
    mqd_t q = mq_open(PFX "a", O_RDWR);
    struct mq_attr set = {.mq_flags = O_NONBLOCK, .mq_maxmsg = 99, .mq_msgsize = 99}, old;
    EXPECT_OK("setattr_nonblock", mq_setattr(q, &set, &old));
    CHECK("setattr_old_attr", old.mq_flags == 0 && old.mq_maxmsg == 4 && old.mq_msgsize == 64);
    expect_attr("setattr_only_flags", q, O_NONBLOCK, 4, 64, 0);
    CHECK("fcntl_sees_nonblock", (fcntl(q, F_GETFL) & O_NONBLOCK) != 0);
    set.mq_flags = 0;
    EXPECT_OK("setattr_blocking", mq_setattr(q, &set, &old));
    CHECK("setattr_old_nonblock", old.mq_flags == O_NONBLOCK);
    set.mq_flags = O_NONBLOCK | O_APPEND;
    EXPECT_ERR("setattr_other_flag", mq_setattr(q, &set, NULL), EINVAL);

    EXPECT_OK("send_p1", mq_send(q, "one", 3, 1));
    EXPECT_OK("send_p5a", mq_send(q, "five-a", 6, 5));
    EXPECT_OK("send_p3", mq_send(q, "three", 5, 3));
    EXPECT_OK("send_p5b", mq_send(q, "five-b", 6, 5));
    expect_attr("attr_after_sends", q, 0, 4, 64, 4);
    EXPECT_ERR("send_prio_max", mq_send(q, "x", 1, 32768), EINVAL);
    receive(q, "recv_1"); /* highest priority first, FIFO among equals */
    receive(q, "recv_2");
    receive(q, "recv_3");
    receive(q, "recv_4");
    EXPECT_OK("send_empty_msg", mq_send(q, "", 0, 7));
    receive(q, "recv_empty_msg");
    mq_close(q);
}

static void test_errors(void)
{
    mqd_t q = mq_open(PFX "a", O_RDWR | O_NONBLOCK);
    char buf[128] = "";
    EXPECT_ERR("send_too_long", mq_send(q, buf, 65, 0), EMSGSIZE);
    EXPECT_OK("send_msgsize", mq_send(q, buf, 64, 0));
    EXPECT_ERR("recv_buffer_short", mq_receive(q, buf, 63, NULL), EMSGSIZE);
    EXPECT_EQ("short_recv_keeps_msg", curmsgs(q), 1);
    for (int i = 0; i < 3; i++) mq_send(q, "fill", 4, 0);
    EXPECT_ERR("send_full_nonblock", mq_send(q, "x", 1, 0), EAGAIN);
    struct timespec later = realtime_in(1000);
    EXPECT_ERR("timedsend_full_nonblock", mq_timedsend(q, "x", 1, 0, &later), EAGAIN);
    for (int i = 0; i < 4; i++) mq_receive(q, buf, 64, NULL);
    EXPECT_ERR("recv_empty_nonblock", mq_receive(q, buf, 64, NULL), EAGAIN);

    struct mq_attr blocking = {0};
    mq_setattr(q, &blocking, NULL);
    struct timespec t0, deadline = realtime_in(50);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    EXPECT_ERR("timedrecv_timeout", mq_timedreceive(q, buf, 64, NULL, &deadline), ETIMEDOUT);
    CHECK("timedrecv_waited_40ms", ms_since(&t0) >= 40);
    struct timespec past = {1, 0};
    EXPECT_ERR("timedrecv_past_deadline", mq_timedreceive(q, buf, 64, NULL, &past), ETIMEDOUT);
    struct timespec bad = {0, 1000000000L}, neg = {0, -1};
    EXPECT_ERR("timedrecv_bad_nsec", mq_timedreceive(q, buf, 64, NULL, &bad), EINVAL);
    EXPECT_ERR("timedrecv_negative_nsec", mq_timedreceive(q, buf, 64, NULL, &neg), EINVAL);
    /* Linux checks the timeout even when a message is waiting. */
    mq_send(q, "x", 1, 0);
    EXPECT_ERR("timedrecv_bad_nsec_nonempty", mq_timedreceive(q, buf, 64, NULL, &bad), EINVAL);
    EXPECT_ERR("timedsend_bad_nsec", mq_timedsend(q, "x", 1, 0, &bad), EINVAL);
    for (int i = 0; i < 3; i++) mq_send(q, "fill", 4, 0);
    EXPECT_ERR("timedsend_full_past_deadline", mq_timedsend(q, "x", 1, 0, &past), ETIMEDOUT);

    mqd_t ro = mq_open(PFX "a", O_RDONLY), wo = mq_open(PFX "a", O_WRONLY);
    EXPECT_ERR("send_on_rdonly", mq_send(ro, "x", 1, 0), EBADF);
    EXPECT_ERR("recv_on_wronly", mq_receive(wo, buf, 64, NULL), EBADF);
    mq_close(ro);
    mq_close(wo);
    int p[2];
    REQUIRE(pipe(p) == 0);
    struct mq_attr a;
    struct sigevent none = {.sigev_notify = SIGEV_NONE};
    EXPECT_ERR("getattr_on_pipe", mq_getattr(p[0], &a), EBADF);
    EXPECT_ERR("send_on_pipe", mq_send(p[1], "x", 1, 0), EBADF);
    EXPECT_ERR("notify_on_pipe", mq_notify(p[0], &none), EBADF);
    close(p[0]);
    close(p[1]);
    for (int i = 0; i < 4; i++) mq_receive(q, buf, 64, NULL);
    EXPECT_OK("close", mq_close(q));
    EXPECT_ERR("send_closed", mq_send(q, "x", 1, 0), EBADF);
    EXPECT_ERR("recv_closed", mq_receive(q, buf, 64, NULL), EBADF);
    EXPECT_ERR("close_again", mq_close(q), EBADF);
}

static void test_processes(void)
{
    mqd_t q = mq_open(PFX "a", O_RDWR), r = create(PFX "r", O_RDWR, 4, 64);
    CHECK("open_reply_queue", r >= 0);
    pid_t child = fork_flushed();
    REQUIRE(child >= 0);
    if (child == 0) {
        alarm(10);
        char buf[64] = "";
        mqd_t cq = mq_open(PFX "a", O_RDONLY), cr = mq_open(PFX "r", O_WRONLY);
        ssize_t n = mq_receive(cq, buf, sizeof buf, NULL); /* blocks until the parent sends */
        _exit(n == 4 && memcmp(buf, "ping", 4) == 0 && mq_send(cr, "pong", 4, 2) == 0 ? 0 : 1);
    }
    usleep(50 * 1000);
    EXPECT_OK("send_to_blocked_child", mq_send(q, "ping", 4, 0));
    receive(r, "reply_from_child");
    CHECK("child_received_ping", child_ok(child));

    /* A sender blocked on a full queue, using the descriptor inherited across fork. */
    for (int i = 0; i < 4; i++) mq_send(q, "old", 3, 0);
    child = fork_flushed();
    REQUIRE(child >= 0);
    if (child == 0) {
        alarm(10);
        _exit(mq_send(q, "new", 3, 0) == 0 ? 0 : 1);
    }
    usleep(50 * 1000);
    EXPECT_EQ("still_full_while_sender_blocked", curmsgs(q), 4);
    receive(q, "recv_wakes_sender");
    CHECK("blocked_sender_done", child_ok(child));
    EXPECT_EQ("curmsgs_after_wake", curmsgs(q), 4);
    char buf[64];
    for (int i = 0; i < 3; i++) mq_receive(q, buf, sizeof buf, NULL);
    receive(q, "recv_from_woken_sender");
    mq_close(r);
    EXPECT_OK("unlink_reply_queue", mq_unlink(PFX "r"));
    mq_close(q);
}

/* Fork a child that runs mq_notify(q, sev) and exits; returns "ok" or its errno name. */
static const char *notify_in_child(mqd_t q, const struct sigevent *sev)
{
    pid_t child = fork_flushed();
    REQUIRE(child >= 0);
    if (child == 0) _exit(mq_notify(q, sev) == 0 ? 0 : errno);
    int st;
    waitpid(child, &st, 0);
    if (!WIFEXITED(st)) return "killed";
    return WEXITSTATUS(st) ? errname(WEXITSTATUS(st)) : "ok";
}

/* Take a pending SIGUSR1: print the signal's si_code and value (or EAGAIN if none). */
static void take_signal(const char *label, pid_t sender)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    struct timespec zero = {0, 0};
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (sigtimedwait(&set, &si, &zero) < 0) {
        printf("%s: %s\n", label, errname(errno));
        return;
    }
    printf("%s: signo %d code %s value %d sender %s\n", label, si.si_signo,
           si.si_code == SI_MESGQ ? "SI_MESGQ" : "other", si.si_value.sival_int,
           si.si_pid == sender ? "ok" : "wrong");
}

static void test_notify(void)
{
    mqd_t q = create(PFX "n", O_RDWR | O_NONBLOCK, 4, 64);
    char buf[64];
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = 200; /* not a signal */
    EXPECT_ERR("notify_bad_signo", mq_notify(q, &sev), EINVAL);
    sev.sigev_signo = SIGUSR1;
    sev.sigev_value.sival_int = 4242;
    EXPECT_OK("notify_register", mq_notify(q, &sev));
    EXPECT_ERR("notify_again_same_process", mq_notify(q, &sev), EBUSY);
    printf("notify_other_process: %s\n", notify_in_child(q, &sev));
    printf("notify_null_other_process: %s\n", notify_in_child(q, NULL));

    /* A child sends: the empty queue becomes non-empty, the owner gets one signal. */
    pid_t child = fork_flushed();
    REQUIRE(child >= 0);
    if (child == 0) _exit(mq_send(q, "wake", 4, 0) == 0 ? 0 : 1);
    CHECK("child_sent", child_ok(child));
    take_signal("notify_signal", child);
    take_signal("notify_signal_once", child);
    mq_receive(q, buf, sizeof buf, NULL);
    mq_send(q, "again", 5, 0);
    take_signal("no_signal_after_fired", getpid());

    /* Registered while non-empty: nothing until the queue empties and fills again. */
    EXPECT_OK("notify_register_after_fired", mq_notify(q, &sev));
    mq_send(q, "more", 4, 0);
    take_signal("no_signal_on_nonempty", getpid());
    mq_receive(q, buf, sizeof buf, NULL);
    mq_receive(q, buf, sizeof buf, NULL);
    mq_send(q, "first", 5, 0);
    take_signal("signal_on_empty_to_nonempty", getpid());

    /* mq_notify(NULL) unregisters; a registration ends when its owner closes the queue. */
    EXPECT_OK("notify_register_3", mq_notify(q, &sev));
    EXPECT_OK("notify_unregister", mq_notify(q, NULL));
    printf("notify_child_after_unregister: %s\n", notify_in_child(q, &sev));
    EXPECT_OK("notify_after_owner_exit", mq_notify(q, &sev));
    EXPECT_OK("notify_unregister_2", mq_notify(q, NULL));
    mq_receive(q, buf, sizeof buf, NULL);
    mq_send(q, "quiet", 5, 0);
    take_signal("no_signal_unregistered", getpid());
    mq_close(q);
    EXPECT_OK("unlink_notify_queue", mq_unlink(PFX "n"));
}

/* poll() a queue without waiting; its revents as names. */
static const char *revents(mqd_t q)
{
    static char s[64];
    struct pollfd p = {.fd = q, .events = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM};
    if (poll(&p, 1, 0) < 0) return errname(errno);
    snprintf(s, sizeof s, "%s%s%s%s%s", p.revents & POLLIN ? " IN" : "",
             p.revents & POLLRDNORM ? " RDNORM" : "", p.revents & POLLOUT ? " OUT" : "",
             p.revents & POLLWRNORM ? " WRNORM" : "", p.revents & ~p.events ? " other" : "");
    return s[0] ? s + 1 : "none";
}

static void test_poll(void)
{
    mqd_t q = create(PFX "p", O_RDWR | O_NONBLOCK, 2, 64);
    char buf[64];
    printf("poll_empty: %s\n", revents(q));
    mq_send(q, "x", 1, 0);
    printf("poll_one: %s\n", revents(q));
    mq_send(q, "y", 1, 0);
    printf("poll_full: %s\n", revents(q));
    fd_set rd, wr;
    FD_ZERO(&rd);
    FD_ZERO(&wr);
    FD_SET(q, &rd);
    FD_SET(q, &wr);
    struct timeval tv = {0, 0};
    EXPECT_EQ("select_full", select(q + 1, &rd, &wr, NULL, &tv), 1);
    CHECK("select_full_readable_only", FD_ISSET(q, &rd) && !FD_ISSET(q, &wr));
    mq_receive(q, buf, sizeof buf, NULL);
    mq_receive(q, buf, sizeof buf, NULL);

    /* A poll waiting on the empty queue is woken by another process's send. */
    pid_t child = fork_flushed();
    REQUIRE(child >= 0);
    if (child == 0) {
        usleep(50 * 1000);
        _exit(mq_send(q, "z", 1, 0) == 0 ? 0 : 1);
    }
    struct pollfd p = {.fd = q, .events = POLLIN};
    EXPECT_EQ("poll_woken", poll(&p, 1, 5000), 1);
    CHECK("poll_woken_pollin", p.revents == POLLIN);
    CHECK("poll_sender_done", child_ok(child));
    mq_close(q);
    EXPECT_OK("unlink_poll_queue", mq_unlink(PFX "p"));
}

static void test_unlink(void)
{
    mqd_t q = mq_open(PFX "a", O_RDWR);
    EXPECT_OK("send_before_unlink", mq_send(q, "kept", 4, 1));
    EXPECT_OK("unlink", mq_unlink(PFX "a"));
    EXPECT_ERR("open_after_unlink", mq_open(PFX "a", O_RDWR), ENOENT);
    EXPECT_ERR("unlink_again", mq_unlink(PFX "a"), ENOENT);
    EXPECT_OK("send_after_unlink", mq_send(q, "still", 5, 0));
    receive(q, "recv_after_unlink_1");
    receive(q, "recv_after_unlink_2");
    mqd_t fresh = create(PFX "a", O_RDWR, 4, 64);
    CHECK("recreate_after_unlink", fresh >= 0 && fresh != q);
    mq_send(q, "old", 3, 0);
    EXPECT_EQ("recreated_is_empty", curmsgs(fresh), 0);
    mq_close(fresh);
    mq_close(q);
    EXPECT_OK("unlink_recreated", mq_unlink(PFX "a"));
    EXPECT_ERR("unlink_missing", mq_unlink(PFX "missing"), ENOENT);
}

/* Where Linux's own rules decide: access mode 3 (a queue that can be made but neither sent to
 * nor received from, and not reopened), a registration dropped when its owner closes any
 * descriptor of the queue, and a message handed straight to a waiting receiver (the queue stays
 * empty: no notification then, and the next message notifies). */
static void test_linux_rules(void)
{
    char buf[64];
    mqd_t q = mq_open(PFX "h", O_CREAT | O_EXCL | 3, 0600, NULL);
    CHECK("accmode3_create", q != (mqd_t)-1);
    EXPECT_ERR("accmode3_send", mq_send(q, "x", 1, 0), EBADF);
    EXPECT_ERR("accmode3_receive", mq_receive(q, buf, sizeof buf, NULL), EBADF);
    EXPECT_ERR("accmode3_reopen", mq_open(PFX "h", 3), EINVAL);
    mq_close(q);
    mq_unlink(PFX "h");

    q = create(PFX "h", O_RDWR, 4, 64);
    mqd_t second = mq_open(PFX "h", O_RDWR);
    struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1};
    sev.sigev_value.sival_int = 7;
    EXPECT_OK("notify_before_close", mq_notify(q, &sev));
    mq_close(second);
    EXPECT_OK("notify_after_own_close", mq_notify(q, &sev));

    pid_t child = fork_flushed();
    REQUIRE(child >= 0);
    if (child == 0) _exit(mq_receive(q, buf, sizeof buf, NULL) == 5 ? 0 : 1);
    usleep(200000);
    EXPECT_OK("send_to_waiting_receiver", mq_send(q, "first", 5, 0));
    int st;
    waitpid(child, &st, 0);
    CHECK("waiting_receiver_got_it", WIFEXITED(st) && WEXITSTATUS(st) == 0);
    take_signal("no_signal_when_handed", getpid());
    EXPECT_OK("send_to_empty", mq_send(q, "again", 5, 0));
    take_signal("signal_after_handed", getpid());
    mq_close(q);
    EXPECT_OK("unlink_rules_queue", mq_unlink(PFX "h"));
}

int main(void)
{
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) mq_unlink(names[i]); /* leftovers */
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, NULL);
    test_open();
    test_setattr_and_priority();
    test_errors();
    test_processes();
    test_notify();
    test_poll();
    test_unlink();
    test_linux_rules();
    return finish();
}
