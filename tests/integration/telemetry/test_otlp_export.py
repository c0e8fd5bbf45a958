"""OTLP export checked by an independent decoder (Python stdlib driver).

otlp_export_tool (C++, src/telemetry) exports a span tree, log records and metrics to
otlp_receiver.mjs, which decodes them with the official OTLP definitions shipped in the
npm package @opentelemetry/otlp-transformer (pinned in tests/peers/package-lock.json) — not
with tomodachi's own .proto, so a wrong field number cannot pass on both sides. Runs for
http/protobuf (plain and gzip) and http/json.
"""

import fcntl
import filecmp
import json
import os
import shutil
import subprocess
import sys
import threading
import unittest

SOURCE = os.environ.get("TOMODACHI_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "../../..")))
BUILD = os.environ.get("TOMODACHI_BUILD_DIR", os.path.join(SOURCE, "build"))
PEERS = os.environ.get("TOMODACHI_TEST_PEERS_DIR", os.path.join(BUILD, "test-peers"))
TOOL = os.path.join(BUILD, "bin", "otlp_export_tool")
RECEIVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "otlp_receiver.mjs")
ROOT_JS = "node_modules/@opentelemetry/otlp-transformer/build/src/generated/root.js"


def npm_modules():
    """`npm ci` of tests/peers (the same lockfile as fauxqs.sh installs) into its own dir."""
    lock_source = os.path.join(SOURCE, "tests", "peers")
    target = os.path.join(PEERS, "npm-telemetry")
    os.makedirs(target, exist_ok=True)
    with open(os.path.join(target, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        lock_copy = os.path.join(target, "package-lock.json")
        if not (os.path.exists(lock_copy) and filecmp.cmp(lock_copy, os.path.join(lock_source, "package-lock.json"), shallow=False)
                and os.path.exists(os.path.join(target, ROOT_JS))):
            for name in ("package.json", "package-lock.json"):
                shutil.copy(os.path.join(lock_source, name), target)
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=target, check=True,
                           stdout=subprocess.DEVNULL)
    return os.path.join(target, "node_modules")


class Receiver:
    def __init__(self, modules):
        self.proc = subprocess.Popen(["node", RECEIVER, modules], stdout=subprocess.PIPE, text=True)
        first = self.proc.stdout.readline().split()
        assert first and first[0] == "LISTENING", first
        self.port = int(first[1])
        self.entries = []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            with self.cond:
                self.entries.append(json.loads(line))
                self.cond.notify_all()

    def wait_for(self, count, timeout=20):
        with self.cond:
            self.cond.wait_for(lambda: len(self.entries) >= count, timeout)
            return list(self.entries)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.proc.stdout.close()


def attrs(items):
    out = {}
    for kv in items or []:
        value = kv["value"]
        (kind, v), = value.items()
        out[kv["key"]] = v if kind != "arrayValue" else [x.get("stringValue") for x in v.get("values", [])]
    return out


class OtlpExportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.modules = npm_modules()

    def export(self, protocol, compression="none"):
        receiver = Receiver(self.modules)
        self.addCleanup(receiver.stop)
        env = dict(os.environ)
        env.update({
            "OTEL_TRACES_EXPORTER": "otlp", "OTEL_LOGS_EXPORTER": "otlp", "OTEL_METRICS_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{receiver.port}",
            "OTEL_EXPORTER_OTLP_PROTOCOL": protocol, "OTEL_EXPORTER_OTLP_COMPRESSION": compression,
            "OTEL_EXPORTER_OTLP_HEADERS": "x-api-key=k%3D1", "OTEL_TRACES_SAMPLER": "always_on",
            "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=test",
        })
        done = subprocess.run([TOOL], env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)
        made = json.loads(done.stdout.strip().splitlines()[-1])
        entries = receiver.wait_for(3)
        by_path = {e["path"]: e for e in entries}
        self.assertEqual(set(by_path), {"/v1/traces", "/v1/logs", "/v1/metrics"}, entries)
        for e in entries:
            self.assertNotIn("error", e, e)
            self.assertEqual(e["method"], "POST")
            self.assertFalse(e["chunked"])
            self.assertTrue(e["contentLength"].isdigit())
            self.assertEqual(e["apiKey"], "k=1")
            self.assertEqual(e["contentEncoding"], "gzip" if compression == "gzip" else "")
        return made, by_path

    def check_traces(self, made, body):
        resource_spans = body["resourceSpans"]
        self.assertEqual(len(resource_spans), 1)
        resource = attrs(resource_spans[0]["resource"]["attributes"])
        self.assertEqual(resource["service.name"], "orders")
        self.assertEqual(resource["service.instance.id"], "11111111-2222-3333-4444-555555555555")
        self.assertEqual(resource["deployment.environment"], "test")
        self.assertEqual(resource["telemetry.sdk.language"], "cpp")
        scope_spans = resource_spans[0]["scopeSpans"][0]
        self.assertEqual(scope_spans["scope"]["name"], "tomodachi")
        spans = {s["name"]: s for s in scope_spans["spans"]}
        self.assertEqual(set(spans), {"orders.created process", "GET /resource/(?P<id>[^/]+?)/?", "lookup", "every_minute"})
        consumer = spans["orders.created process"]
        self.assertEqual(consumer["traceId"], "0af7651916cd43dd8448eb211c80319c")
        self.assertEqual(consumer["parentSpanId"], "b7ad6b7169203331")
        self.assertEqual(consumer["spanId"], made["consumer_span_id"])
        self.assertEqual(consumer["kind"], 5)
        self.assertEqual(attrs(consumer["attributes"])["messaging.system"], "rabbitmq")
        self.assertEqual(int(consumer["flags"]) & 0x301, 0x301)  # sampled, parent is remote
        server = spans["GET /resource/(?P<id>[^/]+?)/?"]
        self.assertEqual(server["kind"], 2)
        self.assertEqual(server["traceId"], made["server_trace_id"])
        self.assertEqual(server["spanId"], made["server_span_id"])
        self.assertNotIn("parentSpanId", server)
        server_attrs = attrs(server["attributes"])
        self.assertEqual(server_attrs["http.request.method"], "GET")
        self.assertEqual(str(server_attrs["http.response.status_code"]), "500")
        self.assertEqual(server_attrs["http.route"], "/resource/(?P<id>[^/]+?)/?")  # set via current_span()
        self.assertEqual(server["status"]["code"], 2)
        exception = server["events"][0]
        self.assertEqual(exception["name"], "exception")
        self.assertEqual(attrs(exception["attributes"])["exception.message"], "boom")
        child = spans["lookup"]
        self.assertEqual(child["kind"], 3)
        self.assertEqual(child["traceId"], server["traceId"])
        self.assertEqual(child["parentSpanId"], server["spanId"])
        self.assertEqual(child["spanId"], made["child_span_id"])
        self.assertEqual(str(attrs(child["attributes"])["db.rows"]), "3")
        self.assertEqual(child["events"][0]["name"], "cache miss")
        schedule = spans["every_minute"]
        self.assertEqual(schedule["kind"], 1)
        self.assertNotIn("parentSpanId", schedule)
        self.assertNotEqual(schedule["traceId"], server["traceId"])
        for s in spans.values():
            self.assertGreaterEqual(int(s["endTimeUnixNano"]), int(s["startTimeUnixNano"]))
            self.assertGreater(int(s["startTimeUnixNano"]), 1_600_000_000 * 10**9)

    def check_logs(self, made, body):
        records = body["resourceLogs"][0]["scopeLogs"][0]["logRecords"]
        handled = [r for r in records if r["body"]["stringValue"] == "handled request"]
        self.assertEqual(len(handled), 1, records)
        record = handled[0]
        self.assertEqual(record["severityNumber"], 9)
        self.assertEqual(record["traceId"], made["server_trace_id"])
        self.assertEqual(record["spanId"], made["server_span_id"])
        self.assertEqual(attrs(record["attributes"])["logger"], "tomodachi")

    def check_metrics(self, made, body):
        self.assertTrue(made["metrics_ok"])
        resource = attrs(body["resourceMetrics"][0]["resource"]["attributes"])
        self.assertEqual(resource["service.instance.id"], "11111111-2222-3333-4444-555555555555")
        metrics = {m["name"]: m for m in body["resourceMetrics"][0]["scopeMetrics"][0]["metrics"]}
        histogram = metrics["http.server.duration"]
        self.assertEqual(histogram["unit"], "s")
        point = histogram["histogram"]["dataPoints"][0]
        self.assertEqual(histogram["histogram"]["aggregationTemporality"], 2)
        self.assertEqual(str(point["count"]), "2")
        self.assertEqual([float(b) for b in point["explicitBounds"]],
                         [0, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10])
        self.assertEqual([int(c) for c in point["bucketCounts"]][7:9], [1, 1])
        self.assertIs(attrs(point["attributes"])["function.success"], True)
        active = metrics["http.server.active_requests"]["sum"]
        self.assertEqual(active["aggregationTemporality"], 2)
        self.assertEqual(str(active["dataPoints"][0]["asInt"]), "1")

    def check_all(self, protocol, compression="none"):
        made, by_path = self.export(protocol, compression)
        expected_type = "application/json" if protocol == "http/json" else "application/x-protobuf"
        for e in by_path.values():
            self.assertEqual(e["contentType"], expected_type)
        self.check_traces(made, by_path["/v1/traces"]["body"])
        self.check_logs(made, by_path["/v1/logs"]["body"])
        self.check_metrics(made, by_path["/v1/metrics"]["body"])

    def test_protobuf(self):
        self.check_all("http/protobuf")

    def test_protobuf_gzip(self):
        self.check_all("http/protobuf", "gzip")

    def test_json(self):
        self.check_all("http/json")

    def test_grpc_is_a_start_up_error(self):
        env = dict(os.environ, OTEL_TRACES_EXPORTER="otlp", OTEL_EXPORTER_OTLP_PROTOCOL="grpc")
        done = subprocess.run([TOOL], env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 2)
        self.assertIn("OTEL_EXPORTER_OTLP_PROTOCOL", done.stderr)
        self.assertIn("4318", done.stderr)

    def test_console_exporter_prints_otlp_json(self):
        env = dict(os.environ, OTEL_TRACES_EXPORTER="console", OTEL_LOGS_EXPORTER="none")
        done = subprocess.run([TOOL], env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)
        batches = [json.loads(line) for line in done.stdout.splitlines() if line.startswith('{"resourceSpans"')]
        self.assertEqual(len(batches), 1, done.stdout)
        names = {s["name"] for s in batches[0]["resourceSpans"][0]["scopeSpans"][0]["spans"]}
        self.assertIn("lookup", names)

    def test_console_metrics_exporter_prints_otlp_json(self):
        env = dict(os.environ, OTEL_TRACES_EXPORTER="none", OTEL_LOGS_EXPORTER="none",
                   OTEL_METRICS_EXPORTER="console")
        done = subprocess.run([TOOL], env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)
        batches = [json.loads(line) for line in done.stdout.splitlines() if line.startswith('{"resourceMetrics"')]
        self.assertEqual(len(batches), 1, done.stdout)
        metrics = {m["name"]: m for m in batches[0]["resourceMetrics"][0]["scopeMetrics"][0]["metrics"]}
        self.assertEqual(set(metrics), {"http.server.duration", "http.server.active_requests"})
        point = metrics["http.server.duration"]["histogram"]["dataPoints"][0]
        self.assertEqual(point["count"], "2")  # uint64 as a JSON string (the OTLP JSON mapping)
        self.assertNotIn("resourceSpans", done.stdout)

    def test_collector_down_costs_a_log_line(self):
        env = dict(os.environ, OTEL_TRACES_EXPORTER="otlp", OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9",
                   OTEL_EXPORTER_OTLP_TIMEOUT="0.5", OTEL_BSP_EXPORT_TIMEOUT="1000")
        done = subprocess.run([TOOL], env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)
        output = done.stdout + done.stderr
        self.assertEqual(output.count("opentelemetry export failed"), 1, output)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]] + [a for a in sys.argv[1:] if a != "-v"], verbosity=2)
