"""AMQP services under `tomodachi run` against the test RabbitMQ: round trips (JsonBase, raw,
an envelope built by Python tomodachi, wildcards), the queues, arguments and bindings a
running service creates (read back with rabbitmqctl, names computed as Python tomodachi
computes them), delivery policies, bad input, graceful drain and start failures."""

import json
import os
import signal
import socket
import subprocess
import time
import unittest

import amqp_test_support as t
from amqp_test_support import harness

UUID = "5d0b530f-5c44-4981-b01f-342801bd48f5"
ROUNDTRIP = t.service("amqp_roundtrip_service.cpp")
MODES = t.service("amqp_modes_service.cpp")


def amqp_config(tag, **amqp):
    options = {"port": t.broker_port(), "routing_key_prefix": tag + ".", "queue_name_prefix": tag + "-"}
    options.update(amqp)
    return {"uuid": UUID, "options": {"amqp": options}}


class RoundTrip(unittest.TestCase):
    def test_round_trip_queues_arguments_and_bindings(self):
        tag = t.unique_tag("rt")
        config = t.write_config(amqp_config(tag))
        r = harness.run(["run", "--production", "--logger", "json", ROUNDTRIP, "-c", config], timeout=180,
                        TOMODACHI_TEST_PYTHON_PAYLOAD=t.python_payload())
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        result = t.messages(r.stderr, "amqp round trip")
        self.assertEqual(len(result), 1, r.stderr[-3000:])
        seen = result[0]["seen"]

        # Upstream's test_amqp_service_with_credentials: metadata.topic is the unprefixed key,
        # service.uuid the sender's; one of the two handlers sharing a queue got it.
        self.assertEqual(seen["plain"]["data"], {"token": UUID})
        self.assertEqual(seen["plain"]["topic"], "test.topic")
        self.assertEqual(seen["plain"]["sender_uuid"], UUID)
        self.assertEqual(seen["plain"]["routing_key"], "test.topic")
        self.assertEqual(seen["plain"]["exchange_name"], "amq.topic")
        self.assertEqual(seen["shared"], 1)
        # `test.#` saw the three envelopes (its handler gets the subscription's key);
        # the raw string it could not parse was dead-lettered.
        self.assertEqual(seen["wildcard"], 3)
        self.assertEqual(sorted(seen["wildcard_topics"]), ["example-topic", "test.topic", "test.user.created"])
        self.assertEqual(seen["wildcard_routing_key"], "test.#")
        self.assertEqual(seen["star"], {"user": 1})
        # The envelope Python tomodachi built (fixture build-spec-example), parsed.
        self.assertEqual(seen["python"]["data"], {"key": "v\u00e4rde", "n": 1, "f": 1.5, "l": [1, None, True]})
        self.assertEqual(seen["python"]["message_uuid"],
                         "6d8b4a51-0f1e-4c59-9a55-7e3b3a1d2f00.11111111-2222-4333-8444-555555555555")
        self.assertEqual(seen["python"]["sender"]["name"], "example-service")
        self.assertEqual(seen["raw"], "raw \u00c5\u00c4\u00d6 \u53cb\u9054")
        self.assertEqual(seen["raw_properties"], {})  # upstream publishes without properties
        context = result[0]["context"]
        self.assertIs(context["amqp_enabled"], True)
        self.assertGreaterEqual(context["amqp_total_tasks"], 8)
        self.assertGreaterEqual(context["amqp_current_tasks"], 1)  # the handler reporting this
        self.assertRegex(context["librabbitmq_version"], r"^0\.11\.")

        prefix = tag + "-"
        expected = {
            "plain": t.queue_name(prefix, "test.topic", "plain", UUID),
            "shared": prefix + "test-queue",
            "wildcard": t.queue_name(prefix, "test.#", "wildcard", UUID),
            "star": t.queue_name(prefix, "test.*.created", "star", UUID),
            "from_python": t.queue_name(prefix, "test.python", "from_python", UUID),
            "raw": t.queue_name(prefix, "test.raw", "raw", UUID),
        }
        queues = t.queues()
        for handler, name in expected.items():
            self.assertIn(name, queues, handler)
            self.assertEqual(queues[name]["arguments"], '[{"x-expires",86400000}]', handler)
            self.assertEqual((queues[name]["durable"], queues[name]["auto_delete"]), ("true", "false"), handler)
            self.assertEqual(queues[name]["messages"], 0, handler)
        dead = expected["wildcard"] + ".dlq"
        self.assertEqual(queues[dead]["messages"], 1)
        self.assertEqual(queues[dead]["arguments"], "[]")  # no arguments added behind the user's back
        bindings = set(t.bindings())
        for handler, key in [("plain", "test.topic"), ("shared", "test.topic"), ("wildcard", "test.#"),
                             ("star", "test.*.created"), ("from_python", "test.python"), ("raw", "test.raw")]:
            self.assertIn(("amq.topic", expected[handler], tag + "." + key), bindings, handler)


