"""OpenTelemetry across the message transports of a real `tomodachi run --opentelemetry-instrument`
process (tests/services/messaging_telemetry_service.cpp) against the test RabbitMQ and fauxqs:

- one trace HTTP -> AMQP publish -> AMQP consume -> SNS publish -> SQS consume -> SQS send ->
  SQS-only consume, read back from tests/integration/telemetry/otlp_receiver.mjs (the official
  OTLP definitions from npm decode it, not tomodachi's .proto): names, kinds, parent links,
  upstream's attributes, the messaging/function metrics; schedule spans are roots;
- the propagation on the wire: the AMQP header table read from a queue of the test's own bound
  to the same routing key, the SNS notification read from a queue of the test's own subscribed
  to the topic, the attributes of an SQS message read from fauxqs, each against W3C syntax and
  equal to the producer span;
- messages carrying a `traceparent` built by hand exactly as Python's
  TraceContextTextMapPropagator writes it are continued (AMQP header, SNS attribute);
- SNS/SQS's 10 attributes: the user's win, the trace context is left out, one warning."""

import hashlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration", "telemetry"))
import harness  # noqa: E402
from http_support import ServiceProcess, get, request  # noqa: E402
from test_aws_sns_sqs import Fauxqs  # noqa: E402
from test_otlp_export import Receiver, attrs, npm_modules  # noqa: E402

SERVICE = "messaging_telemetry_service.so"
RAW_CLIENT = os.path.join(harness.BUILD_DIR, "bin", "amqp_raw_client")
TRACEPARENT_SYNTAX = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$")

SERVER, PRODUCER, CONSUMER, INTERNAL = 2, 4, 5, 1
STATUS_OK = 1


def python_traceparent(trace_id, span_id):
    """As TraceContextTextMapPropagator.inject: "00-{trace_id:032x}-{span_id:016x}-{flags:02x}"."""
    return "00-{:032x}-{:016x}-{:02x}".format(trace_id, span_id, 0x01)


def json_base(topic, data):
    """A JsonBase envelope as Python tomodachi builds it."""
    sender = str(uuid.uuid4())
    return json.dumps({
        "service": {"name": "python-producer", "uuid": sender},
        "metadata": {"message_uuid": "%s.%s" % (sender, uuid.uuid4()), "protocol_version": "tomodachi-json-base--1.0.0",
                     "compatible_protocol_versions": ["json_base-wip"], "timestamp": time.time(), "topic": topic,
                     "data_encoding": "raw"},
        "data": data})


def kill(service):
    if service.proc.poll() is None:
        service.proc.kill()
    service.proc.wait()
    service.proc.stdout.close()


def spans_of(entries):
    return [span for e in entries if e["path"] == "/v1/traces"
            for rs in e["body"]["resourceSpans"] for ss in rs["scopeSpans"] for span in ss["spans"]]


def metrics_of(entries):
    return {m["name"]: m for e in entries if e["path"] == "/v1/metrics"
            for rm in e["body"]["resourceMetrics"] for sm in rm["scopeMetrics"] for m in sm["metrics"]}


def parent_of(span):
    return span.get("parentSpanId") or ""


