#!/usr/bin/env python3
"""The sample app's own start-to-ready time, without lastgood in between.

Spawns `lastgood-sample --port P` (argv, no shell, loopback), polls GET /healthz every 1 ms
until it answers 200, and records the time from just before the spawn to that answer. This
is the floor a deployment's "run N ready instances" step is compared with. Then sends SIGTERM
and records the time until the process has exited: the floor of a "stop" step.

usage: own_ready.py SAMPLE_BINARY RUNS
  → prints "ready_median ready_min ready_max stop_median" (milliseconds) on one line
"""
import socket
import statistics
import subprocess
import sys
import time

POLL_S = 0.001
GIVE_UP_S = 10.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthz_ok(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            head = s.recv(64)
            return head.startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def one(binary):
    port = free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen([binary, "--port", str(port), "--label", "own"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not healthz_ok(port):
            if proc.poll() is not None or time.perf_counter() - t0 > GIVE_UP_S:
                raise SystemExit("sample app did not become ready on port %d" % port)
            time.sleep(POLL_S)
        ready = (time.perf_counter() - t0) * 1000.0
        t1 = time.perf_counter()
        proc.terminate()
        proc.wait(timeout=5)
        return ready, (time.perf_counter() - t1) * 1000.0
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main():
    binary, runs = sys.argv[1], int(sys.argv[2])
    one(binary)  # warm the page cache; not counted
    samples = [one(binary) for _ in range(runs)]
    times = [r for r, _ in samples]
    stops = [s for _, s in samples]
    print("%.1f %.1f %.1f %.1f" % (statistics.median(times), min(times), max(times),
                                   statistics.median(stops)))


if __name__ == "__main__":
    main()
