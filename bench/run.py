#!/usr/bin/env python3
"""Veil benchmarks: each measurement runs natively and under Veil in the same run and prints the
ratio (Veil / native; lower is better). Figures vary between machines and runs: compare ratios.

Usage: bench/run.py [--veil PATH] [--quick]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def build_c(src, out, static=False, pie=False):
    link = ["-static-pie"] if static and pie else ["-static"] if static else []
    cmd = ["gcc", "-O2", "-o", out, src] + link
    subprocess.run(cmd, check=True)


def elapsed(cmd):
    """Wall time of one execution of cmd, in milliseconds."""
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return (time.perf_counter() - t0) * 1000


def printed(cmd):
    """The figure cmd prints (the benchmark programs measure themselves)."""
    return float(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def paired(cmd, veil, rounds, sample=printed, prefix=()):
    """Medians of `rounds` samples of cmd natively and under Veil, taken in turn (native, Veil,
    native, ...) so that a slow stretch of a shared machine weighs on both sides alike. Both
    run under `prefix` (a command such as taskset)."""
    native, veiled = [], []
    for _ in range(rounds):
        native.append(sample(list(prefix) + cmd))
        veiled.append(sample(list(prefix) + veil + cmd))
    return statistics.median(native), statistics.median(veiled)


def row(name, native, veil, unit):
    ratio = veil / native if native > 0 else float("inf")
    print(f"{name:<34} native {native:>10.2f} {unit:<3} veil {veil:>10.2f} {unit:<3} ratio {ratio:>6.2f}x")


def throughput_row(name, native, veil):
    """Throughput: higher is better, so the ratio printed is native / veil."""
    print(f"{name:<34} native {native:>10.1f} MB/s veil {veil:>10.1f} MB/s ratio {native / veil:>6.2f}x")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--veil", default=os.path.join(ROOT, "target", "x86_64-unknown-linux-gnu", "release", "veil"))
    ap.add_argument("--quick", action="store_true", help="fewer iterations")
    args = ap.parse_args()
    if not os.path.exists(args.veil):
        sys.exit(f"{args.veil} not found: run `cargo build --release` first")
    runs = 5 if args.quick else 20
    calls = 200_000 if args.quick else 1_000_000
    # Outside /tmp: /tmp inside an instance is a RAM file system.
    work = tempfile.mkdtemp(prefix="veil-bench-", dir=os.path.expanduser("~"))
    try:
        measure(args, work, runs, calls)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure(args, work, runs, calls):
    """Runs every measurement; the programs are built in `work`."""
    loop = os.path.join(work, "getppid_loop")
    build_c(os.path.join(ROOT, "bench", "getppid_loop.c"), loop, static=True)
    veil = [args.veil, "run", "--rootfs", "/"]
    rounds = 3 if args.quick else 7

    print(f"veil: {args.veil}")
    print(f"(medians of {rounds} alternating native/Veil samples; wall times of {runs})")
    row("syscall round trip (getppid(), patched site)", *paired([loop, str(calls)], veil, rounds), "ns")
    row("syscall round trip (syscall(SYS_getppid), trap)", *paired([loop, str(calls), "generic"], veil, rounds), "ns")
    row("run /bin/true (wall)", *paired(["/bin/true"], veil, runs, elapsed), "ms")
    threads = os.path.join(work, "threads")
    build_c(os.path.join(ROOT, "bench", "threads.c"), threads, static=True)
    mb = "64" if args.quick else "512"
    throughput_row("pipe between threads (64 KiB)", *paired([threads, "pipe", mb], veil, rounds))
    count = "5000" if args.quick else "20000"
    row("futex ping-pong (round trip)", *paired([threads, "futex", count], veil, rounds), "us")
    count = "500" if args.quick else "2000"
    row("thread create+join", *paired([threads, "create", count], veil, rounds), "us")
    spawn = os.path.join(work, "spawn")
    # Position-independent, so that child and parent fit in one address space (Veil's fast path).
    build_c(os.path.join(ROOT, "bench", "spawn.c"), spawn, static=True, pie=True)
    tiny = os.path.join(work, "tiny")
    with open(tiny + ".c", "w") as f:
        f.write("int main(void) { return 0; }\n")
    build_c(tiny + ".c", tiny, static=True, pie=True)
    count = "100" if args.quick else "500"
    row("posix_spawn(tiny static)+wait", *paired([spawn, tiny, count], veil, rounds), "us")
    procs = os.path.join(work, "fork")
    build_c(os.path.join(ROOT, "bench", "fork.c"), procs)
    count = "200" if args.quick else "1000"
    row("fork+exit+wait", *paired([procs, "fork", count], veil, rounds), "us")
    # The same on one CPU: the CPU work of a fork, which overlap on two CPUs partly hides (and
    # how much depends on how freely the host runs them).
    if shutil.which("taskset"):
        one_cpu = ["taskset", "-c", str(min(os.sched_getaffinity(0)))]
        row("fork+exit+wait, one CPU", *paired([procs, "fork", count], veil, rounds, prefix=one_cpu), "us")
    mib = "128" if args.quick else "1024"
    throughput_row("pipe between processes (64 KiB)", *paired([procs, "pipe", mib], veil, rounds))
    sh = ["/bin/dash", os.path.join(ROOT, "bench", "shell_loop.sh")]
    row("shell loop, 200 commands (wall)", *paired(sh, veil, max(3, runs // 4), elapsed), "ms")
    if os.path.exists("/usr/bin/python3"):
        forks = ["/usr/bin/python3", os.path.join(ROOT, "bench", "python_fork.py"), "100" if args.quick else "300"]
        row("python3 os.fork+_exit+waitpid", *paired(forks, veil, rounds), "us")
        row("python3 -c pass (wall)", *paired(["/usr/bin/python3", "-c", "pass"], veil, runs, elapsed), "ms")
    if os.path.exists("/usr/bin/python3") and os.path.exists("/bin/busybox"):
        elsewhere = ["/usr/bin/python3", os.path.join(ROOT, "bench", "spawn_elsewhere.py"), "/bin/busybox", "200",
                     "10" if args.quick else "30"]
        row("spawn, own address space (200 MB parent)", *paired(elsewhere, veil, rounds), "us")

if __name__ == "__main__":
    main()
