#!/usr/bin/env python3
"""Scheduler lateness under HTTP load (issue 4).

Starts build/bench/schedule/lateness_service.so under `tomodachi run`, loads its HTTP
responder with wrk for --duration seconds while a 1 s interval schedule runs on the same
loop, stops it and prints the lateness of the firings (median, p99, max) and the offset of
the last firing from start + k*1s, against the bars p99 <= 5 ms, max <= 20 ms, offset <= 5 ms.
The start is the immediate run's invocation_time (the bar's reference); the offset from the
wall-clock time the immediate run began is printed too (biased by that run's own lateness).
Exits 1 when a bar is missed.

    bench/schedule/run.py [--duration 120] [--connections 32] [--threads 1]
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("TOMODACHI_BUILD_DIR", os.path.join(ROOT, "build"))
BIN = os.environ.get("TOMODACHI_BIN", os.path.join(BUILD, "bin", "tomodachi"))
SERVICE = os.path.join(BUILD, "bench", "schedule", "lateness_service.so")

BARS = {"p99_ms": 5.0, "max_ms": 20.0, "last_firing_offset_ms": 5.0}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=120, help="seconds of load (default 120)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    args = parser.parse_args()

    records = []
    lock = threading.Lock()
    service = subprocess.Popen(
        [BIN, "run", "--production", "--logger", "json", SERVICE],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=dict(os.environ, BENCH_HTTP_PORT="0"),
    )

    def read():
        for line in service.stdout:
            try:
                record = json.loads(line)
            except ValueError:
                sys.stderr.write(line)
                continue
            with lock:
                records.append(record)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()

    def find(text, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with lock:
                for record in records:
                    if record.get("message") == text:
                        return record
            if service.poll() is not None:
                break
            time.sleep(0.05)
        service.kill()
        sys.exit("bench: no '{}' record from the service".format(text))

    def involuntary_switches():
        try:
            with open("/proc/{}/task/{}/status".format(service.pid, service.pid)) as status:
                for line in status:
                    if line.startswith("nonvoluntary_ctxt_switches:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0

    port = find("bench http listening", 30)["port"]
    find("started service successfully", 30)
    load_before = os.getloadavg()[0]
    switches_before = involuntary_switches()
    wrk = subprocess.run(
        ["wrk", "-t{}".format(args.threads), "-c{}".format(args.connections), "-d{}s".format(args.duration),
         "http://127.0.0.1:{}/".format(port)],
        capture_output=True,
        text=True,
        check=True,
    )
    preemptions = involuntary_switches() - switches_before
    load_after = os.getloadavg()[0]
    service.send_signal(signal.SIGTERM)
    service.wait(timeout=60)
    reader.join(timeout=5)
    summary = find("lateness summary", 1)

    requests_per_second = next(
        (line.split()[1] for line in wrk.stdout.splitlines() if line.startswith("Requests/sec:")), "?"
    )
    print("scheduler lateness, 1 s interval, {} s under HTTP load ({} connections, {} req/s, {} requests served)".format(
        args.duration, args.connections, requests_per_second, summary["http_requests"]))
    print("  machine: {} cores, load average {:.2f} before / {:.2f} after; the loop thread was preempted {} times".format(
        os.cpu_count(), load_before, load_after, preemptions))
    print("  firings               {:>8}".format(summary["firings"]))
    print("  median lateness       {:>8.3f} ms".format(summary["median_ms"]))
    print("  worst firings         {} ms".format(", ".join("{:.3f}".format(v) for v in summary["worst_ms"])))
    print("  immediate run late by {:>8.3f} ms; last-firing offset from that run's wall-clock start {:.3f} ms".format(
        summary["first_run_lateness_ms"], summary["last_firing_offset_from_first_run_ms"]))
    failed = []
    for key, label in (("p99_ms", "p99 lateness"), ("max_ms", "max lateness"),
                       ("last_firing_offset_ms", "last-firing offset")):
        value = summary[key]
        ok = abs(value) <= BARS[key]
        print("  {:<21} {:>8.3f} ms   bar {:>4.1f} ms   ratio {:.2f}   {}".format(
            label, value, BARS[key], abs(value) / BARS[key], "ok" if ok else "MISSED"))
        if not ok:
            failed.append(label)
    if failed:
        print("bars missed: " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
