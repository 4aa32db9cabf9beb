// veil-test: args=first second-arg third
// /proc/self: exe, cmdline, environ, maps, fd links, cwd, stat, status,
// the /proc/self link itself, threads (/proc/self/task, /proc/thread-self),
// and a few global files (including /proc/mounts and /proc/filesystems).
// Values that differ between runs (pids, addresses) are compared, never
// printed.
#include "common.h"
#include <dirent.h>
#include <pthread.h>

extern char **environ;

static char big[1 << 18];

/* Does text contain a line ending with needle_suffix? */
static int has_line(const char *text, const char *needle_suffix)
{
    size_t sl = strlen(needle_suffix);
    for (const char *line = text; *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (len >= sl && memcmp(line + len - sl, needle_suffix, sl) == 0) return 1;
        if (!nl) break;
        line = nl + 1;
    }
    return 0;
}

/* Workers report ready on ready_pipe and wait until release_pipe closes. */
static int ready_pipe[2], release_pipe[2];
static int ts_link_ok, ts_status_ok, ts_task_stat_ok, ts_task_status_ok;

/* The first worker (arg non-NULL) checks what it sees as /proc/thread-self. */
static void *task_worker(void *arg)
{
    char buf[4096], want[96], path[96];
    int tid = (int)syscall(SYS_gettid);
    if (arg) {
        ssize_t n = readlink("/proc/thread-self", buf, sizeof buf - 1);
        buf[n > 0 ? n : 0] = 0;
        snprintf(want, sizeof want, "%d/task/%d", getpid(), tid);
        ts_link_ok = strcmp(buf, want) == 0;
        snprintf(want, sizeof want, "\nTgid:\t%d\nNgid:\t0\nPid:\t%d\n", getpid(), tid);
        ts_status_ok = read_file("/proc/thread-self/status", buf, sizeof buf) > 0 &&
                       strstr(buf, want) != NULL;
        snprintf(path, sizeof path, "/proc/%d/task/%d/stat", getpid(), tid);
        int first = 0;
        ts_task_stat_ok = read_file(path, buf, sizeof buf) > 0 && sscanf(buf, "%d", &first) == 1 &&
                          first == tid;
        snprintf(path, sizeof path, "/proc/self/task/%d/status", getpid());
        snprintf(want, sizeof want, "\nPid:\t%d\n", getpid());
        ts_task_status_ok = read_file(path, buf, sizeof buf) > 0 && strstr(buf, want) != NULL;
    }
    char c = 0;
    if (write(ready_pipe[1], &c, 1) != 1) return NULL;
    while (read(release_pipe[0], &c, 1) > 0) {
    }
    return NULL;
}

