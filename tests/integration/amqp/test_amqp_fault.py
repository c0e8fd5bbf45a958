"""Broker restarts under load: a service publishes a stream of confirmed, persistent
messages and consumes it while the test broker's node is restarted twice. Every confirmed
message is handled at least once, the service never exits, and publishes made during the
outages either succeed after it or fail with a clear error."""

import os
import signal
import time
import unittest

import amqp_test_support as t
from amqp_test_support import harness

MODES = t.service("amqp_modes_service.cpp")
COUNT = 400


class BrokerRestarts(unittest.TestCase):
    def published(self, log):
        return {r["i"] for r in t.messages(log, "published")}

    def wait_until(self, predicate, timeout, what, process):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if predicate():
                return
            self.assertIsNone(process.process.poll(), "the service exited: " + process.log()[-3000:])
            time.sleep(0.2)
        self.fail("timed out waiting for " + what + ": " + process.log()[-3000:])

    def test_confirmed_messages_survive_two_restarts(self):
        tag = t.unique_tag("fault")
        config = t.write_config({"options": {"amqp": {"port": t.broker_port(), "heartbeat": 5,
                                                      "routing_key_prefix": tag + ".",
                                                      "queue_name_prefix": tag + "-"}}})
        p = harness.Process(["run", "--production", "--logger", "json", MODES, "-c", config],
                            TOMODACHI_TEST_MODE="fault", TOMODACHI_TEST_COUNT=str(COUNT))
        try:
            self.wait_until(lambda: len(self.published(p.log())) >= 60, 180, "first publishes", p)
            t.restart_broker(seconds_down=2)
            before_second = len(self.published(p.log()))
            self.wait_until(lambda: len(self.published(p.log())) >= before_second + 60, 180,
                            "publishes after the first restart", p)
            t.restart_broker(seconds_down=2)
            self.wait_until(lambda: "publisher done" in p.log(), 300, "the end of the stream", p)
            log = p.log()
            confirmed = self.published(log)
            self.wait_until(lambda: confirmed <= {r["i"] for r in t.messages(p.log(), "handled")}, 120,
                            "every confirmed message to be handled", p)
            self.assertIsNone(p.process.poll())
            p.signal(signal.SIGTERM)
            result = p.wait(timeout=60)
        finally:
            p.stop()
        self.assertEqual(result.returncode, 0, result.stderr[-3000:])
        log = result.stderr
        failed = t.messages(log, "publish failed")
        for record in failed:
            # Clear error naming the broker, never silent.
            self.assertIn("[amqp]", record["error"])
        self.assertEqual(len(confirmed) + len({r["i"] for r in failed}), COUNT)
        handled = {r["i"] for r in t.messages(log, "handled")}
        print("confirmed %d, failed %d, handled %d distinct (%d deliveries), reconnects %d" % (
            len(confirmed), len(failed), len(handled), len(t.messages(log, "handled")), log.count("reconnected [amqp]")))
        self.assertTrue(confirmed <= handled, sorted(confirmed - handled)[:20])
        self.assertGreaterEqual(len(confirmed), COUNT - len(failed))
        self.assertGreaterEqual(log.count("lost connection [amqp]"), 2)  # both connections, each restart
        self.assertGreaterEqual(log.count("reconnected [amqp]"), 2)


if __name__ == "__main__":
    harness.main()