class DeliveryPolicies(unittest.TestCase):
    def test_retries_dead_letters_and_upstream_outcomes(self):
        tag = t.unique_tag("pol")
        config = t.write_config(amqp_config(tag))
        r = harness.run(["run", "--production", "--logger", "json", MODES, "-c", config], timeout=180,
                        TOMODACHI_TEST_MODE="policies")
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        # at-least-once: fails twice, succeeds on the third delivery.
        self.assertEqual([x["attempt"] for x in t.messages(r.stderr, "flaky attempt")], [1, 2, 3])
        # A poison message: 3 attempts, then dead-lettered with the error attached.
        self.assertEqual([x["attempt"] for x in t.messages(r.stderr, "poison attempt")], [1, 2, 3])
        dead = t.messages(r.stderr, "dead letter")
        self.assertEqual(len(dead), 1)
        headers = dead[0]["properties"]["headers"]
        self.assertEqual(headers["x-tomodachi-error"], "poison pill")
        self.assertEqual(headers["x-tomodachi-attempts"], 3)
        self.assertEqual(headers["x-tomodachi-source-queue"], tag + "-poison")
        self.assertEqual(headers["x-tomodachi-handler"], "poison")
        self.assertEqual(json.loads(dead[0]["body"])["data"], {"n": 1})
        # tomodachi policy: an ordinary exception drops the message, the internal service
        # error requeues it (nack) and it comes back.
        self.assertEqual(len(t.messages(r.stderr, "compat error attempt")), 1)
        self.assertEqual(len(t.messages(r.stderr, "compat internal attempt")), 2)
        queues = t.queues()
        for key in ["test.flaky", "test.compat.error", "test.compat.internal"]:
            self.assertEqual(queues[t.queue_name(tag + "-", key)]["messages"], 0, key)
        self.assertEqual(queues[tag + "-poison"]["messages"], 0)


class HeaderTypes(unittest.TestCase):
    def test_retry_and_dead_letter_copies_keep_every_header_with_its_amqp_type(self):
        tag = t.unique_tag("typed")
        config = t.write_config(amqp_config(tag))
        p = harness.Process(["run", "--production", "--logger", "json", MODES, "-c", config],
                            TOMODACHI_TEST_MODE="typed")
        try:
            self.assertTrue(p.wait_for_log("started service successfully", timeout=120), p.log()[-3000:])
            subprocess.run(t.raw_client("publish-typed", "amq.topic", tag + ".test.typed", "typed body"), check=True,
                           timeout=60)
            deadline = time.time() + 30
            while time.time() < deadline and t.queues().get(tag + "-typed.dlq", {}).get("messages") != 1:
                time.sleep(0.5)
            log = p.log()
        finally:
            p.stop()
        # Attempt 1 failed (retry copy), attempt 2 failed: dead-lettered. The dead letter is a
        # copy of the retry copy, so both copies kept every header with its type.
        self.assertEqual([r["attempt"] for r in t.messages(log, "typed attempt")], [1, 2], log[-3000:])
        dead = t.raw_get(tag + "-typed.dlq")
        self.assertIsNotNone(dead)
        self.assertEqual(dead["body"], "typed body")
        headers = dead["headers"]
        expected = {"i8": ["b", -8], "i16": ["s", -1600], "i32": ["I", 320000], "i64": ["l", 6400000000],
                    "timestamp": ["T", 1712345678], "flag": ["t", True], "double": ["d", 0.25], "float": ["f", 0.5],
                    "decimal": ["D", [2, 1234]], "string": ["S", "text"], "bytes": ["x", "\u0000\u00ffb"],
                    "void": ["V", None]}
        for key, value in expected.items():
            self.assertEqual(headers.get(key), value, key)
        # Ours: signed 64-bit integers ('l', as RabbitMQ and pamqp), strings.
        self.assertEqual(headers["x-tomodachi-attempt"], ["l", 2])
        self.assertEqual(headers["x-tomodachi-attempts"], ["l", 2])
        self.assertEqual(headers["x-tomodachi-error"], ["S", "typed failure"])
        self.assertEqual(headers["x-tomodachi-source-queue"], ["S", tag + "-typed"])
        self.assertEqual(dead["delivery_mode"], 2)
        self.assertEqual(t.queues()[tag + "-typed"]["messages"], 0)


