"""OpenTelemetry wired into a real `tomodachi run --opentelemetry-instrument` process: HTTP
server spans, W3C trace context continued from request headers, trace ids in log records
(stderr and OTLP), http.server.* metrics and the exit flush — all read back from
tests/integration/telemetry/otlp_receiver.mjs, which decodes with the official OTLP
definitions from npm (@opentelemetry/otlp-transformer), not tomodachi's own .proto."""

import os
import re
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration", "telemetry"))
from http_support import ServiceProcess, get, request  # noqa: E402
from test_otlp_export import Receiver, attrs, npm_modules  # noqa: E402

SERVICE = "http_telemetry_service.so"

# A traceparent exactly as Python's TraceContextTextMapPropagator.inject writes it:
# "00-{trace_id:032x}-{span_id:016x}-{trace_flags:02x}" (version 00, lowercase, sampled).
PARENT_TRACE_ID = 0x4BF92F3577B34DA6A3CE929D0E0E4736
PARENT_SPAN_ID = 0x00F067AA0BA902B7
TRACEPARENT = "00-{:032x}-{:016x}-{:02x}".format(PARENT_TRACE_ID, PARENT_SPAN_ID, 0x01)
TRACESTATE = "congo=t61rcWkgMzE"
# upstream's log fields: Python hex(int) - "0x" + unpadded lowercase hex
HEX_FIELD = re.compile(r"^0x[0-9a-f]+$")


def kill(service):
    if service.proc.poll() is None:
        service.proc.kill()
    service.proc.wait()
    service.proc.stdout.close()


def spans_of(entries):
    out = []
    for e in entries:
        if e["path"] != "/v1/traces":
            continue
        for rs in e["body"]["resourceSpans"]:
            resource = attrs(rs["resource"]["attributes"])
            for ss in rs["scopeSpans"]:
                for span in ss["spans"]:
                    out.append((resource, span))
    return out


