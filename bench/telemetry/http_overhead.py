#!/usr/bin/env python3
"""Tracing overhead on HTTP (issue #14): the bench service of bench/http run twice in the same
rounds, once without instrumentation and once with `--opentelemetry-instrument`,
OTEL_TRACES_SAMPLER=always_on and traces + metrics exported over OTLP/HTTP (protobuf) to an
nginx that answers `return 200` on loopback, so no decoder competes for the two cores. wrk -t1
against each in alternating rounds (the order swaps every round); prints req/s, p50/p99 and the
on/off ratio per endpoint, the spans the exporter dropped (queue full) and the export requests
nginx received. Exit 1 when tracing costs more than --max-overhead percent of req/s (default 15,
the issue's bar) or a request failed.

  bench/telemetry/http_overhead.py [--duration 10] [--connections 50] [--rounds 3] [--build build]
                                   [--endpoints plaintext,json] [--modes keep-alive,close]
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "http"))
import run_bench  # noqa: E402  (free_port, wait_listening, run_wrk, median_run, build/start_service)

SINK_CONF = """
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log error;
events {{ worker_connections 1024; }}
http {{
  log_format count '$request_uri $request_length';
  access_log {dir}/access.log count;
  client_max_body_size 64m;
  client_body_buffer_size 1m;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  server {{
    listen 127.0.0.1:{port};
    location / {{ default_type "application/x-protobuf"; return 200 ""; }}
  }}
}}
"""


def start_sink(nginx, work):
    port = run_bench.free_port()
    sink_dir = os.path.join(work, "otlp-sink")
    os.makedirs(sink_dir)
    with open(os.path.join(sink_dir, "nginx.conf"), "w") as conf:
        conf.write(SINK_CONF.format(dir=sink_dir, port=port))
    # The sink shares wrk's CPU: the server under test keeps CPU 1 to itself.
    proc = subprocess.Popen(run_bench.TASKSET_CLIENT + [nginx, "-p", sink_dir, "-c", os.path.join(sink_dir, "nginx.conf")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run_bench.wait_listening(port)
    return proc, port, os.path.join(sink_dir, "access.log")


def sink_counts(access_log):
    counts = {}
    if os.path.exists(access_log):
        with open(access_log) as log:
            for line in log:
                uri = line.split(" ", 1)[0]
                counts[uri] = counts.get(uri, 0) + 1
    return counts


def dropped_spans(log_path):
    dropped = 0
    with open(log_path, errors="replace") as log:
        for line in log:
            if "opentelemetry queue full" not in line:
                continue
            try:
                dropped += int(json.loads(line).get("dropped", 0))
            except ValueError:
                pass
    return dropped


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--build", default=os.path.join(run_bench.ROOT, "build"))
    parser.add_argument("--endpoints", help="comma-separated names (plaintext,json,regex param); default all")
    parser.add_argument("--modes", default="keep-alive,close", help="keep-alive, close or both")
    parser.add_argument("--max-overhead", type=float, default=15.0, help="percent of req/s tracing may cost")
    args = parser.parse_args()
    endpoints = run_bench.ENDPOINTS
    if args.endpoints:
        wanted = args.endpoints.split(",")
        endpoints = [(name, path) for name, path in run_bench.ENDPOINTS if name in wanted]
    modes = [mode == "keep-alive" for mode in args.modes.split(",")]
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not shutil.which("wrk") or not os.path.exists(nginx):
        raise SystemExit("wrk and nginx are needed (scripts/install-deps.sh test)")

    tomodachi = os.path.join(args.build, "bin", "tomodachi")
    work = tempfile.mkdtemp(prefix="tomodachi-bench-otel-")
    service_so = run_bench.build_service(tomodachi, work, "bench_service.so")
    sink, sink_port, sink_log = start_sink(nginx, work)
    otel_env = {
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_METRICS_EXPORTER": "otlp",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_TRACES_SAMPLER": "always_on",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:{}".format(sink_port),
        "OTEL_METRIC_EXPORT_INTERVAL": "5000",
    }
    results = {}
    failures = []
    dropped = 0
    try:
        for keep_alive in modes:
            mode = "keep-alive" if keep_alive else "no keep-alive"
            off_port, on_port = run_bench.free_port(), run_bench.free_port()
            off_log = open(os.path.join(work, "off-{}.log".format(mode)), "w")
            on_log_path = os.path.join(work, "on-{}.log".format(mode))
            on_log = open(on_log_path, "w")
            off = run_bench.start_service(tomodachi, service_so, off_port, keep_alive, stderr=off_log,
                                          logger="json")
            on = run_bench.start_service(tomodachi, service_so, on_port, keep_alive, extra_env=otel_env,
                                         extra_args=["--opentelemetry-instrument"], stderr=on_log, logger="json")
            try:
                run_bench.wait_listening(off_port)
                run_bench.wait_listening(on_port)
                for name, path in endpoints:
                    run_bench.run_wrk(off_port, path, 1, args.connections, keep_alive)  # warm-up
                    run_bench.run_wrk(on_port, path, 1, args.connections, keep_alive)
                    off_runs, on_runs = [], []
                    for round_index in range(args.rounds):
                        order = [(off_port, off_runs), (on_port, on_runs)]
                        if round_index % 2:
                            order.reverse()
                        for port, runs in order:
                            runs.append(run_bench.run_wrk(port, path, args.duration, args.connections, keep_alive))
                    paired = sorted(n["rps"] / f["rps"] for n, f in zip(on_runs, off_runs) if f["rps"])
                    results[(mode, name)] = (run_bench.median_run(off_runs), run_bench.median_run(on_runs),
                                             paired[len(paired) // 2] if paired else 0.0)
            finally:
                for proc in (off, on):
                    proc.send_signal(signal.SIGTERM)
                for proc in (off, on):
                    proc.wait(30)
                off_log.close()
                on_log.close()
            dropped += dropped_spans(on_log_path)
    finally:
        sink.send_signal(signal.SIGQUIT)
        sink.wait(30)
        exports = sink_counts(sink_log)
        shutil.rmtree(work, ignore_errors=True)

    print("tracing overhead: wrk -t1 -c{} -d{}s, median of {} alternating rounds; on = --opentelemetry-instrument, "
          "always_on, OTLP/protobuf to nginx return 200".format(args.connections, args.duration, args.rounds))
    print("{:<14} {:<12} {:>10} {:>10} {:>7} {:>7} {:>8} {:>8} {:>8} {:>8}".format(
        "mode", "endpoint", "off/s", "on/s", "ratio", "paired", "p50 off", "p50 on", "p99 off", "p99 on"))
    for (mode, name), (off, on, paired) in results.items():
        ratio = on["rps"] / off["rps"] if off["rps"] else 0.0
        print("{:<14} {:<12} {:>10.0f} {:>10.0f} {:>7.3f} {:>7.3f} {:>8.3f} {:>8.3f} {:>8.3f} {:>8.3f}".format(
            mode, name, off["rps"], on["rps"], ratio, paired, off["p50"], on["p50"], off["p99"], on["p99"]))
        if off["errors"] or on["errors"]:
            failures.append("{} {}: {} errors off, {} on".format(mode, name, off["errors"], on["errors"]))
        if paired < 1.0 - args.max_overhead / 100.0:
            failures.append("{} {}: tracing costs {:.1f} % of req/s".format(mode, name, 100 * (1 - paired)))
    print("export requests received by the sink: {}; spans dropped by a full queue: {}".format(
        ", ".join("{} {}".format(uri, count) for uri, count in sorted(exports.items())) or "none", dropped))
    if failures:
        print("FAILED bars: " + "; ".join(failures))
        return 1
    print("bar met: tracing on costs at most {:.0f} % of req/s on every endpoint, 0 errors".format(args.max_overhead))
    return 0


if __name__ == "__main__":
    sys.exit(main())