/* Number of entries of dir besides "." and "..", or -1. */
static int count_entries(const char *path)
{
    DIR *d = opendir(path);
    if (!d) return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

/* /proc/self/task with three threads, and /proc/thread-self. */
static void check_threads(void)
{
    REQUIRE(pipe(ready_pipe) == 0 && pipe(release_pipe) == 0);
    pthread_t workers[2];
    for (int i = 0; i < 2; i++)
        REQUIRE(pthread_create(&workers[i], NULL, task_worker, i == 0 ? "first" : NULL) == 0);
    char c;
    for (int i = 0; i < 2; i++) REQUIRE(read(ready_pipe[0], &c, 1) == 1);
    printf("task_entries: %d\n", count_entries("/proc/self/task"));
    char path[96], buf[4096];
    snprintf(path, sizeof path, "/proc/self/task/%d", getpid());
    struct stat task_st, proc_st;
    CHECK("task_main_thread_dir", stat(path, &task_st) == 0 && S_ISDIR(task_st.st_mode));
    CHECK("task_dir_is_not_proc_dir", stat("/proc/self", &proc_st) == 0 && task_st.st_ino != proc_st.st_ino);
    snprintf(path, sizeof path, "/proc/self/task/%d/comm", getpid());
    CHECK("task_comm_readable", read_file(path, buf, sizeof buf) > 0);
    close(release_pipe[1]);
    for (int i = 0; i < 2; i++) pthread_join(workers[i], NULL);
    close(release_pipe[0]);
    close(ready_pipe[0]);
    close(ready_pipe[1]);
    CHECK("thread_self_link", ts_link_ok);
    CHECK("thread_self_status_pid", ts_status_ok);
    CHECK("task_tid_stat", ts_task_stat_ok);
    CHECK("task_main_status_pid", ts_task_status_ok);
    int fd = open("/proc/thread-self/status", O_RDONLY);
    CHECK("thread_self_status_open", fd >= 0);
    close(fd);
    /* A joined thread may still be listed for a moment (it is woken before it is gone). */
    int left = count_entries("/proc/self/task");
    for (int i = 0; i < 2000 && left != 1; i++) {
        usleep(1000);
        left = count_entries("/proc/self/task");
    }
    printf("task_entries_after_join: %d\n", left);
}

/* /proc/mounts: "device mountpoint type options 0 0" lines, / and /proc among them, the same
   as /proc/self/mounts. /proc/filesystems: "nodev\tNAME" or "\tNAME" lines, proc and tmpfs
   among them. */
static void check_mount_files(void)
{
    static char self_mounts[sizeof big];
    ssize_t n = read_file("/proc/self/mounts", self_mounts, sizeof self_mounts);
    CHECK("mounts_readable", read_file("/proc/mounts", big, sizeof big) > 0);
    CHECK("mounts_same_as_self_mounts", n > 0 && strcmp(big, self_mounts) == 0);
    int six_fields = 1, has_root = 0, has_proc = 0;
    for (char *line = big, *next; *line; line = next) {
        next = line + strcspn(line, "\n");
        if (*next) *next++ = 0;
        char *field[7] = {0}, *save = NULL;
        int count = 0;
        for (char *f = strtok_r(line, " ", &save); f; f = strtok_r(NULL, " ", &save))
            if (count < 7) field[count++] = f;
        six_fields &= count == 6 && strcmp(field[4], "0") == 0 && strcmp(field[5], "0") == 0;
        has_root |= count >= 2 && strcmp(field[1], "/") == 0;
        has_proc |= count >= 3 && strcmp(field[1], "/proc") == 0 && strcmp(field[2], "proc") == 0;
    }
    CHECK("mounts_lines_have_six_fields", six_fields);
    CHECK("mounts_has_root", has_root);
    CHECK("mounts_has_proc", has_proc);

    CHECK("filesystems_readable", read_file("/proc/filesystems", big, sizeof big) > 0);
    int well_formed = 1;
    for (char *line = big; *line;) {
        size_t len = strcspn(line, "\n");
        size_t tab = strncmp(line, "nodev\t", 6) == 0 ? 6 : line[0] == '\t' ? 1 : 0;
        well_formed &= tab > 0 && len > tab && memchr(line + tab, '\t', len - tab) == NULL;
        line += len + (line[len] == '\n');
    }
    CHECK("filesystems_lines_well_formed", well_formed);
    CHECK("filesystems_has_proc", has_line(big, "nodev\tproc"));
    CHECK("filesystems_has_tmpfs", has_line(big, "nodev\ttmpfs"));
}

int main(int argc, char **argv)
{
    char buf[4096], buf2[4096];
    ssize_t n;

    /* exe */
    n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    CHECK("exe_readlink", n > 0);
    buf[n > 0 ? n : 0] = 0;
    const char *slash = strrchr(argv[0], '/');
    const char *base = slash ? slash + 1 : argv[0];
    size_t bl = strlen(base);
    CHECK("exe_ends_with_name", (size_t)n > bl && buf[n - bl - 1] == '/' && strcmp(buf + n - bl, base) == 0);
    CHECK("exe_is_absolute", buf[0] == '/');
    CHECK("exe_equals_argv0", strcmp(buf, argv[0]) == 0);
    char exe[4096];
    strcpy(exe, buf);
    struct stat a, b;
    CHECK("exe_same_file_as_argv0", stat("/proc/self/exe", &a) == 0 && stat(argv[0], &b) == 0 &&
                                        a.st_ino == b.st_ino && a.st_dev == b.st_dev);

    /* cmdline */
    n = read_file("/proc/self/cmdline", big, sizeof big);
    size_t want = 0;
    for (int i = 0; i < argc; i++) want += strlen(argv[i]) + 1;
    EXPECT_EQ("cmdline_length_matches", n == (ssize_t)want, 1);
    int same = n == (ssize_t)want;
    size_t off = 0;
    for (int i = 0; i < argc && same; i++) {
        same &= strcmp(big + off, argv[i]) == 0;
        off += strlen(argv[i]) + 1;
    }
    CHECK("cmdline_equals_argv", same);
    printf("argc: %d\n", argc);
    for (int i = 1; i < argc; i++) printf("argv[%d]: %s\n", i, argv[i]);

    /* environ */
    n = read_file("/proc/self/environ", big, sizeof big);
    want = 0;
    for (char **e = environ; *e; e++) want += strlen(*e) + 1;
    CHECK("environ_length_matches", n == (ssize_t)want);

    /* maps has a line for the executable and for the stack. */
    n = read_file("/proc/self/maps", big, sizeof big);
    CHECK("maps_readable", n > 0);
    char suffix[4200];
    snprintf(suffix, sizeof suffix, " %s", exe);
    CHECK("maps_has_exe", has_line(big, suffix));
    CHECK("maps_has_stack", has_line(big, "[stack]"));
    int fields_ok = 1;
    for (char *line = big; *line;) {
        unsigned long lo, hi, offv, ino;
        char perms[5], dev[16];
        fields_ok &= sscanf(line, "%lx-%lx %4s %lx %15s %lu", &lo, &hi, perms, &offv, dev, &ino) == 6 && lo < hi;
        char *nl = strchr(line, '\n');
        if (!nl) break;
        line = nl + 1;
    }
    CHECK("maps_lines_well_formed", fields_ok);

    /* fd links */
    const char *dir = scratch_dir("proc_self");
    DEF_PATH(f, dir, "file");
    write_file(f, "x", 1);
    int fd = open(f, O_RDONLY);
    snprintf(buf2, sizeof buf2, "/proc/self/fd/%d", fd);
    n = readlink(buf2, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    CHECK("fd_link_is_path", strcmp(buf, f) == 0);
    int fd2 = open(buf2, O_RDONLY);
    CHECK("reopen_via_proc_fd", fd2 >= 0 && read(fd2, buf, 1) == 1 && buf[0] == 'x');
    close(fd2);
    snprintf(buf2, sizeof buf2, "/proc/self/fdinfo/%d", fd);
    CHECK("fdinfo_has_pos", read_file(buf2, buf, sizeof buf) > 0 && strncmp(buf, "pos:\t0\n", 7) == 0);
    unlink(f);
    snprintf(buf2, sizeof buf2, "/proc/self/fd/%d", fd);
    n = readlink(buf2, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    char deleted[600];
    snprintf(deleted, sizeof deleted, "%s (deleted)", f);
    CHECK("fd_link_deleted", strcmp(buf, deleted) == 0);
    close(fd);
    rm_rf(dir);

    /* cwd */
    REQUIRE(chdir("/tmp") == 0);
    n = readlink("/proc/self/cwd", buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    EXPECT_STR("cwd_link", buf, "/tmp");
    chdir("/");

    /* /proc/self is a link to the pid; stat and status agree with getpid. */
    n = readlink("/proc/self", buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    CHECK("self_link_is_pid", atoi(buf) == getpid());
    n = read_file("/proc/self/stat", buf, sizeof buf);
    int spid = 0;
    char comm[64] = {0}, state = 0;
    CHECK("stat_parse", n > 0 && sscanf(buf, "%d (%63[^)]) %c", &spid, comm, &state) == 3);
    CHECK("stat_pid", spid == getpid());
    char expect_comm[16] = {0};
    strncpy(expect_comm, base, 15);
    CHECK("stat_comm", strcmp(comm, expect_comm) == 0);
    printf("stat_state: %c\n", state);
    n = read_file("/proc/self/status", buf, sizeof buf);
    char name_line[64];
    snprintf(name_line, sizeof name_line, "Name:\t%s\n", expect_comm);
    CHECK("status_name", n > 0 && strncmp(buf, name_line, strlen(name_line)) == 0);
    char pid_line[64];
    snprintf(pid_line, sizeof pid_line, "\nPid:\t%d\n", getpid());
    CHECK("status_pid", strstr(buf, pid_line) != NULL);
    snprintf(buf2, sizeof buf2, "/proc/%d/comm", getpid());
    n = read_file(buf2, buf, sizeof buf);
    buf[strcspn(buf, "\n")] = 0;
    CHECK("proc_pid_comm", n > 0 && strcmp(buf, expect_comm) == 0);

    check_threads();

    /* Global files. */
    CHECK("cpuinfo_has_processor", read_file("/proc/cpuinfo", big, sizeof big) > 0 && strstr(big, "processor") != NULL);
    CHECK("meminfo_has_memtotal", read_file("/proc/meminfo", big, sizeof big) > 0 && strncmp(big, "MemTotal:", 9) == 0);
    CHECK("uptime_readable", read_file("/proc/uptime", buf, sizeof buf) > 0);
    check_mount_files();
    EXPECT_ERR("proc_missing_pid", open("/proc/1073741823/stat", O_RDONLY), ENOENT);
    return finish();
}
