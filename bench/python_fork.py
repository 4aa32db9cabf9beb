"""fork latency of a real program: python3 forks, the child calls os._exit(0) at once and the
parent waits, N times (argv[1]); prints microseconds per fork + exit + wait."""
import os
import sys
import time

count = int(sys.argv[1])
start = time.perf_counter()
for _ in range(count):
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
print((time.perf_counter() - start) / count * 1e6)
