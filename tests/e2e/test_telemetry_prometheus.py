"""Upstream's `tomodachi_prometheus` meter provider in a real `tomodachi run
--opentelemetry-instrument` process, scraped by a real Prometheus (Debian's 2.42, started by
scripts/test-peers/prometheus.sh, scrape_interval 1s): the series read back through
Prometheus's HTTP API, `promtool check metrics` on the text exposition, the OpenMetrics
exposition with exemplars whose ids are spans the OTLP receiver got, and the bind-failure
warning of a second service on the same port (which keeps serving HTTP).

The expected series names and labels are derived below from the rules of the exporter chain
upstream uses (not copied from our output): tomodachi/opentelemetry/prometheus.py, then
opentelemetry-exporter-prometheus 1.27 (_mapping.py, _translate_to_prometheus), then
prometheus_client 0.21.1 (metrics_core.Metric, exposition)."""

import gzip
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import unittest
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration", "telemetry"))
from harness import peer_env  # noqa: E402
from http_support import ServiceProcess, get, request  # noqa: E402
from test_otlp_export import Receiver, npm_modules  # noqa: E402

SERVICE = "http_telemetry_service.so"

# --- the derivation ------------------------------------------------------------------------
# 1. tomodachi's TomodachiPrometheusMetricReader._transform_metric: unit braces removed,
#    lowercased, UNIT_TRANSFORM_MAP (the entries upstream's instruments use); prefix + "_".
UNIT_TRANSFORM_MAP = {"s": "seconds", "request": "requests", "message": "messages", "task": "tasks"}
# 2. opentelemetry-exporter-prometheus 1.27, _mapping.py: names [^a-zA-Z0-9:]+ -> "_",
#    attribute keys [^a-zA-Z0-9]+ -> "_", map_unit (words already mapped pass unchanged,
#    sanitized and stripped of "_").
# 3. prometheus_client Metric(): "_" + unit appended unless the name already ends with it;
#    a histogram's samples are <name>_bucket (with le), _count, _sum; a cumulative
#    non-monotonic sum (an up-down counter) is a gauge named <name>.
# 4. prometheus.py: every sample gets job (service.namespace/service.name or service.name)
#    and instance (service.instance.id) from target_info, and otel_scope_name/_version.
# 5. distro.py's buckets (0, 0.005, ..., 1, 2.5, 5, 7.5, 10) as Python numbers; the exporter
#    writes le as f"{bound}", so the ints print as "0", "1", "5", "10".
UPSTREAM_BUCKETS = (0, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)


def tomodachi_unit(unit):
    u = unit.replace("{", "").replace("}", "").lower()
    return UNIT_TRANSFORM_MAP.get(u, u)


def sanitize_name(name):
    return re.sub(r"[^a-zA-Z0-9:]+", "_", name)


def sanitize_attribute(key):
    return re.sub(r"[^a-zA-Z0-9]+", "_", key)


def map_unit(unit):
    return sanitize_name(re.sub(r"{.*}", "", unit)).strip("_")


def series_base(name, unit, prefix=""):
    base = sanitize_name(f"{prefix}_{name}" if prefix else name)
    u = map_unit(tomodachi_unit(unit))
    return base if not u or base.endswith("_" + u) else f"{base}_{u}"


# upstream's middleware.py: http.server.duration ("s") and http.server.active_requests
# ("{request}") with these attribute keys (the duration adds the response status)
DURATION = series_base("http.server.duration", "s")
ACTIVE = series_base("http.server.active_requests", "{request}")
DURATION_LABELS = {sanitize_attribute(k) for k in (
    "http.route", "http.request.method", "http.response.status_code", "network.protocol.name",
    "network.protocol.version", "server.address", "server.port", "url.scheme")}
ACTIVE_LABELS = {sanitize_attribute(k) for k in ("http.request.method", "server.address", "server.port", "url.scheme")}
COMMON_LABELS = {"job", "instance", "otel_scope_name", "otel_scope_version"}
LE_VALUES = {f"{b}" for b in UPSTREAM_BUCKETS} | {"+Inf"}
ROUTE = "/resource/(?P<id>[^/]+?)/?"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def has_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return socket.getaddrinfo("localhost", 80, socket.AF_INET6) != []
    except OSError:
        return False


def kill(service):
    if service.proc.poll() is None:
        service.proc.kill()
    service.proc.wait()
    service.proc.stdout.close()


def fetch(port, path="/metrics", headers=None, method="GET"):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {}, method=method)
    with urllib.request.urlopen(req, timeout=10) as reply:
        return reply.status, dict(reply.headers), reply.read()


