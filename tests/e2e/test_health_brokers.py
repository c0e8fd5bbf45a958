"""Readiness tied to the brokers (docs/operations.md): the consumers of a real `tomodachi run`
process against the test RabbitMQ and fauxqs, which these tests stop and restart (RUN_SERIAL)."""

import datetime
import os
import subprocess
import time
import unittest

import harness
from test_health import SERVICE, HealthCase, checks, free_port, get

SCRIPTS = os.path.join(harness.SOURCE_DIR, "scripts", "test-peers")


def rabbitmq(*args):
    return subprocess.run([os.path.join(SCRIPTS, "rabbitmq.sh"), args[0], harness.PEERS_DIR] + list(args[1:]),
                          capture_output=True, text=True, timeout=300)


# Deletes the consumer's queue (the broker cancels the consumer) and at once declares one of
# its name exclusive to a process of the broker's node, so that the consumer cannot consume
# it again (RESOURCE_LOCKED) until that process ends and its queue goes (RabbitMQ 3.10's
# internal API, through rabbitmqctl eval).
QUEUE = 'Name = rabbit_misc:r(<<"/">>, queue, <<"health-test-queue">>), '
DELETE_AND_BLOCK = (QUEUE + '{ok, Q} = rabbit_amqqueue:lookup(Name), '
                    'Owner = spawn(fun() -> receive stop -> ok end end), '
                    'register(health_test_blocker, Owner), '
                    'rabbit_amqqueue:delete(Q, false, false, <<"test">>), '
                    'rabbit_amqqueue:declare(Name, false, false, [], Owner, <<"test">>).')
UNBLOCK = 'health_test_blocker ! stop.'


class AmqpReadiness(HealthCase):
    def setUp(self):
        self.health = free_port()
        self.start(TOMODACHI_TEST_HEALTH_PORT=self.health,
                   TOMODACHI_TEST_AMQP_PORT=harness.peer_env("rabbitmq")["TOMODACHI_TEST_AMQP_PORT"])
        status, body = self.wait_status(self.health, "/readyz", 200, timeout=120)
        self.assertTrue(checks(body)["amqp:health-test-queue"]["ok"])

    def test_broker_down_then_consumers_registered_again(self):
        restart = subprocess.Popen([os.path.join(SCRIPTS, "rabbitmq.sh"), "restart", harness.PEERS_DIR, "6"],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            status, body = self.wait_status(self.health, "/readyz", 503, timeout=30)
            reason = checks(body)["amqp:health-test-queue"]["reason"]
            self.assertIn("reconnecting", reason)
        finally:
            output, _ = restart.communicate(timeout=300)
        self.assertEqual(restart.returncode, 0, output)
        status, body = self.wait_status(self.health, "/readyz", 200, timeout=60)
        self.assertTrue(checks(body)["amqp:health-test-queue"]["ok"])

    def test_consumer_cancelled_by_the_broker(self):
        declared = rabbitmq("ctl", "eval", DELETE_AND_BLOCK)
        self.assertEqual(declared.returncode, 0, declared.stdout + declared.stderr)
        try:
            status, body = self.wait_status(self.health, "/readyz", 503, timeout=10)
            reason = checks(body)["amqp:health-test-queue"]["reason"]
            self.assertIn("cancelled by the broker", reason, declared.stdout + declared.stderr)
            status, body = get(self.health, "/readyz?verbose")
            self.assertIn("[-]amqp:health-test-queue failed: consumer cancelled by the broker", body)
        finally:
            rabbitmq("ctl", "eval", UNBLOCK)
        self.wait_status(self.health, "/readyz", 200, timeout=60)


def fauxqs(*args):
    return subprocess.run([os.path.join(SCRIPTS, "fauxqs.sh"), args[0], harness.PEERS_DIR] + list(args[1:]),
                          capture_output=True, text=True, timeout=300)


class SqsReadiness(HealthCase):
    def test_fauxqs_down_then_topology_declared_again_and_a_receive_succeeded(self):
        health = free_port()
        self.start(TOMODACHI_TEST_HEALTH_PORT=health, TOMODACHI_TEST_TOPIC="health-topic-%d" % health,
                   TOMODACHI_TEST_AWS_ENDPOINT=harness.peer_env("fauxqs")["TOMODACHI_TEST_AWS_ENDPOINT"])
        status, body = self.wait_status(health, "/readyz", 200, timeout=120)
        self.assertTrue(checks(body)["sqs:health-test-queue"]["ok"])
        down = fauxqs("down")
        self.assertEqual(down.returncode, 0, down.stdout + down.stderr)
        try:
            status, body = self.wait_status(health, "/readyz", 503, timeout=30)
            self.assertIn("receive failed", checks(body)["sqs:health-test-queue"]["reason"])
            time.sleep(2)
            self.assertEqual(get(health, "/readyz")[0], 503)
        finally:
            up = fauxqs("up")
        self.assertEqual(up.returncode, 0, up.stdout + up.stderr)
        self.wait_status(health, "/readyz", 200, timeout=60)
        ready_again = time.time()
        # fauxqs lost its queues: readiness came back only after the subscription was set up
        # again (and a receive on the new queue succeeded).
        recreated = [line for line in self.process.log().splitlines()
                     if "Recreated the SNS/SQS subscription of the missing queue" in line]
        self.assertTrue(recreated, self.process.log()[-3000:])
        stamp = datetime.datetime.fromisoformat(recreated[0].split()[0].rstrip("Z")).replace(
            tzinfo=datetime.timezone.utc).timestamp()
        self.assertLessEqual(stamp, ready_again)


if __name__ == "__main__":
    harness.main()