class PublisherDrain(unittest.TestCase):
    def test_publishes_made_while_stopping_are_confirmed_before_exit(self):
        tag = t.unique_tag("onstop")
        config = t.write_config(amqp_config(tag))
        p = harness.Process(["run", "--production", "--logger", "json", MODES, "-c", config],
                            TOMODACHI_TEST_MODE="stop_publish", TOMODACHI_TEST_COUNT="3000")
        self.assertTrue(p.wait_for_log("started service successfully", timeout=120), p.log()[-3000:])
        p.signal(signal.SIGTERM)
        try:
            result = p.wait(timeout=60)
        finally:
            p.stop()
        self.assertEqual(result.returncode, 0, result.stderr[-3000:])
        self.assertEqual(len(t.messages(result.stderr, "stop publishes handed over")), 1, result.stderr[-3000:])
        self.assertNotIn("unconfirmed publish", result.stderr)
        # Every fire-and-forget publish of the stop_service hook reached the queue.
        self.assertEqual(t.queues()[tag + "-onstop"]["messages"], 3000)


class BadInput(unittest.TestCase):
    def test_non_utf8_malformed_and_huge_messages_have_defined_outcomes(self):
        tag = t.unique_tag("bad")
        config = t.write_config(amqp_config(tag))
        p = harness.Process(["run", "--production", "--logger", "json", MODES, "-c", config],
                            TOMODACHI_TEST_MODE="bad_input")
        try:
            self.assertTrue(p.wait_for_log("input handled (tomodachi policy)", timeout=120), p.log()[-3000:])
            self.assertTrue(p.wait_for_log('"input handled"', timeout=30), p.log()[-3000:])
            self.assertTrue(p.wait_for_log("huge handled", timeout=30), p.log()[-3000:])
            self.assertIsNone(p.process.poll())  # still running
            log = p.log()
        finally:
            p.stop()
        # Default policy: both unparseable payloads dead-lettered at once (not retried).
        dead_lettered = [r for r in t.records(log) if r.get("message") == "unparseable message: dead-lettering it"]
        self.assertEqual(len(dead_lettered), 2)
        self.assertEqual(t.queues()[tag + "-input.dlq"]["messages"], 2)
        # tomodachi policy: logged and dropped, as upstream does.
        self.assertEqual(t.queues()[tag + "-input-compat"]["messages"], 0)
        huge = t.messages(log, "huge handled")
        self.assertEqual(huge[0]["size"], 16777216)
        self.assertEqual([r["data"] for r in t.messages(log, "input handled")], [{"good": True}])


class GracefulStop(unittest.TestCase):
    def test_in_flight_handlers_finish_and_are_acked_before_the_connection_closes(self):
        tag = t.unique_tag("drain")
        config = t.write_config(amqp_config(tag))
        p = harness.Process(["run", "--production", "--logger", "json", MODES, "-c", config],
                            TOMODACHI_TEST_MODE="drain")
        self.assertTrue(p.wait_for_log("slow started", timeout=120), p.log()[-3000:])
        time.sleep(0.3)
        p.signal(signal.SIGTERM)
        try:
            result = p.wait(timeout=60)
        finally:
            p.stop()
        self.assertEqual(result.returncode, 0, result.stderr[-3000:])
        started = {r["i"] for r in t.messages(result.stderr, "slow started")}
        finished = {r["i"] for r in t.messages(result.stderr, "slow finished")}
        self.assertTrue(started)
        self.assertEqual(started, finished)
        self.assertIn("draining amqp handlers", result.stderr)
        # Finished handlers were acked before the connection closed: nothing comes back.
        queue = t.queues()[tag + "-slow"]
        self.assertEqual(queue["messages"], 3 - len(finished))


