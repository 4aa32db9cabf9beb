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


def wall(cmd, runs):
    """Median wall time of `runs` executions of cmd, in milliseconds."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


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

    def per_call(cmd):
        return statistics.median(float(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
                                 for _ in range(3))

    print(f"veil: {args.veil}")
    row("syscall round trip (getppid(), patched site)", per_call([loop, str(calls)]),
        per_call(veil + [loop, str(calls)]), "ns")
    row("syscall round trip (syscall(SYS_getppid), trap)", per_call([loop, str(calls), "generic"]),
        per_call(veil + [loop, str(calls), "generic"]), "ns")
    true = "/bin/true"
    row("run /bin/true (wall)", wall([true], runs), wall(veil + [true], runs), "ms")
    threads = os.path.join(work, "threads")
    build_c(os.path.join(ROOT, "bench", "threads.c"), threads, static=True)
    mb = "64" if args.quick else "512"
    throughput_row("pipe between threads (64 KiB)", per_call([threads, "pipe", mb]),
                   per_call(veil + [threads, "pipe", mb]))
    rounds = "5000" if args.quick else "20000"
    row("futex ping-pong (round trip)", per_call([threads, "futex", rounds]), per_call(veil + [threads, "futex", rounds]), "us")
    count = "500" if args.quick else "2000"
    row("thread create+join", per_call([threads, "create", count]), per_call(veil + [threads, "create", count]), "us")
    spawn = os.path.join(work, "spawn")
    # Position-independent, so that child and parent fit in one address space (Veil's fast path).
    build_c(os.path.join(ROOT, "bench", "spawn.c"), spawn, static=True, pie=True)
    tiny = os.path.join(work, "tiny")
    with open(tiny + ".c", "w") as f:
        f.write("int main(void) { return 0; }\n")
    build_c(tiny + ".c", tiny, static=True, pie=True)
    spawns = "100" if args.quick else "500"
    row("posix_spawn(tiny static)+wait", per_call([spawn, tiny, spawns]), per_call(veil + [spawn, tiny, spawns]), "us")
    procs = os.path.join(work, "fork")
    build_c(os.path.join(ROOT, "bench", "fork.c"), procs)
    forks = "200" if args.quick else "1000"
    row("fork+exit+wait", per_call([procs, "fork", forks]), per_call(veil + [procs, "fork", forks]), "us")
    mib = "128" if args.quick else "1024"
    throughput_row("pipe between processes (64 KiB)", per_call([procs, "pipe", mib]),
                   per_call(veil + [procs, "pipe", mib]))
    script = os.path.join(ROOT, "bench", "shell_loop.sh")
    sh = ["/bin/dash", script]
    row("shell loop, 200 commands (wall)", wall(sh, max(3, runs // 4)), wall(veil + sh, max(3, runs // 4)), "ms")
    if os.path.exists("/usr/bin/python3"):
        py = ["/usr/bin/python3", "-c", "pass"]
        row("python3 -c pass (wall)", wall(py, runs), wall(veil + py, runs), "ms")
    if os.path.exists("/usr/bin/python3") and os.path.exists("/bin/busybox"):
        elsewhere = ["/usr/bin/python3", os.path.join(ROOT, "bench", "spawn_elsewhere.py"), "/bin/busybox", "200",
                     "10" if args.quick else "30"]
        row("spawn, own address space (200 MB parent)", per_call(elsewhere), per_call(veil + elsewhere), "us")


if __name__ == "__main__":
    main()