class TelemetryHttp(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.modules = npm_modules()

    def start(self, **env):
        receiver = Receiver(self.modules)
        self.addCleanup(receiver.stop)
        full = {
            "OTEL_TRACES_EXPORTER": "otlp", "OTEL_LOGS_EXPORTER": "otlp", "OTEL_METRICS_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{receiver.port}",
            "OTEL_PYTHON_TOMODACHI_EXCLUDED_URLS": "^/health",
            "OTEL_BSP_SCHEDULE_DELAY": "60000", "OTEL_METRIC_EXPORT_INTERVAL": "60000",
        }
        full.update(env)
        service = ServiceProcess(SERVICE, env=full, args=("--opentelemetry-instrument",))
        self.addCleanup(kill, service)
        try:
            port = service.port()
        except BaseException:
            receiver.stop()
            raise
        return receiver, service, port

    def test_http_spans_logs_and_metrics_reach_the_collector(self):
        receiver, service, port = self.start()
        reply = request(port, get("/resource/1234", f"traceparent: {TRACEPARENT}\r\ntracestate: {TRACESTATE}\r\n"
                                                   "User-Agent: otel-test\r\n"))
        self.assertEqual(reply.status, 200)
        self.assertIn(b"resource 1234", reply.body)
        request(port, get("/fail"))
        request(port, get("/health"))
        request(port, get("/nowhere?x=1"))
        # the record written in the handler carries the ids in upstream's form
        record = service.wait_for(lambda r: r.get("message") == "handling resource", 20)
        self.assertIsNotNone(record, service.output())
        self.assertEqual(record["trace_id"], hex(PARENT_TRACE_ID))
        self.assertEqual(record["parent_span_id"], hex(PARENT_SPAN_ID))
        self.assertRegex(record["span_id"], HEX_FIELD)
        self.assertEqual(record["handler_trace_id"], "%032x" % PARENT_TRACE_ID)
        # records outside a span carry none of them
        started = service.wait_for(lambda r: r.get("message") == "accepting http requests", 1)
        for key in ("trace_id", "span_id", "parent_span_id"):
            self.assertNotIn(key, started)
        # the flush at exit delivers the batches (schedule delays are 60 s)
        service.signal(signal.SIGTERM)
        self.assertEqual(service.proc.wait(40), 0, service.output())
        entries = receiver.wait_for(3)
        paths = {e["path"] for e in entries}
        self.assertEqual(paths, {"/v1/traces", "/v1/logs", "/v1/metrics"}, entries)
        for e in entries:
            self.assertNotIn("error", e, e)

        spans = spans_of(entries)
        names = sorted(s["name"] for _, s in spans)
        self.assertEqual(names, ["GET", "GET /fail", "GET /resource/(?P<id>[^/]+?)/?"], names)  # /health excluded
        by_name = {s["name"]: (r, s) for r, s in spans}
        resource, span = by_name["GET /resource/(?P<id>[^/]+?)/?"]
        self.assertEqual(resource["service.name"], "orders")
        self.assertTrue(resource["service.instance.id"])
        self.assertEqual(span["traceId"], "%032x" % PARENT_TRACE_ID)
        self.assertEqual(span["parentSpanId"], "%016x" % PARENT_SPAN_ID)
        self.assertEqual(span["traceState"], TRACESTATE)
        self.assertEqual(span["kind"], 2)  # SPAN_KIND_SERVER
        self.assertEqual(int(span["spanId"], 16), int(record["span_id"], 16))
        a = attrs(span["attributes"])
        self.assertEqual(a["http.request.method"], "GET")
        self.assertEqual(a["http.route"], "/resource/(?P<id>[^/]+?)/?")
        self.assertEqual(a["server.address"], "localhost")  # from "Host: localhost", as upstream
        self.assertEqual(int(a["server.port"]), 80)  # a Host without port: 80, as upstream
        self.assertEqual(a["url.scheme"], "http")
        self.assertEqual(a["url.path"], "/resource/1234")
        self.assertEqual(a["user_agent.original"], "otel-test")
        self.assertEqual(a["client.address"], "127.0.0.1")
        self.assertEqual(a["client.socket.address"], "127.0.0.1")
        self.assertEqual(a["server.socket.address"], "127.0.0.1")
        self.assertEqual(int(a["server.socket.port"]), port)
        self.assertEqual(a["network.protocol.version"], "1.1")
        self.assertEqual(a["network.protocol.name"], "http")
        self.assertEqual(int(a["http.response.status_code"]), 200)
        self.assertIs(a["test.handler_saw_span"], True)
        self.assertNotIn("code", span.get("status", {}))  # UNSET

        _, failed = by_name["GET /fail"]
        self.assertEqual(failed["status"].get("code"), 2)  # STATUS_CODE_ERROR
        self.assertEqual(int(attrs(failed["attributes"])["http.response.status_code"]), 500)
        self.assertEqual(len(failed["traceId"]), 32)
        self.assertNotIn("parentSpanId", {k: v for k, v in failed.items() if v})  # a root
        events = failed.get("events", [])
        self.assertEqual([e["name"] for e in events], ["exception"])
        self.assertIn("telemetry test failure", attrs(events[0]["attributes"])["exception.message"])

        _, unrouted = by_name["GET"]
        ua = attrs(unrouted["attributes"])
        self.assertNotIn("http.route", ua)
        self.assertEqual(ua["url.query"], "x=1")
        self.assertEqual(int(ua["http.response.status_code"]), 404)

        # the OTLP log record of the handler carries the span's ids
        logs = [lr for e in entries if e["path"] == "/v1/logs"
                for rl in e["body"]["resourceLogs"] for sl in rl["scopeLogs"] for lr in sl["logRecords"]]
        handled = [lr for lr in logs if lr.get("body", {}).get("stringValue") == "handling resource"]
        self.assertEqual(len(handled), 1, logs)
        self.assertEqual(handled[0]["traceId"], span["traceId"])
        self.assertEqual(handled[0]["spanId"], span["spanId"])

        # metrics: upstream's instruments, /health excluded
        metrics = {m["name"]: m for e in entries if e["path"] == "/v1/metrics"
                   for rm in e["body"]["resourceMetrics"] for sm in rm["scopeMetrics"] for m in sm["metrics"]}
        duration = metrics["http.server.duration"]
        self.assertEqual(duration["unit"], "s")
        points = duration["histogram"]["dataPoints"]
        self.assertEqual(sum(int(p["count"]) for p in points), 3)
        statuses = sorted(int(attrs(p["attributes"])["http.response.status_code"]) for p in points)
        self.assertEqual(statuses, [200, 404, 500])
        for p in points:
            pa = attrs(p["attributes"])
            self.assertNotIn("url.path", pa)
            self.assertNotIn("function.success", pa)  # upstream's HTTP histogram has none
        active = metrics["http.server.active_requests"]
        self.assertEqual(active["unit"], "{request}")
        self.assertEqual(sum(int(p["asInt"]) for p in active["sum"]["dataPoints"]), 0)

    def test_off_by_default_sends_nothing_and_logs_no_ids(self):
        receiver = Receiver(self.modules)
        self.addCleanup(receiver.stop)
        env = {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{receiver.port}"}
        service = ServiceProcess(SERVICE, env=env)
        self.addCleanup(kill, service)
        port = service.port()
        request(port, get("/resource/1", f"traceparent: {TRACEPARENT}\r\n"))
        record = service.wait_for(lambda r: r.get("message") == "handling resource", 20)
        self.assertIsNotNone(record, service.output())
        self.assertNotIn("trace_id", record)
        self.assertEqual(record["handler_trace_id"], "")  # no current span
        service.signal(signal.SIGTERM)
        self.assertEqual(service.proc.wait(40), 0, service.output())
        time.sleep(0.5)
        self.assertEqual(receiver.entries, [])

    def test_environment_variable_turns_it_on(self):
        receiver = Receiver(self.modules)
        self.addCleanup(receiver.stop)
        env = {"TOMODACHI_OPENTELEMETRY_INSTRUMENT": "1", "OTEL_TRACES_EXPORTER": "otlp",
               "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"http://127.0.0.1:{receiver.port}/v1/traces"}
        service = ServiceProcess(SERVICE, env=env)
        self.addCleanup(kill, service)
        port = service.port()
        request(port, get("/resource/7"))
        service.signal(signal.SIGTERM)
        self.assertEqual(service.proc.wait(40), 0, service.output())
        names = [s["name"] for _, s in spans_of(receiver.wait_for(1))]
        self.assertEqual(names, ["GET /resource/(?P<id>[^/]+?)/?"])

    def test_invalid_configuration_is_a_start_up_error(self):
        service = ServiceProcess(SERVICE, env={"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
                                 args=("--opentelemetry-instrument",))
        self.addCleanup(kill, service)
        self.assertEqual(service.proc.wait(30), 2)
        time.sleep(0.2)
        self.assertIn("OTEL_EXPORTER_OTLP_PROTOCOL", service.output())


if __name__ == "__main__":
    unittest.main()