class Examples(unittest.TestCase):
    def test_pubsub_example_services_talk_over_rabbitmq(self):
        tag = t.unique_tag("pubsub")
        config = t.write_config({"options": {"amqp": {"port": t.broker_port(), "routing_key_prefix": tag + ".",
                                                      "queue_name_prefix": tag + "-"}}})
        examples = os.path.join(t.SOURCE_DIR, "examples", "pubsub")
        subscriber = harness.Process(["run", "--production", os.path.join(examples, "subscriber.cpp"), "-c", config])
        publisher = None
        try:
            self.assertTrue(subscriber.wait_for_log("started service successfully", timeout=180), subscriber.log()[-3000:])
            publisher = harness.Process(["run", "--production", os.path.join(examples, "publisher.cpp"), "-c", config])
            self.assertTrue(publisher.wait_for_log("reply received", timeout=180), publisher.log()[-3000:])
            self.assertIn("greeting received", subscriber.log())
        finally:
            if publisher:
                publisher.stop()
            subscriber.stop()

    def test_amqp_service_example_starts_and_handles_its_messages(self):
        tag = t.unique_tag("example")
        config = t.write_config({"options": {"amqp": {"port": t.broker_port(), "routing_key_prefix": tag + ".",
                                                      "queue_name_prefix": tag + "-"}}})
        p = harness.Process(["run", "--production", os.path.join(t.SOURCE_DIR, "examples", "amqp_service.cpp"),
                             "-c", config])
        try:
            for text in ["route1a", "route1b", "route2", "wildcard", "legacy"]:
                self.assertTrue(p.wait_for_log(text, timeout=180), text + ": " + p.log()[-3000:])
        finally:
            p.stop()


class Duplicates(unittest.TestCase):
    def test_a_burst_of_copies_is_one_warning_debug_records_and_one_summary(self):
        tag = t.unique_tag("dup")
        config = t.write_config(amqp_config(tag))
        count = 40
        r = harness.run(["run", "--production", "--logger", "json", "--log-level", "debug", MODES, "-c", config],
                        timeout=180, TOMODACHI_TEST_MODE="duplicates", TOMODACHI_TEST_COUNT=count)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        records = t.records(r.stderr)
        self.assertEqual(len(t.messages(r.stderr, "dup handled")), 1, r.stderr[-3000:])
        copies = t.messages(r.stderr, "ignored duplicate message already processed in the last minute")
        self.assertEqual([c["level"] for c in copies], ["warning"] + ["debug"] * (count - 1), r.stderr[-3000:])
        self.assertEqual({c["message_uuid"] for c in copies}, {"u.duplicated"})
        self.assertEqual({(c["logger"], c["handler"]) for c in copies}, {("tomodachi.amqp.handler", "dup")})
        summary_text = "ignored %d duplicate messages already processed in the last minute" % count
        summaries = t.messages(r.stderr, summary_text)
        self.assertEqual(len(summaries), 1, r.stderr[-3000:])
        summary = summaries[0]
        self.assertEqual((summary["level"], summary["logger"], summary["handler"], summary["count"]),
                         ("warning", "tomodachi.amqp.handler", "dup", count))
        self.assertLessEqual(summary["first_seen"], summary["last_seen"])
        # Logged by the timer when the burst is over, before the service stops.
        messages = [x.get("message") for x in records]
        self.assertLess(messages.index(summary_text), messages.index("duplicates done"))
        self.assertEqual(t.queues()[tag + "-dups"]["messages"], 0)  # every copy acked


