#!/usr/bin/env python3
"""What one durable commit costs on the disk under DIR: append 4 KiB, fdatasync, RUNS times.

The store commits every change with synchronous=FULL in WAL mode, i.e. one WAL append and one
fdatasync per transaction (src/store/sqlite/schema.cc); this is that floor, without SQLite.

usage: fsync_cost.py DIR RUNS → prints "median_ms p90_ms" on one line
"""
import os
import statistics
import sys
import tempfile
import time


def main():
    directory, runs = sys.argv[1], int(sys.argv[2])
    block = b"x" * 4096
    times = []
    with tempfile.NamedTemporaryFile(dir=directory) as f:
        for _ in range(runs):
            t0 = time.perf_counter()
            os.write(f.fileno(), block)
            os.fdatasync(f.fileno())
            times.append((time.perf_counter() - t0) * 1000.0)
    times.sort()
    print("%.2f %.2f" % (statistics.median(times), times[int(len(times) * 0.9)]))


if __name__ == "__main__":
    main()
