#!/usr/bin/env python3
"""HTTP benchmark: wrk against the tomodachi bench service and nginx returning the same
bytes, one worker each, access logs off, in the same run; keep-alive on (service
keepalive_timeout 75, nginx keepalive_timeout 75) and off (`Connection: close` on every
request). Prints req/s, p50/p99 latency and the ratio to nginx; exits 1 when a bar fails
(keep-alive plaintext >= 0.6 x nginx req/s, keep-alive p99 <= 2 x nginx's on every
endpoint, no errors anywhere).

  bench/http/run_bench.py [--duration 10] [--connections 50] [--build build]
"""

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# Server on CPU 1, wrk on CPU 0 (both servers alike) when the machine has two CPUs or more.
TASKSET_SERVER = ["taskset", "-c", "1"] if (os.cpu_count() or 1) >= 2 and shutil.which("taskset") else []
TASKSET_CLIENT = ["taskset", "-c", "0"] if TASKSET_SERVER else []
ENDPOINTS = [("plaintext", "/plaintext"), ("json", "/json"), ("regex param", "/resource/4711")]
NGINX_CONF = """
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log error;
events {{ worker_connections 4096; multi_accept on; }}
http {{
  access_log off;
  keepalive_timeout {keepalive};
  keepalive_requests 1000000;
  server_tokens off;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  server {{
    listen 127.0.0.1:{port} reuseport;
    location = /plaintext {{ default_type "text/plain; charset=utf-8"; return 200 "Hello, World!"; }}
    location = /json {{ default_type "application/json; charset=utf-8"; return 200 '{{"message": "Hello, World!"}}'; }}
    location ~ ^/resource/(?<id>[^/]+?)/?$ {{ default_type "text/plain; charset=utf-8"; return 200 "id = $id"; }}
  }}
}}
"""


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_listening(port, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("server on port {} did not start".format(port))


def to_ms(text):
    match = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    if not match:
        return float("nan")
    value, unit = match.groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(port, path, duration, connections, keep_alive):
    command = TASKSET_CLIENT + ["wrk", "-t1", "-c{}".format(connections), "-d{}s".format(duration), "--latency"]
    if not keep_alive:
        command += ["-H", "Connection: close"]
    command.append("http://127.0.0.1:{}{}".format(port, path))
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps_match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not rps_match:
        raise SystemExit("unexpected wrk output:\n" + out)
    rps = float(rps_match.group(1))
    p50_match = re.search(r"50%\s+(\S+)", out)
    p99_match = re.search(r"99%\s+(\S+)", out)
    p50 = to_ms(p50_match.group(1)) if p50_match else float("nan")
    p99 = to_ms(p99_match.group(1)) if p99_match else float("nan")
    errors = 0
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if socket_errors:
        errors += sum(int(v) for v in socket_errors.groups())
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        errors += int(non2xx.group(1))
    return {"rps": rps, "p50": p50, "p99": p99, "errors": errors}


def median_run(runs):
    def median(values):
        values = sorted(values)
        return values[len(values) // 2]
    return {"rps": median([r["rps"] for r in runs]), "p50": median([r["p50"] for r in runs]),
            "p99": median([r["p99"] for r in runs]), "errors": sum(r["errors"] for r in runs)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternating measurements per endpoint; the median is reported")
    args = parser.parse_args()

    for tool in ("wrk", "nginx"):
        if not shutil.which(tool) and not os.path.exists("/usr/sbin/" + tool):
            raise SystemExit("{} is not installed (scripts/install-deps.sh test)".format(tool))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    tomodachi = os.path.join(args.build, "bin", "tomodachi")
    work = tempfile.mkdtemp(prefix="tomodachi-bench-http-")
    service_so = os.path.join(work, "bench_service.so")
    subprocess.run([tomodachi, "build", os.path.join(ROOT, "bench", "http", "bench_service.cpp"), "-o", service_so],
                   check=True, stdout=subprocess.DEVNULL)

    results = {}
    failures = []
    try:
        for keep_alive in (True, False):
            mode = "keep-alive" if keep_alive else "no keep-alive"
            # tomodachi
            port = free_port()
            env = dict(os.environ, BENCH_PORT=str(port), BENCH_KEEPALIVE="75" if keep_alive else "0")
            service = subprocess.Popen(TASKSET_SERVER + [tomodachi, "run", "--production", "--logger", "disabled", service_so],
                                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            # nginx
            nginx_port = free_port()
            nginx_dir = os.path.join(work, "nginx-" + ("ka" if keep_alive else "close"))
            os.makedirs(nginx_dir)
            with open(os.path.join(nginx_dir, "nginx.conf"), "w") as conf:
                conf.write(NGINX_CONF.format(dir=nginx_dir, port=nginx_port, keepalive=75 if keep_alive else 0))
            nginx_proc = subprocess.Popen(TASKSET_SERVER + [nginx, "-p", nginx_dir, "-c", os.path.join(nginx_dir, "nginx.conf")],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait_listening(port)
                wait_listening(nginx_port)
                for name, path in ENDPOINTS:
                    run_wrk(port, path, 1, args.connections, keep_alive)  # warm-up
                    run_wrk(nginx_port, path, 1, args.connections, keep_alive)
                    ours_runs, theirs_runs = [], []
                    for _ in range(args.rounds):  # alternate, so both see the same machine load
                        ours_runs.append(run_wrk(port, path, args.duration, args.connections, keep_alive))
                        theirs_runs.append(run_wrk(nginx_port, path, args.duration, args.connections, keep_alive))
                    results[(mode, name)] = (median_run(ours_runs), median_run(theirs_runs))
            finally:
                service.send_signal(signal.SIGTERM)
                nginx_proc.send_signal(signal.SIGQUIT)
                service.wait(30)
                nginx_proc.wait(30)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print("HTTP bench: wrk -t1 -c{} -d{}s, median of {} alternating rounds, one worker each, access logs off{}".format(
        args.connections, args.duration, args.rounds, ", servers on CPU 1, wrk on CPU 0" if TASKSET_SERVER else ""))
    print("{:<14} {:<12} {:>12} {:>12} {:>7} {:>9} {:>9} {:>9} {:>9} {:>7}".format(
        "mode", "endpoint", "tomodachi/s", "nginx/s", "ratio", "p50 ms", "p50 ngx", "p99 ms", "p99 ngx", "errors"))
    for (mode, name), (ours, theirs) in results.items():
        ratio = ours["rps"] / theirs["rps"] if theirs["rps"] else 0.0
        print("{:<14} {:<12} {:>12.0f} {:>12.0f} {:>7.2f} {:>9.3f} {:>9.3f} {:>9.3f} {:>9.3f} {:>7}".format(
            mode, name, ours["rps"], theirs["rps"], ratio, ours["p50"], theirs["p50"], ours["p99"], theirs["p99"],
            ours["errors"]))
        if ours["errors"]:
            failures.append("{} {}: {} errors".format(mode, name, ours["errors"]))
        if mode == "keep-alive" and name == "plaintext" and ratio < 0.6:
            failures.append("keep-alive plaintext req/s ratio {:.2f} < 0.6".format(ratio))
        if mode == "keep-alive" and ours["p99"] > 2 * theirs["p99"]:
            failures.append("keep-alive {} p99 {:.3f} ms > 2 x nginx {:.3f} ms".format(name, ours["p99"],
                                                                                     theirs["p99"]))
    if failures:
        print("FAILED bars: " + "; ".join(failures))
        return 1
    print("bars met: keep-alive plaintext >= 0.6 x nginx req/s, keep-alive p99 <= 2 x nginx on every endpoint, "
          "0 errors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
