// veil-test: args=first second-arg third
// /proc/self: exe, cmdline, environ, maps, fd links, cwd, stat, status,
// the /proc/self link itself, and a few global files. Values that differ
// between runs (pids, addresses) are compared, never printed.
#include "common.h"

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

    /* Global files. */
    CHECK("cpuinfo_has_processor", read_file("/proc/cpuinfo", big, sizeof big) > 0 && strstr(big, "processor") != NULL);
    CHECK("meminfo_has_memtotal", read_file("/proc/meminfo", big, sizeof big) > 0 && strncmp(big, "MemTotal:", 9) == 0);
    CHECK("uptime_readable", read_file("/proc/uptime", buf, sizeof buf) > 0);
    EXPECT_ERR("proc_missing_pid", open("/proc/1073741823/stat", O_RDONLY), ENOENT);
    return finish();
}
