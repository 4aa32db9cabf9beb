//! Real Debian programs, run the way a user runs them: natively first, then under Veil with the
//! host root (`veil run --rootfs /`); stdout and exit status must match.
//! Needs busybox-static, sqlite3, lua5.4, python3, make and gcc (scripts/install-test-deps.sh).

mod common;

use common::{assert_same, need, scratch};

/// A small tree of files for the file tools.
fn fixture(name: &str) -> std::path::PathBuf {
    let dir = scratch(name);
    std::fs::create_dir_all(dir.join("docs/sub")).unwrap();
    for i in 0..20 {
        let text: String = (0..i * 7 + 3)
            .map(|j| format!("line {j} of file {i}: {}\n", (i * 31 + j * 17) % 97))
            .collect();
        std::fs::write(dir.join(format!("docs/f{i:02}.txt")), text).unwrap();
    }
    std::fs::write(
        dir.join("docs/sub/words"),
        "pear\napple\nfig\nbanana\napple\ncherry\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("f01.txt", dir.join("docs/link")).unwrap();
    dir
}

#[test]
fn busybox_applets() {
    need("/bin/busybox");
    let dir = fixture("busybox");
    let bb = "/bin/busybox";
    assert_same(&[bb, "ls", "-la", "docs"], &dir, None);
    assert_same(&[bb, "ls", "-R", "docs"], &dir, None);
    assert_same(&[bb, "cat", "docs/f03.txt", "docs/link"], &dir, None);
    assert_same(&[bb, "wc", "docs/f00.txt", "docs/f19.txt"], &dir, None);
    assert_same(
        &[bb, "sha256sum", "docs/f05.txt", "docs/f06.txt"],
        &dir,
        None,
    );
    assert_same(&[bb, "sort", "-u", "docs/sub/words"], &dir, None);
    assert_same(
        &[bb, "find", "docs", "-name", "*1*", "-type", "f"],
        &dir,
        None,
    );
    assert_same(
        &[bb, "grep", "-rn", "of file 1[0-2]: 4", "docs"],
        &dir,
        None,
    );
    assert_same(
        &[bb, "grep", "-c", "nothing-matches", "docs/f00.txt"],
        &dir,
        None,
    );
    assert_same(&[bb, "wc", "-l"], &dir, Some(b"a\nb\nc\n"));
    assert_same(&[bb, "ls", "/nonexistent"], &dir, None);
}

#[test]
fn sqlite3_in_memory_workload() {
    need("/usr/bin/sqlite3");
    let dir = scratch("sqlite");
    let sql = "
        CREATE TABLE t(id INTEGER PRIMARY KEY, grp INTEGER, name TEXT, v REAL);
        WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000)
          INSERT INTO t(grp, name, v) SELECT x % 17, 'n' || (x * 7919 % 1000), x * 1.5 FROM c;
        CREATE INDEX t_grp ON t(grp);
        SELECT grp, count(*), sum(v), min(name), max(name) FROM t GROUP BY grp ORDER BY grp;
        SELECT count(DISTINCT name) FROM t;
        UPDATE t SET v = v * 2 WHERE grp IN (1, 3, 5);
        DELETE FROM t WHERE id % 3 = 0;
        SELECT printf('%.2f', avg(v)), total(v) FROM t;
        SELECT name FROM t WHERE grp = 7 ORDER BY v DESC LIMIT 5;
    ";
    let out = assert_same(
        &["/usr/bin/sqlite3", ":memory:"],
        &dir,
        Some(sql.as_bytes()),
    );
    assert!(
        out.contains("1000") || out.lines().count() > 17,
        "unexpected output: {out}"
    );
}