class MessagingTelemetry(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.modules = npm_modules()
        cls.amqp_port = harness.peer_env("rabbitmq")["TOMODACHI_TEST_AMQP_PORT"]
        cls.aws = Fauxqs(harness.peer_env("fauxqs")["TOMODACHI_TEST_AWS_ENDPOINT"])

    def setUp(self):
        tag = "%08x" % random.randrange(16 ** 8)
        self.routing_key = "tel%s.order" % tag
        self.topic = "tel-%s-events" % tag
        self.queue = "tel-%s-direct" % tag
        self.reply_queue = "tel-%s-reply" % tag
        self.wire_queue = "tel-%s-wire" % tag
        self.reply_url = self.aws.create_queue(self.reply_queue)
        self.amqp("declare-bound", self.wire_queue, "amq.topic", self.routing_key)

    def amqp(self, *args):
        return subprocess.run([RAW_CLIENT, "127.0.0.1", self.amqp_port] + list(args), check=True, capture_output=True,
                              text=True, timeout=60).stdout

    def amqp_messages(self, queue):
        out = []
        while True:
            result = subprocess.run([RAW_CLIENT, "127.0.0.1", self.amqp_port, "get", queue], capture_output=True,
                                    text=True, timeout=60)
            if result.returncode == 2:
                return out
            self.assertEqual(result.returncode, 0, result.stderr)
            out.append(json.loads(result.stdout))

    def sqs_messages(self, url, count, timeout=20):
        found = []
        deadline = time.time() + timeout
        while len(found) < count and time.time() < deadline:
            found += self.aws.receive(url)
        return found

    def start(self, instrument=True, receiver=None, http=True, **env):
        if receiver is None:
            receiver = Receiver(self.modules)
            self.addCleanup(receiver.stop)
        full = {
            "OTEL_TRACES_EXPORTER": "otlp", "OTEL_METRICS_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{receiver.port}",
            "OTEL_BSP_SCHEDULE_DELAY": "60000", "OTEL_METRIC_EXPORT_INTERVAL": "60000",
            "TOMODACHI_TEST_AMQP_PORT": self.amqp_port, "TOMODACHI_TEST_AWS_ENDPOINT": self.aws.endpoint,
            "TOMODACHI_TEST_ROUTING_KEY": self.routing_key, "TOMODACHI_TEST_TOPIC": self.topic,
            "TOMODACHI_TEST_QUEUE": self.queue, "TOMODACHI_TEST_REPLY_QUEUE": self.reply_queue,
        }
        full.update(env)
        service = ServiceProcess(SERVICE, env=full, args=("--opentelemetry-instrument",) if instrument else ())
        self.addCleanup(kill, service)
        try:
            port = service.port(240) if http else None
            started = service.wait_for(lambda r: r.get("message") == "started service successfully", 240)
            self.assertIsNotNone(started, service.output())
        except BaseException:
            receiver.stop()
            raise
        return receiver, service, port

    def handled(self, service, step, order, timeout=60):
        record = service.wait_for(lambda r: r.get("message") == "handled" and r.get("step") == step
                                  and r.get("order") == order, timeout)
        self.assertIsNotNone(record, "no %s step for order %s:\n%s" % (step, order, service.output()[-6000:]))
        return record

    def stop(self, receiver, service, wait=20):
        service.signal(signal.SIGTERM)
        self.assertEqual(service.proc.wait(60), 0, service.output()[-6000:])
        entries = []
        deadline = time.time() + wait
        while time.time() < deadline:
            entries = list(receiver.entries)
            if {"/v1/traces", "/v1/metrics"} <= {e["path"] for e in entries}:
                break
            time.sleep(0.1)
        for e in entries:
            self.assertNotIn("error", e, e)
        return entries

    def tap_topic(self):
        """A queue of the test's own subscribed to the service's topic (raw delivery off)."""
        tap_url = self.aws.create_queue(self.topic + "-tap")
        tap_arn = self.aws.sqs("GetQueueAttributes", QueueUrl=tap_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"]
        topic_arn = self.aws.sns.create_topic(Name=self.topic)["TopicArn"]
        self.aws.sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=tap_arn)
        return tap_url, topic_arn

    def test_one_trace_across_http_amqp_sns_and_sqs(self):
        self.check_one_trace()

    def test_the_same_over_otlp_json(self):
        self.check_one_trace(OTEL_EXPORTER_OTLP_PROTOCOL="http/json")

    def check_one_trace(self, **env):
        receiver, service, port = self.start(**env)
        tap_url, topic_arn = self.tap_topic()

        # 1. HTTP -> AMQP -> SNS/SQS -> SQS
        self.assertEqual(request(port, get("/order?id=1")).status, 200)
        self.handled(service, "sqs", 1)

        # 2. An AMQP message with a traceparent built by hand, as Python writes it
        amqp_trace, amqp_parent = 0x0AF7651916CD43DD8448EB211C80319C, 0xB7AD6B7169203331
        self.amqp("publish-strings", "amq.topic", self.routing_key, json_base(self.routing_key, {"order": 2}),
                  "traceparent=" + python_traceparent(amqp_trace, amqp_parent), "tracestate=rojo=00f067aa0ba902b7")
        continued = self.handled(service, "amqp", 2)
        self.assertEqual(continued["span_trace_id"], "%032x" % amqp_trace)
        self.assertEqual(continued["span_parent_id"], "%016x" % amqp_parent)
        self.handled(service, "sqs", 2)

        # 3. An SNS message with a traceparent attribute built by hand
        sns_trace, sns_parent = 0x4BF92F3577B34DA6A3CE929D0E0E4736, 0x00F067AA0BA902B7
        self.aws.sns.publish(TopicArn=topic_arn, Message=json_base(self.topic, {"order": 3}), MessageAttributes={
            "traceparent": {"DataType": "String", "StringValue": python_traceparent(sns_trace, sns_parent)}})
        continued_sns = self.handled(service, "sns", 3)
        self.assertEqual(continued_sns["span_trace_id"], "%032x" % sns_trace)
        self.assertEqual(continued_sns["span_parent_id"], "%016x" % sns_parent)
        self.handled(service, "sqs", 3)

        # 4. Ten attributes of the user's: no room for the trace context
        self.assertEqual(request(port, get("/crowded")).status, 200)
        self.handled(service, "schedule", 0)

        entries = self.stop(receiver, service)
        spans = spans_of(entries)
        server = [s for s in spans if s["name"] == "GET /order"]
        self.assertEqual(len(server), 1, [s["name"] for s in spans])
        trace_id = server[0]["traceId"]
        tree = {s["name"]: s for s in spans if s["traceId"] == trace_id}
        rk, topic, queue, reply = self.routing_key, self.topic, self.queue, self.reply_queue
        expected = {  # name: (kind, parent name)
            "GET /order": (SERVER, None),
            rk + " publish": (PRODUCER, "GET /order"),
            rk + " process": (CONSUMER, rk + " publish"),
            topic + " publish": (PRODUCER, rk + " process"),
            topic + " process": (CONSUMER, topic + " publish"),
            reply + " publish": (PRODUCER, topic + " process"),
            queue + " publish": (PRODUCER, topic + " process"),
            " process": (CONSUMER, queue + " publish"),
        }
        self.assertEqual(sorted(tree), sorted(expected), [s["name"] for s in spans if s["traceId"] == trace_id])
        self.assertEqual(len([s for s in spans if s["traceId"] == trace_id]), len(expected))
        for name, (kind, parent) in expected.items():
            self.assertEqual(tree[name]["kind"], kind, name)
            self.assertEqual(parent_of(tree[name]), tree[parent]["spanId"] if parent else "", name)
            if kind in (PRODUCER, CONSUMER):
                self.assertEqual(tree[name].get("status", {}).get("code"), STATUS_OK, name)

        # upstream's attributes (pre-1.26 messaging names)
        self.assertEqual(attrs(tree[rk + " publish"]["attributes"]), {
            "messaging.system": "rabbitmq", "messaging.operation": "publish",
            "messaging.destination.name": "amq.topic", "messaging.rabbitmq.destination.routing_key": rk})
        self.assertEqual(attrs(tree[rk + " process"]["attributes"]), {
            "messaging.system": "rabbitmq", "messaging.operation": "process",
            "messaging.destination.name": "amq.topic", "messaging.rabbitmq.destination.routing_key": rk,
            "code.function": "on_order"})
        sns_publish = attrs(tree[topic + " publish"]["attributes"])
        self.assertRegex(sns_publish.pop("messaging.message.id"), r"\S")
        self.assertEqual(sns_publish, {"messaging.system": "aws_sqs", "messaging.operation": "publish",
                                       "messaging.destination.name": topic, "messaging.destination.kind": "topic"})
        topic_queue = hashlib.sha256(topic.encode()).hexdigest()  # competing: sha256(topic)
        self.assertEqual(attrs(tree[topic + " process"]["attributes"]), {
            "messaging.system": "aws_sqs", "messaging.operation": "process",
            "messaging.destination.name": topic_queue, "messaging.destination.kind": "queue",
            "messaging.message.id": attrs(tree[topic + " publish"]["attributes"])["messaging.message.id"],
            "messaging.destination_publish.name": topic, "messaging.destination_publish.kind": "topic",
            "code.function": "on_event"})
        sqs_publish = attrs(tree[queue + " publish"]["attributes"])
        sqs_id = sqs_publish.pop("messaging.message.id")
        self.assertEqual(sqs_publish, {"messaging.system": "aws_sqs", "messaging.operation": "publish",
                                       "messaging.destination.name": queue, "messaging.destination.kind": "queue"})
        self.assertEqual(attrs(tree[" process"]["attributes"]), {
            "messaging.system": "aws_sqs", "messaging.operation": "process",
            "messaging.destination.name": queue, "messaging.destination.kind": "queue",
            "messaging.message.id": sqs_id,
            "messaging.destination_publish.name": queue, "messaging.destination_publish.kind": "queue",
            "code.function": "on_direct"})
        # the handlers ran with the consumer span current
        for step, name in (("amqp", rk + " process"), ("sns", topic + " process"), ("sqs", " process")):
            record = self.handled(service, step, 1, 0.1)
            self.assertEqual((record["span_trace_id"], record["span_span_id"]), (trace_id, tree[name]["spanId"]))

        # the continued traces: the consumer span's parent is the hand-built span
        by_trace = {}
        for s in spans:
            by_trace.setdefault(s["traceId"], []).append(s)
        amqp_process = [s for s in by_trace.get("%032x" % amqp_trace, []) if s["name"] == rk + " process"]
        self.assertEqual(len(amqp_process), 1, by_trace.keys())
        self.assertEqual(parent_of(amqp_process[0]), "%016x" % amqp_parent)
        self.assertEqual(amqp_process[0].get("traceState"), "rojo=00f067aa0ba902b7")
        sns_process = [s for s in by_trace.get("%032x" % sns_trace, []) if s["name"] == topic + " process"]
        self.assertEqual(len(sns_process), 1, by_trace.keys())
        self.assertEqual(parent_of(sns_process[0]), "%016x" % sns_parent)

        # schedule spans are roots
        ticks = [s for s in spans if s["name"] == "tick"]
        self.assertEqual(len(ticks), 1)
        self.assertEqual(ticks[0]["kind"], INTERNAL)
        self.assertEqual(parent_of(ticks[0]), "")
        tick = attrs(ticks[0]["attributes"])
        self.assertRegex(tick.pop("function.time"), r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(tick, {"code.function": "tick", "function.trigger": "timer", "function.interval": "3600"})

        # on the wire: the AMQP header table (string values), from a queue of our own
        wire = {json.loads(m["body"])["data"]["order"]: m for m in self.amqp_messages(self.wire_queue)}
        self.assertEqual(sorted(wire), [1, 2])
        kind, value = wire[1]["headers"]["traceparent"]
        self.assertEqual(kind, "S")
        self.assertRegex(value, TRACEPARENT_SYNTAX)
        self.assertEqual(value, "00-%s-%s-01" % (trace_id, tree[rk + " publish"]["spanId"]))
        self.assertNotIn("tracestate", wire[1]["headers"])  # the trace has none
        # the SNS notification, from a queue of our own subscribed to the topic
        notifications = {}
        for m in self.sqs_messages(tap_url, 3):
            body = json.loads(m["Body"])
            notifications[json.loads(body["Message"])["data"]["order"]] = body
        self.assertIn(1, notifications)
        attribute = notifications[1]["MessageAttributes"]["traceparent"]
        self.assertEqual(attribute["Type"], "String")
        self.assertRegex(attribute["Value"], TRACEPARENT_SYNTAX)
        self.assertEqual(attribute["Value"], "00-%s-%s-01" % (trace_id, tree[topic + " publish"]["spanId"]))
        # an SQS message's attributes, read from fauxqs (and the tomodachi body's copy)
        replies = self.sqs_messages(self.reply_url, 5)
        by_order = {}
        crowded = []
        for m in replies:
            body = json.loads(m["Body"])
            data = json.loads(body["Message"])["data"]
            (crowded.append(m) if data.get("crowded") else by_order.setdefault(data["order"], (m, body)))
        message, body = by_order[1]
        expected_value = "00-%s-%s-01" % (trace_id, tree[reply + " publish"]["spanId"])
        self.assertEqual(message["MessageAttributes"]["traceparent"]["DataType"], "String")
        self.assertRegex(message["MessageAttributes"]["traceparent"]["StringValue"], TRACEPARENT_SYNTAX)
        self.assertEqual(message["MessageAttributes"]["traceparent"]["StringValue"], expected_value)
        self.assertEqual(message["MessageAttributes"]["kind"]["StringValue"], "reply")
        self.assertEqual(body["MessageAttributes"]["traceparent"], {"Type": "String", "Value": expected_value})

        # 10 attributes of the user's: kept, no trace context, one warning for the queue
        self.assertEqual(len(crowded), 2, replies)
        for m in crowded:
            self.assertEqual(sorted(m["MessageAttributes"]), ["a%d" % i for i in range(10)])
        warnings = service.find(lambda r: str(r.get("message", "")).startswith("trace context left out"))
        self.assertEqual(len(warnings), 1, warnings)
        self.assertEqual(warnings[0]["left_out"], "traceparent")

        # upstream's instruments, with function.success
        metrics = metrics_of(entries)
        for name, key in (("messaging.rabbitmq.duration", "messaging.rabbitmq.destination.routing_key"),
                          ("messaging.aws_sqs.duration", "messaging.destination.name"),
                          ("function.duration", "code.function")):
            points = metrics[name]["histogram"]["dataPoints"]
            self.assertTrue(points, name)
            for p in points:
                pa = attrs(p["attributes"])
                self.assertIs(pa["function.success"], True, name)
                self.assertIn(key, pa)
                self.assertNotIn("messaging.system", pa)  # not among upstream's attribute keys
        self.assertEqual(sum(int(p["count"]) for p in metrics["messaging.rabbitmq.duration"]["histogram"]["dataPoints"]),
                         2)
        for name in ("messaging.rabbitmq.active_tasks", "messaging.aws_sqs.active_tasks", "function.active_tasks"):
            self.assertEqual(sum(int(p["asInt"]) for p in metrics[name]["sum"]["dataPoints"]), 0, name)

    def test_one_trace_across_two_processes(self):
        receiver, back, _ = self.start(http=False, TOMODACHI_TEST_ROLE="back")
        _, front, port = self.start(receiver=receiver, TOMODACHI_TEST_ROLE="front")
        self.assertEqual(request(port, get("/order?id=7")).status, 200)
        self.handled(back, "sqs", 7)
        self.stop(receiver, front, wait=0)
        self.stop(receiver, back, wait=0)
        rk, topic = self.routing_key, self.topic
        deadline = time.time() + 20
        while True:  # both exit flushes
            spans = [(attrs(rs["resource"]["attributes"])["service.name"], span) for e in list(receiver.entries)
                     if e["path"] == "/v1/traces" for rs in e["body"]["resourceSpans"] for ss in rs["scopeSpans"]
                     for span in ss["spans"]]
            names = {s["name"] for _, s in spans}
            if {"GET /order", " process"} <= names or time.time() > deadline:
                break
            time.sleep(0.1)
        server = [s for _, s in spans if s["name"] == "GET /order"]
        self.assertEqual(len(server), 1, names)
        tree = {s["name"]: (name, s) for name, s in spans if s["traceId"] == server[0]["traceId"]}
        expected = [("GET /order", "telemetry-front", None), (rk + " publish", "telemetry-front", "GET /order"),
                    (rk + " process", "telemetry-back", rk + " publish"),
                    (topic + " publish", "telemetry-back", rk + " process"),
                    (topic + " process", "telemetry-back", topic + " publish"),
                    (" process", "telemetry-back", self.queue + " publish")]
        for name, service_name, parent in expected:
            self.assertIn(name, tree, sorted(tree))
            self.assertEqual(tree[name][0], service_name, name)
            self.assertEqual(parent_of(tree[name][1]), tree[parent][1]["spanId"] if parent else "", name)

    def test_off_the_wire_shape_is_unchanged(self):
        receiver, service, port = self.start(instrument=False)
        self.assertEqual(request(port, get("/order?id=5")).status, 200)
        self.handled(service, "sqs", 5)
        record = self.handled(service, "amqp", 5, 0.1)
        self.assertEqual(record["span_trace_id"], "")  # no span current
        self.assertEqual(self.stop(receiver, service, wait=1), [])
        wire = self.amqp_messages(self.wire_queue)
        self.assertEqual(len(wire), 1)
        self.assertEqual(wire[0]["headers"], {})  # upstream's shape: no properties at all
        replies = self.sqs_messages(self.reply_url, 1)
        self.assertEqual(len(replies), 1)
        self.assertEqual(sorted(replies[0]["MessageAttributes"]), ["kind"])


if __name__ == "__main__":
    unittest.main()
