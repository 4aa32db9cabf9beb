"""Spawn latency of a program that needs an address space of its own: the non-PIE python3, with
the MiB of objects given as argv[2], runs the non-PIE busybox (argv[1]) N times (argv[3]); prints
microseconds per spawn + wait. Under Veil the child cannot share python3's address space (both
are linked at the same fixed address), so each spawn makes a new one."""
import subprocess
import sys
import time

prog, mib, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
# Small objects, as a real Python heap holds: every page is touched.
ballast = [bytes(1000) for _ in range(mib * 1000)]
subprocess.run([prog, "true"], check=True)
start = time.perf_counter()
for _ in range(count):
    subprocess.run([prog, "true"], check=True)
print((time.perf_counter() - start) / count * 1e6)