class StartFailures(unittest.TestCase):
    def run_modes(self, config, **env):
        env.setdefault("TOMODACHI_TEST_MODE", "wait")
        return harness.run(["run", "--production", MODES, "-c", t.write_config(config)], timeout=180, **env)

    def test_unreachable_broker(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        unused = s.getsockname()[1]
        s.close()
        r = self.run_modes({"options": {"amqp": {"port": unused}}})
        self.assertEqual(r.returncode, 1)
        self.assertIn("Unable to connect [amqp] to 127.0.0.1:%d (connection refused)" % unused, r.stderr)
        self.assertIn("failed to start service", r.stderr)

    def test_bad_credentials(self):
        r = self.run_modes({"options": {"amqp": {"port": t.broker_port(), "password": "wrong"}}})
        self.assertEqual(r.returncode, 1)
        self.assertIn("Unable to connect [amqp] to 127.0.0.1:%d (ACCESS_REFUSED" % t.broker_port(), r.stderr)

    def test_reserved_exchange_name(self):
        r = self.run_modes({"options": {"amqp": {"port": t.broker_port()}}}, TOMODACHI_TEST_EXCHANGE="amq.tomodachi")
        self.assertEqual(r.returncode, 1)
        self.assertIn('Unable to declare exchange [amqp] "amq.tomodachi", starts with reserved "amq."', r.stderr)

    def test_exchange_type_conflict(self):
        name = t.unique_tag("direct-exchange")
        t.ctl("eval", 'rabbit_exchange:declare(rabbit_misc:r(<<"/">>, exchange, <<"%s">>), direct, true, false, '
                      'false, [], <<"tests">>).' % name)
        r = self.run_modes({"options": {"amqp": {"port": t.broker_port()}}}, TOMODACHI_TEST_EXCHANGE=name)
        self.assertEqual(r.returncode, 1)
        self.assertIn('Unable to change type of existing exchange [amqp] "%s"' % name, r.stderr)

    def test_custom_exchange_is_declared_durable_topic(self):
        name = t.unique_tag("custom-exchange")
        tag = t.unique_tag("ex")
        p = harness.Process(["run", "--production", MODES, "-c", t.write_config(amqp_config(tag))],
                            TOMODACHI_TEST_MODE="wait", TOMODACHI_TEST_EXCHANGE=name)
        try:
            self.assertTrue(p.wait_for_log("started service successfully", timeout=120), p.log()[-3000:])
            exchanges = t.ctl("-q", "--no-table-headers", "list_exchanges", "name", "type", "durable", "auto_delete")
            self.assertIn("%s\ttopic\ttrue\tfalse" % name, exchanges.splitlines())
            queue = t.queue_name(tag + "-", "test.wait", "waiting", UUID)
            self.assertIn((name, queue, tag + ".test.wait"), set(t.bindings()))
        finally:
            p.stop()

    def test_queue_locked_by_another_connection_fails_the_start(self):
        tag = t.unique_tag("lock")
        holder = subprocess.Popen(t.raw_client("hold-exclusive", tag + "-locked"), stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        try:
            self.assertEqual(holder.stdout.readline().strip(), "holding")
            r = self.run_modes(amqp_config(tag), TOMODACHI_TEST_MODE="locked")
        finally:
            holder.stdin.close()
            holder.wait(timeout=30)
        self.assertEqual(r.returncode, 1, r.stderr[-3000:])
        self.assertIn("Unable to declare queue [amqp]: locked by another connection's exclusive consumer", r.stderr)
        self.assertIn("RESOURCE_LOCKED", r.stderr)
        self.assertIn("failed to start service", r.stderr)

    def test_second_instance_of_a_non_competing_queue_fails(self):
        tag = t.unique_tag("max")
        config = amqp_config(tag)
        first = harness.Process(["run", "--production", MODES, "-c", t.write_config(config)], TOMODACHI_TEST_MODE="wait")
        try:
            self.assertTrue(first.wait_for_log("started service successfully", timeout=120), first.log()[-3000:])
            r = self.run_modes(config)  # same uuid, same handler: same queue
            self.assertEqual(r.returncode, 1)
            queue = t.queue_name(tag + "-", "test.wait", "waiting", UUID)
            self.assertIn('Max consumers (1) for queue [amqp] "%s" has been reached' % queue, r.stderr)
            self.assertIsNone(first.process.poll())
        finally:
            first.stop()


if __name__ == "__main__":
    harness.main()