class Prometheus:
    def __init__(self):
        env = peer_env("prometheus")
        self.url = env["TOMODACHI_TEST_PROMETHEUS_URL"]
        self.targets = env["TOMODACHI_TEST_PROMETHEUS_TARGETS_DIR"]

    def scrape(self, name, port):
        path = os.path.join(self.targets, name + ".json")
        with open(path + ".tmp", "w") as f:
            json.dump([{"targets": [f"127.0.0.1:{port}"]}], f)
        os.rename(path + ".tmp", path)
        return path

    def api(self, path, **params):
        url = f"{self.url}/api/v1/{path}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=10) as reply:
            body = json.loads(reply.read())
        assert body["status"] == "success", body
        return body["data"]

    def query_until(self, query, predicate, timeout=40):
        deadline = time.monotonic() + timeout
        result = []
        while time.monotonic() < deadline:
            result = self.api("query", query=query)["result"]
            if predicate(result):
                return result
            time.sleep(0.5)
        raise AssertionError(f"{query}: {result}")


def parse_openmetrics(text):
    """Samples of an OpenMetrics exposition: (name, labels, value, exemplar or None)."""
    label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    samples = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        sample, _, exemplar = line.partition(" # ")
        name, labels, value = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$", sample).groups()
        parsed = None
        if exemplar:
            ex_labels, ex_value, ex_time = re.match(r"^\{(.*)\} (\S+) (\S+)$", exemplar).groups()
            parsed = (dict(label_re.findall(ex_labels)), float(ex_value), float(ex_time))
        samples.append((name, dict(label_re.findall(labels or "")), float(value), parsed))
    return samples


