#!/usr/bin/env python3
"""What tracing costs an HTTP request, in instructions (issue #14): the bench service of
bench/http under `valgrind --tool=callgrind`, once without instrumentation and once with
`--opentelemetry-instrument` (always_on, traces + metrics over OTLP to an nginx sink). After a
warm-up the counters are zeroed, N keep-alive requests are sent one after the other, and the
counters are dumped: instructions per request, off and on, and the difference. Callgrind
counts instructions, not time, so the figure does not depend on what else the machine does
(the wall-clock ratio is http_overhead.py's).

  bench/telemetry/instructions.py [--requests 3000] [--build build]
"""

import argparse
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import http_overhead  # noqa: E402  (start_sink, run_bench's helpers)

run_bench = http_overhead.run_bench
REQUEST = b"GET /plaintext HTTP/1.1\r\nHost: bench\r\n\r\n"


def send_requests(port, count):
    with socket.create_connection(("127.0.0.1", port)) as conn:
        for _ in range(count):
            conn.sendall(REQUEST)
            answer = b""
            while b"Hello, World!" not in answer:
                chunk = conn.recv(4096)
                if not chunk:
                    raise SystemExit("the service closed the connection")
                answer += chunk


def wait_listening(port, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("the service under valgrind did not start")


def measure(tomodachi, service_so, work, name, requests, extra_env, extra_args):
    port = run_bench.free_port()
    out = os.path.join(work, "callgrind.{}.out".format(name))
    env = dict(os.environ, BENCH_PORT=str(port), BENCH_KEEPALIVE="75", **extra_env)
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, tomodachi, "run", "--production",
               "--logger", "json", *extra_args, service_so]
    with open(os.path.join(work, name + ".log"), "w") as log:
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)
    try:
        wait_listening(port)
        send_requests(port, 500)  # warm-up: caches, first series, first exports
        subprocess.run(["callgrind_control", "-z", str(proc.pid)], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        send_requests(port, requests)
        subprocess.run(["callgrind_control", "-d", str(proc.pid)], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(120)
    dumps = sorted(glob.glob(out + ".*"))
    if not dumps:
        raise SystemExit("no callgrind dump for " + name)
    with open(dumps[0]) as dump:
        for line in dump:
            match = re.match(r"(?:summary|totals): (\d+)", line)
            if match:
                return int(match.group(1)) / requests
    raise SystemExit("no totals in " + dumps[0])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--build", default=os.path.join(run_bench.ROOT, "build"))
    args = parser.parse_args()
    for tool in ("valgrind", "callgrind_control"):
        if not shutil.which(tool):
            raise SystemExit("{} is needed (Debian package valgrind)".format(tool))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    tomodachi = os.path.join(args.build, "bin", "tomodachi")
    work = tempfile.mkdtemp(prefix="tomodachi-bench-otel-ir-")
    sink = None
    try:
        service_so = run_bench.build_service(tomodachi, work, "bench_service.so")
        sink, sink_port, _ = http_overhead.start_sink(nginx, work)
        otel_env = {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_METRICS_EXPORTER": "otlp", "OTEL_LOGS_EXPORTER": "none",
                    "OTEL_TRACES_SAMPLER": "always_on",
                    "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:{}".format(sink_port)}
        off = measure(tomodachi, service_so, work, "off", args.requests, {}, [])
        on = measure(tomodachi, service_so, work, "on", args.requests, otel_env, ["--opentelemetry-instrument"])
    finally:
        if sink:
            sink.send_signal(signal.SIGQUIT)
            sink.wait(30)
        shutil.rmtree(work, ignore_errors=True)
    print("instructions per keep-alive request (callgrind, {} requests after a warm-up of 500):".format(args.requests))
    print("  tracing off  {:>8.0f}".format(off))
    print("  tracing on   {:>8.0f}   (always_on, OTLP/protobuf export and the http.server.* metrics included)".format(on))
    print("  tracing adds {:>8.0f}   ({:.2f} x the untraced request)".format(on - off, on / off))
    return 0


if __name__ == "__main__":
    sys.exit(main())
