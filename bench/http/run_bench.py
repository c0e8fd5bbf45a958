#!/usr/bin/env python3
"""HTTP benchmark: wrk against the tomodachi bench service and nginx returning the same
bytes, one worker each, access logs off, in the same run; keep-alive on (service
keepalive_timeout 75, nginx keepalive_timeout 75) and off (`Connection: close` on every
request). Prints req/s, p50/p99 latency and the ratio to nginx; exits 1 when a bar fails
(keep-alive plaintext >= 0.6 x nginx req/s, keep-alive p99 <= 2 x nginx's on every
endpoint, no errors anywhere).

  bench/http/run_bench.py [--duration 10] [--connections 50] [--build build] [--rounds 3]
                          [--baseline-build DIR] [--endpoints plaintext,json,...] [--modes keep-alive,close]

--baseline-build DIR adds a second tomodachi build (e.g. an older commit's build/) to the same
run: each round measures this build, the baseline and nginx one after the other, and a second
table gives this build's median req/s and p50 against the baseline's (exit 1 when an endpoint
is more than --max-slowdown percent slower, default 5).
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


def build_service(tomodachi, work, name):
    service_so = os.path.join(work, name)
    subprocess.run([tomodachi, "build", os.path.join(ROOT, "bench", "http", "bench_service.cpp"), "-o", service_so],
                   check=True, stdout=subprocess.DEVNULL)
    return service_so


def start_service(tomodachi, service_so, port, keep_alive, extra_env=None, extra_args=(), stderr=None,
                  logger="disabled"):
    env = dict(os.environ, BENCH_PORT=str(port), BENCH_KEEPALIVE="75" if keep_alive else "0", **(extra_env or {}))
    command = [tomodachi, "run", "--production", "--logger", logger, *extra_args, service_so]
    return subprocess.Popen(TASKSET_SERVER + command, env=env, stdout=subprocess.DEVNULL,
                            stderr=stderr if stderr is not None else subprocess.DEVNULL)


def print_baseline(results, baseline, max_slowdown, failures):
    print()
    print("this build against the baseline (median req/s and p50 of the same alternating rounds)")
    print("(ratio: of the medians; paired: median of the rounds' this/baseline ratios)")
    print("{:<14} {:<12} {:>12} {:>12} {:>8} {:>8} {:>9} {:>9}".format(
        "mode", "endpoint", "this/s", "baseline/s", "ratio", "paired", "p50 ms", "p50 base"))
    for key, (ours, _) in results.items():
        base = baseline[key]
        ratio = ours["rps"] / base["rps"] if base["rps"] else 0.0
        print("{:<14} {:<12} {:>12.0f} {:>12.0f} {:>8.3f} {:>8.3f} {:>9.3f} {:>9.3f}".format(
            key[0], key[1], ours["rps"], base["rps"], ratio, base["paired"], ours["p50"], base["p50"]))
        if ratio < 1.0 - max_slowdown / 100.0:
            failures.append("{} {}: {:.1f} % slower than the baseline".format(key[0], key[1], 100 * (1 - ratio)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternating measurements per endpoint; the median is reported")
    parser.add_argument("--baseline-build", help="a second tomodachi build dir measured in the same rounds")
    parser.add_argument("--max-slowdown", type=float, default=5.0,
                        help="with --baseline-build: percent of req/s below the baseline that fails")
    parser.add_argument("--endpoints", help="comma-separated names (plaintext,json,regex param); default all")
    parser.add_argument("--modes", default="keep-alive,close", help="keep-alive, close or both")
    args = parser.parse_args()
    endpoints = ENDPOINTS
    if args.endpoints:
        wanted = args.endpoints.split(",")
        endpoints = [(name, path) for name, path in ENDPOINTS if name in wanted]
    modes = [mode == "keep-alive" for mode in args.modes.split(",")]

    for tool in ("wrk", "nginx"):
        if not shutil.which(tool) and not os.path.exists("/usr/sbin/" + tool):
            raise SystemExit("{} is not installed (scripts/install-deps.sh test)".format(tool))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    tomodachi = os.path.join(args.build, "bin", "tomodachi")
    work = tempfile.mkdtemp(prefix="tomodachi-bench-http-")
    service_so = build_service(tomodachi, work, "bench_service.so")
    base_tomodachi = base_so = None
    if args.baseline_build:
        base_tomodachi = os.path.join(args.baseline_build, "bin", "tomodachi")
        base_so = build_service(base_tomodachi, work, "bench_service_baseline.so")

    results = {}
    baseline = {}
    failures = []
    try:
        for keep_alive in modes:
            mode = "keep-alive" if keep_alive else "no keep-alive"
            # tomodachi (and the baseline build)
            port = free_port()
            service = start_service(tomodachi, service_so, port, keep_alive)
            base_port = free_port() if base_tomodachi else None
            base_service = start_service(base_tomodachi, base_so, base_port, keep_alive) if base_tomodachi else None
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
                if base_port:
                    wait_listening(base_port)
                wait_listening(nginx_port)
                for name, path in endpoints:
                    run_wrk(port, path, 1, args.connections, keep_alive)  # warm-up
                    if base_port:
                        run_wrk(base_port, path, 1, args.connections, keep_alive)
                    run_wrk(nginx_port, path, 1, args.connections, keep_alive)
                    ours_runs, base_runs, theirs_runs = [], [], []
                    for round_index in range(args.rounds):  # alternate, so all see the same machine load
                        # The order of this build and the baseline swaps every round.
                        order = [(port, ours_runs), (base_port, base_runs)] if base_port else [(port, ours_runs)]
                        if round_index % 2:
                            order.reverse()
                        for target_port, runs in order:
                            runs.append(run_wrk(target_port, path, args.duration, args.connections, keep_alive))
                        theirs_runs.append(run_wrk(nginx_port, path, args.duration, args.connections, keep_alive))
                    results[(mode, name)] = (median_run(ours_runs), median_run(theirs_runs))
                    if base_port:
                        baseline[(mode, name)] = median_run(base_runs)
                        # Each round's pair ran back to back: their ratio shares the load of the moment.
                        ratios = sorted(o["rps"] / b["rps"] for o, b in zip(ours_runs, base_runs) if b["rps"])
                        baseline[(mode, name)]["paired"] = ratios[len(ratios) // 2] if ratios else 0.0
            finally:
                for proc in (service, base_service):
                    if proc:
                        proc.send_signal(signal.SIGTERM)
                nginx_proc.send_signal(signal.SIGQUIT)
                for proc in (service, base_service, nginx_proc):
                    if proc:
                        proc.wait(30)
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
    if baseline:
        print_baseline(results, baseline, args.max_slowdown, failures)
    if failures:
        print("FAILED bars: " + "; ".join(failures))
        return 1
    print("bars met: keep-alive plaintext >= 0.6 x nginx req/s, keep-alive p99 <= 2 x nginx on every endpoint, "
          "0 errors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