class TelemetryPrometheus(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.prometheus = Prometheus()
        cls.modules = npm_modules()

    def service(self, port, **env):
        full = {"OTEL_PYTHON_METER_PROVIDER": "tomodachi_prometheus",
                "OTEL_PYTHON_TOMODACHI_PROMETHEUS_PORT": str(port)}
        full.update(env)
        service = ServiceProcess(SERVICE, env=full, args=("--opentelemetry-instrument",))
        self.addCleanup(kill, service)
        return service

    def test_prometheus_scrapes_upstreams_series_and_exemplars_name_real_spans(self):
        receiver = Receiver(self.modules)
        self.addCleanup(receiver.stop)
        port = free_port()
        service = self.service(port, OTEL_PYTHON_TOMODACHI_PROMETHEUS_EXEMPLARS_ENABLED="true",
                               OTEL_TRACES_EXPORTER="otlp", OTEL_BSP_SCHEDULE_DELAY="200",
                               OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{receiver.port}")
        http_port = service.port()
        started = service.wait_for(lambda r: r.get("message") == "prometheus client started", 5)
        self.assertIsNotNone(started, service.output())
        # upstream's record: logger, level and fields; "localhost" is the default address
        self.assertEqual(started["logger"], "tomodachi.opentelemetry")
        self.assertEqual(started["level"], "info")
        self.assertEqual(started["listen_url"], f"http://localhost:{port}/")
        self.assertEqual(started["listen_host"], "localhost")
        self.assertEqual(started["listen_port"], port)
        uuid = service.wait_for(lambda r: r.get("message") == "initializing service instance", 5)["uuid"]

        for i in range(3):
            self.assertEqual(request(http_port, get(f"/resource/{i}")).status, 200)
        self.assertEqual(request(http_port, get("/fail")).status, 500)

        target = self.prometheus.scrape(f"e2e-{port}", port)
        self.addCleanup(os.remove, target)
        selector = f'instance="{uuid}"'
        counts = self.prometheus.query_until(
            f"{DURATION}_count{{{selector}}}",
            lambda r: sorted(float(s["value"][1]) for s in r) == [1.0, 3.0])
        for s in counts:
            labels = s["metric"]
            self.assertEqual(set(labels) - {"__name__"}, DURATION_LABELS | COMMON_LABELS, labels)
            self.assertEqual(labels["job"], "orders")  # service.name, kept by honor_labels
            self.assertEqual(labels["instance"], uuid)  # service.instance.id
            self.assertEqual(labels["otel_scope_name"], "tomodachi")
            self.assertTrue(labels["otel_scope_version"])
            expected_route = ROUTE if labels["http_response_status_code"] == "200" else "/fail"
            self.assertEqual(labels["http_route"], expected_route)
            self.assertEqual(labels["http_request_method"], "GET")
            self.assertEqual(labels["url_scheme"], "http")
            self.assertEqual(labels["network_protocol_name"], "http")
            self.assertEqual(labels["network_protocol_version"], "1.1")
            self.assertEqual(labels["server_address"], "localhost")  # from "Host: localhost"
            self.assertEqual(labels["server_port"], "80")
        by_status = {s["metric"]["http_response_status_code"]: float(s["value"][1]) for s in counts}
        self.assertEqual(by_status, {"200": 3.0, "500": 1.0})

        query = f'{DURATION}_bucket{{{selector},http_response_status_code="200"}}'
        buckets = self.prometheus.api("query", query=query)["result"]
        self.assertEqual({s["metric"]["le"] for s in buckets}, LE_VALUES)
        self.assertEqual({s["metric"]["le"]: float(s["value"][1]) for s in buckets}["+Inf"], 3.0)
        sums = self.prometheus.api("query", query=f"{DURATION}_sum{{{selector}}}")["result"]
        self.assertEqual(len(sums), 2)
        self.assertTrue(all(float(s["value"][1]) > 0 for s in sums))

        active = self.prometheus.api("query", query=f"{ACTIVE}{{{selector}}}")["result"]
        self.assertEqual(len(active), 1, active)
        self.assertEqual(set(active[0]["metric"]) - {"__name__"}, ACTIVE_LABELS | COMMON_LABELS)
        self.assertEqual(float(active[0]["value"][1]), 0.0)

        info = self.prometheus.api("query", query=f"target_info{{{selector}}}")["result"]
        self.assertEqual(len(info), 1, info)
        self.assertEqual(info[0]["metric"]["service_name"], "orders")
        self.assertEqual(info[0]["metric"]["service_instance_id"], uuid)
        self.assertEqual(info[0]["metric"]["job"], "orders")
        # otel_scope_info has no job/instance of its own (as upstream): Prometheus adds the
        # scrape target's
        scope = self.prometheus.api("query", query=f'otel_scope_info{{instance="127.0.0.1:{port}"}}')["result"]
        self.assertEqual(len(scope), 1, scope)
        self.assertEqual(scope[0]["metric"]["job"], "tomodachi-test")
        self.assertEqual(scope[0]["metric"]["otel_scope_name"], "tomodachi")
        self.assertEqual(scope[0]["metric"]["otel_scope_version"], counts[0]["metric"]["otel_scope_version"])

        # the text format (no Accept) passes promtool's parser and linter
        status, headers, text = fetch(port)
        self.assertEqual(headers["Content-Type"], "text/plain; version=0.0.4; charset=utf-8")
        check = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr + text)
        self.assertNotIn(b" # {", text)  # exemplars only in OpenMetrics
        # "localhost" binds every address it resolves to: ::1 too where the machine has it
        if has_ipv6_loopback():
            with urllib.request.urlopen(f"http://[::1]:{port}/metrics", timeout=10) as reply:
                self.assertIn(b"target_info{", reply.read())
        # any other path answers too (prometheus_client), HEAD has the headers only, gzip
        self.assertIn(f"{DURATION}_bucket{{".encode(), fetch(port, "/other")[2])
        head_status, head_headers, head_body = fetch(port, "/metrics", method="HEAD")
        self.assertEqual((head_status, head_body), (200, b""))
        self.assertGreater(int(head_headers["Content-Length"]), 0)
        _, gz_headers, gz_body = fetch(port, headers={"Accept-Encoding": "gzip"})
        self.assertEqual(gz_headers["Content-Encoding"], "gzip")
        self.assertIn(b"target_info{", gzip.decompress(gz_body))

        # OpenMetrics with exemplars: the ids of the server spans the receiver got
        _, om_headers, om = fetch(port, headers={"Accept": "application/openmetrics-text; version=1.0.0"})
        self.assertEqual(om_headers["Content-Type"], "application/openmetrics-text; version=1.0.0; charset=utf-8")
        om = om.decode()
        self.assertTrue(om.endswith("# EOF\n"))
        self.assertIn(f"# UNIT {DURATION} seconds\n", om)
        exemplars = [(labels, ex) for name, labels, _, ex in parse_openmetrics(om)
                     if ex and name == f"{DURATION}_bucket"]
        self.assertTrue(exemplars, om)
        for labels, (ex_labels, value, when) in exemplars:
            self.assertEqual(set(ex_labels), {"trace_id", "span_id"})
            self.assertRegex(ex_labels["trace_id"], r"^[0-9a-f]{32}$")
            self.assertRegex(ex_labels["span_id"], r"^[0-9a-f]{16}$")
            if labels["le"] != "+Inf":
                self.assertLessEqual(value, float(labels["le"]))
            self.assertLess(abs(when - time.time()), 120)
        for name, _, _, ex in parse_openmetrics(om):
            if ex:
                self.assertTrue(name.endswith("_bucket"), name)
        spans = {}
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(spans) < 4:
            for e in receiver.entries:
                for rs in e["body"].get("resourceSpans", []):
                    for ss in rs["scopeSpans"]:
                        for span in ss["spans"]:
                            spans[(span["traceId"], span["spanId"])] = span["name"]
            time.sleep(0.2)
        for labels, (ex_labels, _, _) in exemplars:
            key = (ex_labels["trace_id"], ex_labels["span_id"])
            self.assertIn(key, spans, (key, spans))
            route = ROUTE if labels["http_response_status_code"] == "200" else "/fail"
            self.assertEqual(spans[key], f"GET {route}")

        # Prometheus stored them too (exemplar storage is on in the test peer)
        now = time.time()
        stored = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not stored:
            stored = self.prometheus.api("query_exemplars", query=f"{DURATION}_bucket{{{selector}}}",
                                         start=now - 300, end=now + 60)
            time.sleep(0.5)
        self.assertTrue(stored, "no exemplars in Prometheus")
        stored_ids = {(e["labels"]["trace_id"], e["labels"]["span_id"]) for s in stored for e in s["exemplars"]}
        self.assertTrue(stored_ids <= set(spans), (stored_ids, spans))

        self.assertEqual(service.stop(), 0, service.output())

    def test_second_service_on_the_same_port_warns_and_keeps_serving(self):
        port = free_port()
        first = self.service(port, OTEL_PYTHON_TOMODACHI_PROMETHEUS_NAMESPACE_PREFIX="shop")
        first.port()
        self.assertIsNotNone(first.wait_for(lambda r: r.get("message") == "prometheus client started", 5))
        second = self.service(port, OTEL_PYTHON_TOMODACHI_PROMETHEUS_ADDRESS="127.0.0.1")
        http_port = second.port()
        warning = second.wait_for(
            lambda r: r.get("logger") == "tomodachi.opentelemetry" and r.get("level") == "warning", 5)
        self.assertIsNotNone(warning, second.output())
        # upstream's text: 127.0.0.1 / 0.0.0.0 show as localhost in the URL
        self.assertEqual(
            warning["message"],
            f"unable to bind prometheus http server [http] to http://localhost:{port}/ in otel metric provider")
        self.assertEqual(warning["host"], "127.0.0.1")
        self.assertEqual(warning["port"], port)
        self.assertEqual(warning["error_message"], "Address already in use")
        self.assertEqual(warning["opentelemetry_metric_provider"], "tomodachi_prometheus")
        self.assertEqual(second.find(lambda r: r.get("message") == "prometheus client started"), [])
        # the second service runs on and serves HTTP
        self.assertEqual(request(http_port, get("/resource/1")).status, 200)
        self.assertIsNone(second.proc.poll())
        # the first still serves its metrics, with the namespace prefix (not on target_info)
        request(first.port(), get("/resource/2"))
        _, _, text = fetch(port)
        self.assertIn(f"{series_base('http.server.duration', 's', 'shop')}_count{{".encode(), text)
        self.assertIn(b"\ntarget_info{", text)
        self.assertEqual(second.stop(), 0, second.output())
        self.assertEqual(first.stop(), 0, first.output())
        # stopped with the service: the port is closed
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()

    def test_metric_reader_adds_to_otlp_metrics_and_meter_provider_replaces_them(self):
        for variable, otlp_expected in (("OTEL_PYTHON_METRIC_READER", True), ("OTEL_PYTHON_METER_PROVIDER", False)):
            receiver = Receiver(self.modules)
            self.addCleanup(receiver.stop)
            port = free_port()
            service = ServiceProcess(SERVICE, args=("--opentelemetry-instrument",), env={
                variable: "tomodachi_prometheus", "OTEL_PYTHON_TOMODACHI_PROMETHEUS_PORT": str(port),
                "OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{receiver.port}"})
            self.addCleanup(kill, service)
            request(service.port(), get("/resource/1"))
            self.assertIn(f"{DURATION}_count{{".encode(), fetch(port)[2], variable)
            self.assertEqual(service.stop(), 0, service.output())
            time.sleep(0.3)
            paths = {e["path"] for e in receiver.entries}
            # upstream's meter provider replaces the SDK's (OTEL_METRICS_EXPORTER unread);
            # the metric reader is added beside the exporters
            self.assertEqual("/v1/metrics" in paths, otlp_expected, (variable, paths))

    def test_off_without_the_meter_provider_and_invalid_values_stop_start_up(self):
        port = free_port()
        service = ServiceProcess(SERVICE, env={"OTEL_PYTHON_TOMODACHI_PROMETHEUS_PORT": str(port)},
                                 args=("--opentelemetry-instrument",))
        self.addCleanup(kill, service)
        service.port()
        self.assertEqual(service.find(lambda r: r.get("message") == "prometheus client started"), [])
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        service.stop()
        bad = ServiceProcess(SERVICE, env={"OTEL_PYTHON_METER_PROVIDER": "tomodachi_prometheus",
                                           "OTEL_TOMODACHI_PROMETHEUS_PORT": "nine"},
                             args=("--opentelemetry-instrument",))
        self.addCleanup(kill, bad)
        self.assertEqual(bad.proc.wait(30), 2)
        time.sleep(0.2)
        self.assertIn("OTEL_TOMODACHI_PROMETHEUS_PORT", bad.output())


if __name__ == "__main__":
    unittest.main()
