#!/usr/bin/env python3
"""AMQP throughput: the tomodachi service against a bare rabbitmq-c pair, same broker, same run.

End to end: publish N JsonBase messages (non-persistent, confirms pipelined with at most
256 in flight) -> consume with prefetch 100 -> ack each. Also the publish-only rate.

    bench/amqp/run.py [--count 100000] [--rounds 3] [--build build] [--tracing]

--tracing adds, in every round, the one-service end-to-end run with OpenTelemetry on
(TOMODACHI_OPENTELEMETRY_INSTRUMENT, always_on, traces + metrics over OTLP to an nginx that
answers 200 on loopback) and prints the traced / untraced ratio (issue #14's overhead run).

Starts a throw-away RabbitMQ (scripts/test-peers/rabbitmq.sh) unless --peers-dir points at a
running one. Prints each measurement, the medians and the ratios (tomodachi / bare).
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

SOURCE = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def peer_env(peers_dir):
    values = {}
    with open(os.path.join(peers_dir, "rabbitmq", "env")) as f:
        for line in f:
            if "=" in line:
                key, value = line.strip().split("=", 1)
                values[key] = value
    return values


def bare(build, port, mode, count, body_bytes):
    out = subprocess.run([os.path.join(build, "bin", "amqp_bare_pair"), "127.0.0.1", str(port), mode, str(count),
                          str(body_bytes)], capture_output=True, text=True, check=True, timeout=900).stdout
    return float(out.split(":")[1].split()[0])


def bare_admin(build, port, action, queue, key="-"):
    subprocess.run([os.path.join(build, "bin", "amqp_bare_pair"), "127.0.0.1", str(port), action, queue, key],
                   check=True, capture_output=True, timeout=60)


def service(build, port, mode, count, envelope="json_base", extra_env=None):
    tag = "%08d" % random.randrange(10 ** 8)
    config = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    json.dump({"options": {"amqp": {"port": port}}}, config)
    config.close()
    if mode == "publish":
        bare_admin(build, port, "bind", "bench-" + tag, "bench." + tag)
    env = dict(os.environ, BENCH_MODE=mode, BENCH_COUNT=str(count), BENCH_TAG=tag, BENCH_ENVELOPE=envelope,
               NO_COLOR="1", **(extra_env or {}))
    result = subprocess.run([os.path.join(build, "bin", "amqp_service_bench"), "--production", "--logger", "json",
                             "-c", config.name], capture_output=True, text=True, timeout=900, env=env)
    os.unlink(config.name)
    bare_admin(build, port, "delete", "bench-" + tag)
    for line in result.stderr.splitlines():
        if line.startswith("{") and '"amqp bench"' in line:
            record = json.loads(line)
            return record["rate"], record["payload_bytes"]
    raise RuntimeError("the service benchmark failed:\n" + result.stderr[-3000:])


def service_pair(build, port, count):
    """A consumer service and a publisher service in two processes; N / (last handled - first published)."""
    tag = "%08d" % random.randrange(10 ** 8)
    config = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    json.dump({"options": {"amqp": {"port": port}}}, config)
    config.close()
    binary = os.path.join(build, "bin", "amqp_service_bench")
    common = dict(os.environ, BENCH_COUNT=str(count), BENCH_TAG=tag, NO_COLOR="1")
    log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
    consumer = subprocess.Popen([binary, "--production", "--logger", "json", "-c", config.name],
                                stdout=subprocess.DEVNULL, stderr=log, env=dict(common, BENCH_MODE="consume"))
    try:
        deadline = time.time() + 120
        while "amqp bench ready" not in open(log.name).read():
            if consumer.poll() is not None or time.time() > deadline:
                raise RuntimeError("the consumer service did not start:\n" + open(log.name).read()[-3000:])
            time.sleep(0.05)
        producer = subprocess.run([binary, "--production", "--logger", "json", "-c", config.name], capture_output=True,
                                  text=True, timeout=900, env=dict(common, BENCH_MODE="produce"))
        consumer.wait(timeout=900)
    finally:
        if consumer.poll() is None:
            consumer.kill()
    start = [json.loads(l)["start_time"] for l in producer.stderr.splitlines() if '"amqp bench start"' in l]
    end = [json.loads(l)["end_time"] for l in open(log.name).read().splitlines() if '"amqp bench"' in l]
    os.unlink(config.name)
    os.unlink(log.name)
    bare_admin(build, port, "delete", "bench-" + tag)
    if not start or not end:
        raise RuntimeError("the service pair benchmark failed:\n" + producer.stderr[-3000:])
    return count / (end[0] - start[0])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--build", default=os.path.join(SOURCE, "build"))
    parser.add_argument("--peers-dir", default=None, help="a running test RabbitMQ (scripts/test-peers/rabbitmq.sh)")
    parser.add_argument("--tracing", action="store_true", help="also the end-to-end run with tracing on")
    args = parser.parse_args()
    args.build = os.path.abspath(args.build)

    own_broker = args.peers_dir is None
    peers_dir = args.peers_dir or os.path.join(args.build, "bench-peers")
    script = os.path.join(SOURCE, "scripts", "test-peers", "rabbitmq.sh")
    if own_broker:
        subprocess.run([script, "start", peers_dir], check=True)
    sink = None
    traced_env = None
    if args.tracing:
        sys.path.insert(0, os.path.join(SOURCE, "bench", "telemetry"))
        import http_overhead  # the nginx OTLP sink
        sink_work = tempfile.mkdtemp(prefix="tomodachi-bench-amqp-otel-")
        nginx = http_overhead.shutil.which("nginx") or "/usr/sbin/nginx"
        sink, sink_port, _ = http_overhead.start_sink(nginx, sink_work)
        traced_env = {"TOMODACHI_OPENTELEMETRY_INSTRUMENT": "1", "OTEL_TRACES_EXPORTER": "otlp",
                      "OTEL_METRICS_EXPORTER": "otlp", "OTEL_LOGS_EXPORTER": "none", "OTEL_TRACES_SAMPLER": "always_on",
                      "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:%d" % sink_port}
    try:
        port = int(peer_env(peers_dir)["TOMODACHI_TEST_AMQP_PORT"])
        # The payload size of the service's JsonBase messages, for the bare pair's bodies.
        _, body_bytes = service(args.build, port, "e2e", 1000)
        results = {"bare e2e": [], "tomodachi e2e": [], "tomodachi pair e2e": [], "bare publish": [],
                   "tomodachi publish": [], "tomodachi e2e raw": []}
        if args.tracing:
            results["tomodachi e2e traced"] = []
        for round_number in range(args.rounds):
            results["bare e2e"].append(bare(args.build, port, "e2e", args.count, body_bytes))
            results["tomodachi e2e"].append(service(args.build, port, "e2e", args.count)[0])
            results["tomodachi pair e2e"].append(service_pair(args.build, port, args.count))
            results["bare publish"].append(bare(args.build, port, "publish", args.count, body_bytes))
            results["tomodachi publish"].append(service(args.build, port, "publish", args.count)[0])
            # Informational: the same service without an envelope (what JSON costs).
            results["tomodachi e2e raw"].append(service(args.build, port, "e2e", args.count, "raw")[0])
            if args.tracing:
                results["tomodachi e2e traced"].append(
                    service(args.build, port, "e2e", args.count, extra_env=traced_env)[0])
            print("round %d: %s" % (round_number + 1, ", ".join("%s %.0f msg/s" % (k, v[-1]) for k, v in results.items())),
                  flush=True)
        median = {k: statistics.median(v) for k, v in results.items()}
        print("N=%d messages of %d bytes (JsonBase), medians of %d rounds:" % (args.count, body_bytes, args.rounds))
        for key, value in median.items():
            print("  %-18s %8.0f msg/s" % (key, value))
        ratio = median["tomodachi e2e"] / median["bare e2e"]
        print("ratio end to end, one service publishing and consuming (tomodachi / bare pair): %.2f  (bar >= 0.70: %s)"
              % (ratio, "met" if ratio >= 0.7 else "MISSED"))
        pair_ratio = median["tomodachi pair e2e"] / median["bare e2e"]
        print("ratio end to end, publisher + consumer service in two processes (tomodachi pair / bare pair): %.2f"
              "  (bar >= 0.70: %s)" % (pair_ratio, "met" if pair_ratio >= 0.7 else "MISSED"))
        print("ratio publish only (tomodachi / bare): %.2f" % (median["tomodachi publish"] / median["bare publish"]))
        print("ratio end to end without envelope (informational): %.2f" % (median["tomodachi e2e raw"] / median["bare e2e"]))
        if args.tracing:
            print("ratio end to end with tracing on / off (bar >= 0.85): %.2f"
                  % (median["tomodachi e2e traced"] / median["tomodachi e2e"]))
        print("load average: %s" % " ".join("%.2f" % x for x in os.getloadavg()))
    finally:
        if sink:
            sink.terminate()
            sink.wait(30)
        if own_broker:
            subprocess.run([script, "stop", peers_dir], check=False)


if __name__ == "__main__":
    sys.exit(main())