#[test]
fn lua_script() {
    need("/usr/bin/lua5.4");
    let dir = scratch("lua");
    let script = r#"
        local t = {}
        for i = 1, 10000 do t[i] = (i * 7919) % 10007 end
        table.sort(t)
        local s = 0
        for _, v in ipairs(t) do s = s + v end
        print(#t, s, t[1], t[#t])
        local words = {}
        for w in ("the quick brown fox jumps over the lazy dog"):gmatch("%a+") do words[#words + 1] = w:upper() end
        print(table.concat(words, ","))
        print(string.format("%.3f %d %s", math.pi, 1 << 40, tostring(nil)))
        local f = assert(io.open("out.txt", "w")); f:write("hello\n"); f:close()
        for line in io.lines("out.txt") do print("read:", line) end
        os.remove("out.txt")
        os.exit(3)
    "#;
    std::fs::write(dir.join("script.lua"), script).unwrap();
    assert_same(&["/usr/bin/lua5.4", "script.lua"], &dir, None);
}

#[test]
fn python3_script_with_stdlib() {
    need("/usr/bin/python3");
    let dir = scratch("python");
    let script = r#"
import hashlib, json, os, re, sqlite3, sys
work = "/tmp/veil-py-test"
os.makedirs(work, exist_ok=True)
data = {"numbers": list(range(20)), "text": "Veil runs Python", "nested": {"a": [1, 2, {"b": None}]}}
path = os.path.join(work, "data.json")
with open(path, "w") as f:
    json.dump(data, f, indent=2, sort_keys=True)
with open(path) as f:
    back = json.load(f)
print("json roundtrip", back == data, os.path.getsize(path))
print("re", re.findall(r"\b[A-Z]\w+", "Veil runs Python and Linux programs"))
print("sha256", hashlib.sha256(open(path, "rb").read()).hexdigest())
db = sqlite3.connect(os.path.join(work, "test.db"))
db.execute("create table kv(k text primary key, v integer)")
db.executemany("insert into kv values (?, ?)", [(f"k{i}", i * i) for i in range(100)])
db.commit()
print("sqlite", db.execute("select count(*), sum(v) from kv").fetchone())
db.close()
print("listdir", sorted(os.listdir(work)))
for name in os.listdir(work):
    os.remove(os.path.join(work, name))
os.rmdir(work)
print("argv", sys.argv[1:])
sys.exit(5)
"#;
    std::fs::write(dir.join("script.py"), script).unwrap();
    assert_same(&["/usr/bin/python3", "script.py", "one", "two"], &dir, None);
    assert_same(&["/usr/bin/python3", "-c", "print(6 * 7)"], &dir, None);
}

#[test]
fn python3_threads() {
    need("/usr/bin/python3");
    let dir = scratch("python-threads");
    let script = r#"
import concurrent.futures, queue, threading
results = []
lock = threading.Lock()
def work(n):
    s = sum(i * i for i in range(n))
    with lock:
        results.append(s)
    return s
threads = [threading.Thread(target=work, args=(10000 + i,)) for i in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("threads", len(results), sum(results))
with concurrent.futures.ThreadPoolExecutor(4) as pool:
    print("pool", sum(pool.map(work, range(200))))
q = queue.Queue()
threading.Thread(target=lambda: q.put("from a thread")).start()
print("queue", q.get(timeout=10))
event = threading.Event()
threading.Timer(0.05, event.set).start()
print("timer", event.wait(10))
"#;
    std::fs::write(dir.join("threads.py"), script).unwrap();
    assert_same(&["/usr/bin/python3", "threads.py"], &dir, None);
}

#[test]
fn python3_signals() {
    need("/usr/bin/python3");
    let dir = scratch("python-signals");
    let script = r#"
import os, signal, time
got = []
signal.signal(signal.SIGALRM, lambda s, f: got.append("alarm"))
signal.alarm(1)
print("remaining", signal.alarm(1))
time.sleep(3)
print("after sleep", got)
signal.signal(signal.SIGUSR1, lambda s, f: got.append("usr1"))
os.kill(os.getpid(), signal.SIGUSR1)
print("kill", got)
signal.setitimer(signal.ITIMER_REAL, 0.05, 0.05)
while got.count("alarm") < 4:
    signal.pause()
signal.setitimer(signal.ITIMER_REAL, 0)
print("itimer", got.count("alarm") >= 4)
try:
    signal.signal(signal.SIGALRM, signal.default_int_handler)
    signal.alarm(1)
    time.sleep(5)
except KeyboardInterrupt:
    print("interrupted sleep")
"#;
    std::fs::write(dir.join("signals.py"), script).unwrap();
    assert_same(&["/usr/bin/python3", "signals.py"], &dir, None);
}

#[test]
fn python3_subprocess() {
    need("/usr/bin/python3");
    let dir = scratch("python-subprocess");
    let script = r#"
import subprocess, sys
r = subprocess.run(["/bin/echo", "from a child"], capture_output=True, text=True)
print("echo", repr(r.stdout), r.returncode)
r = subprocess.run(["/usr/bin/env"], capture_output=True, text=True, env={"ONLY": "this"})
print("env", r.stdout.strip())
print("false", subprocess.call(["/bin/false"]))
r = subprocess.run(["/usr/bin/tr", "a-z", "A-Z"], input="piped in", capture_output=True, text=True)
print("tr child", r.stdout.strip())
p = subprocess.Popen(["/bin/cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
out, _ = p.communicate(b"through cat")
print("cat", out, p.returncode)
try:
    subprocess.run(["/no/such/program"])
except FileNotFoundError as e:
    print("missing", e.errno)
"#;
    std::fs::write(dir.join("sub.py"), script).unwrap();
    assert_same(&["/usr/bin/python3", "sub.py"], &dir, None);
}

/// Non-PIE programs spawned by the non-PIE python3 run in address spaces of their own (python3
/// occupies their fixed range), where the host files they inherit must still work: a host file
/// as stdout, another passed as fd 5, twenty spawns in a row, a python3 child that in turn
/// spawns busybox from its own new address space, and one given 300 host files (more than one
/// request to the zygote carries: its address space is a copy of the parent's instead).
#[test]
fn python3_spawns_programs_that_need_their_own_address_space() {
    need("/usr/bin/python3");
    need("/bin/busybox");
    let dir = scratch("python-new-spaces");
    let script = r#"
import os, subprocess, sys
with open("out.txt", "w") as f:
    for i in range(20):
        subprocess.run(["/bin/busybox", "echo", f"line {i}"], stdout=f, check=True)
with open("out.txt") as f:
    lines = f.read().splitlines()
print("lines", len(lines), lines[0], lines[-1])
with open("in.txt", "w") as f:
    f.write("carried input\n")
with open("in.txt") as f:
    os.dup2(f.fileno(), 5)
    r = subprocess.run(["/bin/busybox", "sh", "-c", "cat <&5"], pass_fds=[5], capture_output=True, text=True)
    print("fd 5:", r.stdout.strip(), r.returncode)
nested = "import subprocess; print(subprocess.run(['/bin/busybox', 'echo', 'nested'], capture_output=True, text=True).stdout.strip())"
r = subprocess.run([sys.executable, "-c", nested], capture_output=True, text=True)
print("python3 child:", r.stdout.strip(), r.returncode)
fds = [os.open("in.txt", os.O_RDONLY) for _ in range(300)]
count = f"import os; print(os.read({fds[-1]}, 100).decode().strip(), sum(os.path.exists(f'/proc/self/fd/{{fd}}') for fd in range(3, 1000)))"
r = subprocess.run([sys.executable, "-c", count], pass_fds=fds, capture_output=True, text=True)
print("300 host files:", r.stdout.strip(), r.returncode)
"#;
    std::fs::write(dir.join("spaces.py"), script).unwrap();
    let out = assert_same(&["/usr/bin/python3", "spaces.py"], &dir, None);
    assert!(out.contains("python3 child: nested 0"), "{out}");
    assert!(out.contains("300 host files: carried input 300 0"), "{out}");
}

/// A `find | xargs | sort` pipeline built by a spawn-based program (Python's subprocess:
/// vfork + exec, pipes between the children).
#[test]
fn python3_find_xargs_sort_pipeline() {
    need("/usr/bin/python3");
    let dir = fixture("python-pipeline");
    let script = r#"
import subprocess
find = subprocess.Popen(["/usr/bin/find", "docs", "-name", "*.txt"], stdout=subprocess.PIPE)
xargs = subprocess.Popen(["/usr/bin/xargs", "/usr/bin/wc", "-l"], stdin=find.stdout, stdout=subprocess.PIPE)
find.stdout.close()
sort = subprocess.Popen(["/usr/bin/sort", "-n"], stdin=xargs.stdout, stdout=subprocess.PIPE, text=True)
xargs.stdout.close()
out, _ = sort.communicate()
print(out, end="")
print("statuses", find.wait(), xargs.wait(), sort.returncode)
"#;
    std::fs::write(dir.join("pipeline.py"), script).unwrap();
    let out = assert_same(&["/usr/bin/python3", "pipeline.py"], &dir, None);
    assert!(out.contains(" total\n"), "unexpected output:\n{out}");
}

/// multiprocessing with the fork start method: a Pool, a Queue between processes, a shared
/// Value under a Lock (named semaphores and shared memory), and a non-PIE python3 spawning the
/// non-PIE busybox (which cannot share its address space, so it gets one of its own).
#[test]
fn python3_multiprocessing() {
    need("/usr/bin/python3");
    need("/bin/busybox");
    let dir = scratch("python-multiprocessing");
    let script = r#"
import multiprocessing as mp, subprocess

def square(x):
    return x * x

def producer(q, n):
    for i in range(n):
        q.put(i * 3)
    q.put(None)

def add(counter, lock, n):
    for _ in range(n):
        with lock:
            counter.value += 1

if __name__ == "__main__":
    mp.set_start_method("fork")
    with mp.Pool(4) as pool:
        print("pool", pool.map(square, range(10)))
        print("pool abs", pool.map(abs, range(-8, 0)))
    q = mp.Queue()
    p = mp.Process(target=producer, args=(q, 50))
    p.start()
    total = 0
    while (item := q.get()) is not None:
        total += item
    p.join()
    print("queue total", total, "exit", p.exitcode)
    counter, lock = mp.Value("i", 0, lock=False), mp.Lock()
    workers = [mp.Process(target=add, args=(counter, lock, 200)) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    print("locked counter", counter.value)
    r = subprocess.run(["/bin/busybox", "echo", "busybox from python"], capture_output=True, text=True)
    print("non-PIE child", r.stdout.strip(), r.returncode)
"#;
    std::fs::write(dir.join("mp.py"), script).unwrap();
    assert_same(&["/usr/bin/python3", "mp.py"], &dir, None);
}

#[test]
fn sqlite3_multithreaded_workload() {
    need("/usr/bin/python3");
    let dir = scratch("sqlite-threads");
    let script = r#"
import os, sqlite3, threading
path = "/tmp/veil-sqlite-threads.db"
for suffix in ("", "-journal", "-wal", "-shm"):
    if os.path.exists(path + suffix):
        os.remove(path + suffix)
db = sqlite3.connect(path)
db.execute("create table t(worker integer, n integer)")
db.commit()
db.close()
def work(worker):
    conn = sqlite3.connect(path, timeout=30)
    for n in range(50):
        conn.execute("insert into t values (?, ?)", (worker, n))
        conn.commit()
    conn.close()
threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
db = sqlite3.connect(path)
print(db.execute("select count(*), count(distinct worker), sum(n) from t").fetchone())
print(db.execute("select worker, count(*) from t group by worker order by worker").fetchall())
db.close()
os.remove(path)
"#;
    std::fs::write(dir.join("threads.py"), script).unwrap();
    assert_same(&["/usr/bin/python3", "threads.py"], &dir, None);
}

/// make driving gcc (cpp, cc1, as, collect2 and ld: posix_spawn and vfork, pipes, temporary
/// files in /tmp) on a small C project with two parallel jobs, then the program it built, then
/// make again (nothing to do).
#[test]
fn make_builds_a_c_project() {
    need("/usr/bin/make");
    need("/usr/bin/gcc");
    let dir = scratch("make-project");
    let files = [
        ("util.h", "int add(int a, int b);\nint twice(int a);\n"),
        (
            "add.c",
            "#include \"util.h\"\nint add(int a, int b) { return a + b; }\n",
        ),
        (
            "twice.c",
            "#include \"util.h\"\nint twice(int a) { return add(a, a); }\n",
        ),
        (
            "main.c",
            "#include <stdio.h>\n#include \"util.h\"\n\
             int main(void) { printf(\"%d %d\\n\", add(2, 3), twice(21)); return 0; }\n",
        ),
        (
            "Makefile",
            "OBJS = main.o add.o twice.o\n\
             prog: $(OBJS)\n\tgcc -o prog $(OBJS)\n\
             %.o: %.c util.h\n\tgcc -O2 -Wall -c $< -o $@\n\
             clean:\n\trm -f prog $(OBJS)\n",
        ),
    ];
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let out = assert_same(
        &[
            "/bin/sh",
            "-c",
            "make -s clean && make -j2 && ./prog && make",
        ],
        &dir,
        None,
    );
    assert!(out.contains("\n5 42\n"), "unexpected output:\n{out}");
    assert!(out.contains("is up to date"), "unexpected output:\n{out}");
}

/// `veil run` inside a shell script whose streams are files: the instance reads and writes
/// through the shell's own open file descriptions, so its output lands between what the shell
/// wrote before and after it, and its reads of stdin leave the shell's offset where they
/// stopped.
#[test]
fn redirected_standard_streams_share_the_shells_offsets() {
    need("/bin/dash");
    let dir = scratch("shared-offsets");
    std::fs::write(dir.join("in.txt"), "one\ntwo\nthree\n").unwrap();
    let veil = format!("{} run --rootfs /", common::veil_bin());
    let script = format!(
        "{{ echo before; {veil} /bin/echo inside; echo after; }} > out.txt\n\
         {{ read a; {veil} /bin/dash -c 'read b; echo $b'; read c; echo $a $c; }} < in.txt >> out.txt\n"
    );
    let status = std::process::Command::new("/bin/dash")
        .args(["-c", &script])
        .current_dir(&dir)
        .status()
        .unwrap();
    assert!(status.success());
    let out = std::fs::read_to_string(dir.join("out.txt")).unwrap();
    assert_eq!(out, "before\ninside\nafter\ntwo\none three\n");
}
