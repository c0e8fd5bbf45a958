"""AWS SNS/SQS end to end: `tomodachi run` services against fauxqs, with a Python producer
that speaks like Python tomodachi (botocore for SNS, the SQS JSON protocol for SQS):
interop both ways, graceful drain on SIGTERM, and recovery from an emulator restart."""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request
import uuid

import botocore.session

import harness
from harness import service

AWS_SERVICE = service("aws_service.cpp")
FAUXQS_SH = os.path.join(harness.SOURCE_DIR, "scripts", "test-peers", "fauxqs.sh")


class Fauxqs:
    """Requests to one fauxqs instance: SNS through botocore, SQS through its JSON protocol."""

    def __init__(self, endpoint):
        self.endpoint = endpoint
        session = botocore.session.get_session()
        self.sns = session.create_client("sns", region_name="eu-west-1", endpoint_url=endpoint,
                                         aws_access_key_id="python", aws_secret_access_key="python")

    def sqs(self, operation, **params):
        request = urllib.request.Request(self.endpoint + "/", data=json.dumps(params).encode(), method="POST", headers={
            "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS." + operation,
            "Authorization": "AWS4-HMAC-SHA256 Credential=python/20240101/eu-west-1/sqs/aws4_request"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"{}")

    def create_queue(self, name):
        return self.sqs("CreateQueue", QueueName=name)["QueueUrl"]

    def receive(self, url, wait=1):
        answer = self.sqs("ReceiveMessage", QueueUrl=url, WaitTimeSeconds=wait, MaxNumberOfMessages=10,
                          MessageAttributeNames=["All"], AttributeNames=["All"])
        return answer.get("Messages", [])

    def publish_json_base(self, topic, data, attributes=None):
        """Publishes like Python tomodachi: JsonBase payload, botocore MessageAttributes."""
        sender = str(uuid.uuid4())
        payload = json.dumps({
            "service": {"name": "python-producer", "uuid": sender},
            "metadata": {"message_uuid": "%s.%s" % (sender, uuid.uuid4()), "protocol_version": "tomodachi-json-base--1.0.0",
                         "compatible_protocol_versions": ["json_base-wip"], "timestamp": time.time(), "topic": topic,
                         "data_encoding": "raw"},
            "data": data})
        topic_arn = self.sns.create_topic(Name=topic)["TopicArn"]
        return self.sns.publish(TopicArn=topic_arn, Message=payload, MessageAttributes=attributes or {})["MessageId"]


def competing_queue_name(topic):
    return hashlib.sha256(topic.encode()).hexdigest()


class AwsService:
    def __init__(self, endpoint, topic, **env):
        self.process = harness.Process(["run", "--production", "--logger", "json", AWS_SERVICE],
                                       TOMODACHI_TEST_AWS_ENDPOINT=endpoint, TOMODACHI_TEST_TOPIC=topic, **env)

    def records(self, message=None):
        found = []
        for line in self.process.log().splitlines():
            if line.startswith("{"):
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if message is None or str(record.get("message", "")).startswith(message):
                    found.append(record)
        return found

    def wait_for(self, message, count=1, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if len(self.records(message)) >= count:
                return True
            if self.process.process.poll() is not None:
                break
            time.sleep(0.05)
        return len(self.records(message)) >= count

    def wait_for_data(self, data, timeout=60):
        """Waits for a `received event` record with `data`."""
        deadline = time.time() + timeout
        while time.time() < deadline and self.process.process.poll() is None:
            if any(r.get("data") == data for r in self.records("received event")):
                return True
            time.sleep(0.05)
        return any(r.get("data") == data for r in self.records("received event"))


class AwsSnsSqsEndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.endpoint = harness.peer_env("fauxqs")["TOMODACHI_TEST_AWS_ENDPOINT"]
        cls.aws = Fauxqs(cls.endpoint)

    def start(self, topic, **env):
        svc = AwsService(self.endpoint, topic, **env)
        self.addCleanup(svc.process.stop)
        self.assertTrue(svc.process.wait_for_log("started service successfully", timeout=240), svc.process.log())
        return svc

    def test_python_producer_and_cpp_consumer_interoperate(self):
        topic = "e2e-interop-" + uuid.uuid4().hex[:8]
        reply_queue = "e2e-reply-" + uuid.uuid4().hex[:8]
        reply_url = self.aws.create_queue(reply_queue)
        svc = self.start(topic, TOMODACHI_TEST_REPLY_QUEUE=reply_queue)
        attributes = {"currency": {"DataType": "String.Array", "StringValue": '["SEK"]'},
                      "amount": {"DataType": "Number", "StringValue": "1338"},
                      "note": {"DataType": "String", "StringValue": "v\u00e4rde"}}
        sns_message_id = self.aws.publish_json_base(topic, {"order": 4711, "text": "h\u00e4j"}, attributes)
        self.assertTrue(svc.wait_for("received event"), svc.process.log())
        record = svc.records("received event")[0]
        self.assertEqual(record["data"], {"order": 4711, "text": "h\u00e4j"})
        self.assertEqual(record["message_attributes"], {"currency": ["SEK"], "amount": 1338, "note": "v\u00e4rde"})
        self.assertEqual(record["topic"], topic)
        self.assertEqual(record["sns_message_id"], sns_message_id)
        # The reply, as Python tomodachi's sqs_send_message writes it.
        replies = []
        deadline = time.time() + 20
        while not replies and time.time() < deadline:
            replies = self.aws.receive(reply_url)
        self.assertEqual(len(replies), 1)
        body = json.loads(replies[0]["Body"])
        self.assertEqual(list(body.keys()), ["Type", "QueueUrl", "Version", "Message", "Timestamp", "MessageAttributes"])
        self.assertEqual((body["Type"], body["QueueUrl"], body["Version"]), ("Message", reply_url, "0"))
        self.assertRegex(body["Timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertEqual(body["MessageAttributes"], {"in-reply-to": {"Type": "String", "Value": sns_message_id}})
        envelope = json.loads(body["Message"])
        self.assertEqual(envelope["metadata"]["protocol_version"], "tomodachi-json-base--1.0.0")
        self.assertEqual(envelope["metadata"]["topic"], "")
        self.assertEqual(envelope["service"]["name"], "aws-test-service")
        self.assertTrue(envelope["metadata"]["message_uuid"].startswith(envelope["service"]["uuid"] + "."))
        self.assertEqual(envelope["data"], {"reply": {"order": 4711, "text": "h\u00e4j"}})
        self.assertEqual(replies[0]["MessageAttributes"]["in-reply-to"],
                         {"DataType": "String", "StringValue": sns_message_id})

    def test_sigterm_drains_a_running_handler(self):
        topic = "e2e-drain-" + uuid.uuid4().hex[:8]
        svc = self.start(topic)
        self.aws.publish_json_base(topic, {"sleep": 3})
        self.assertTrue(svc.wait_for("received event"), svc.process.log())
        svc.process.signal(signal.SIGTERM)
        result = svc.process.wait(timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        messages = [r.get("message") for r in svc.records()]
        self.assertIn("draining sqs receiver loop", messages)
        self.assertIn("slow handler done", messages)
        self.assertLess(messages.index("slow handler done"), messages.index("terminated service"))
        # Settled before the exit: nothing comes back.
        url = self.aws.sqs("GetQueueUrl", QueueName=competing_queue_name(topic))["QueueUrl"]
        self.assertEqual(self.aws.receive(url, wait=0), [])
        answer = self.aws.sqs("GetQueueAttributes", QueueUrl=url, AttributeNames=["All"])["Attributes"]
        self.assertEqual(answer["ApproximateNumberOfMessagesNotVisible"], "0")

    def test_fifo_subscription_with_a_queue_name_without_fifo_suffix_fails_the_start(self):
        queue = "e2e-fifo-" + uuid.uuid4().hex[:8]
        with tempfile.TemporaryDirectory() as tmp:
            source = os.path.join(tmp, "fifo_service.cpp")
            with open(source, "w") as f:
                f.write(FIFO_SERVICE.replace("QUEUE_NAME", queue))
            result = harness.run(["run", "--production", "--logger", "json", source], timeout=300,
                                 TOMODACHI_TEST_AWS_ENDPOINT=self.endpoint)
        self.assertEqual(result.returncode, 1, result.stderr)
        expected = ('AWS SQS queue configured as Standard, but the handler expected FIFO. Handler "on_order": '
                    'queue_name "%s" of a FIFO subscription must end with ".fifo".' % queue)
        errors = [r for r in result.json_records() if r.get("level") == "error"]
        self.assertEqual([r.get("exc_message") for r in errors], [expected], result.stderr)
        self.assertEqual(errors[0].get("exc_type"), "AwsSnsSqsException")
        self.assertIn("failed to start service", [r.get("message") for r in result.json_records()])
        # Checked before any AWS request: no queue of either name was created.
        for name in (queue, queue + ".fifo"):
            with self.assertRaises(urllib.error.HTTPError):
                self.aws.sqs("GetQueueUrl", QueueName=name)


FIFO_SERVICE = """
#include <tomodachi/tomodachi.hpp>

#include <cstdlib>

class FifoService : public tomodachi::Service {
 public:
  FifoService() : Service("fifo-service") {
    const char* endpoint = std::getenv("TOMODACHI_TEST_AWS_ENDPOINT");
    options.aws_endpoint_urls.sns = endpoint;
    options.aws_endpoint_urls.sqs = endpoint;
    options.aws_sns_sqs.region_name = "eu-west-1";
    options.aws_sns_sqs.aws_access_key_id = "test";
    options.aws_sns_sqs.aws_secret_access_key = "test";
    aws_sns_sqs<&FifoService::on_order>("orders", {.queue_name = "QUEUE_NAME", .fifo = true});
  }

 private:
  tomodachi::Task<void> on_order(tomodachi::Message&) { co_return; }
};
TOMODACHI_SERVICE(FifoService);
"""


class AwsExample(unittest.TestCase):
    """examples/aws_sns_sqs_service.cpp under `tomodachi run` against fauxqs."""

    def test_example_forwards_and_receives(self):
        endpoint = harness.peer_env("fauxqs")["TOMODACHI_TEST_AWS_ENDPOINT"]
        process = harness.Process(["run", "--production", "--logger", "json",
                                   os.path.join(harness.SOURCE_DIR, "examples", "aws_sns_sqs_service.cpp")],
                                  TOMODACHI_TEST_AWS_ENDPOINT=endpoint)
        self.addCleanup(process.stop)
        # started_service publishes to example-topic, example_func forwards it with the
        # attribute the filter policy of another-example-topic's subscription selects.
        self.assertTrue(process.wait_for_log("forwarded message arrived", timeout=300), process.log())
        records = harness.Result(0, "", process.log()).json_records()
        arrived = [r for r in records if r.get("message") == "forwarded message arrived"]
        self.assertEqual(arrived[0]["data"], {"greeting": "hello"})
        self.assertTrue(arrived[0]["sns_message_id"])
        process.signal(signal.SIGTERM)
        self.assertEqual(process.wait(timeout=60).returncode, 0, process.log())


class AwsEmulatorRestart(unittest.TestCase):
    """The emulator stops and comes back (empty) while the service polls."""

    def setUp(self):
        self.peers = os.path.join(harness.BUILD_DIR, "test-peers-aws-fault-%d" % os.getpid())
        shutil.rmtree(self.peers, ignore_errors=True)
        os.makedirs(self.peers)
        shared_npm = os.path.join(harness.PEERS_DIR, "npm")
        if os.path.isdir(shared_npm):
            os.symlink(shared_npm, os.path.join(self.peers, "npm"))
        subprocess.run([FAUXQS_SH, "start", self.peers], check=True, capture_output=True, timeout=180)
        self.addCleanup(self.cleanup)
        with open(os.path.join(self.peers, "fauxqs", "env")) as f:
            env = dict(line.strip().split("=", 1) for line in f if "=" in line)
        self.endpoint = env["TOMODACHI_TEST_AWS_ENDPOINT"]
        self.aws = Fauxqs(self.endpoint)

    def cleanup(self):
        subprocess.run([FAUXQS_SH, "stop", self.peers], capture_output=True, timeout=60)
        shutil.rmtree(self.peers, ignore_errors=True)

    def dead_letters(self, queue, count, timeout=60):
        """Messages in the dead-letter queue `queue` (once `count` are there, or at the timeout)."""
        found = []
        deadline = time.time() + timeout
        while len(found) < count and time.time() < deadline:
            try:
                url = self.aws.sqs("GetQueueUrl", QueueName=queue)["QueueUrl"]
            except urllib.error.HTTPError:
                time.sleep(0.2)
                continue
            for message in self.aws.receive(url, wait=1):
                found.append(json.loads(json.loads(message["Body"])["Message"])["data"])
                self.aws.sqs("DeleteMessage", QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return found

    def test_service_recovers_and_keeps_consuming(self):
        topic = "e2e-restart-" + uuid.uuid4().hex[:8]
        dead_letter_queue = competing_queue_name(topic) + "-dlq"
        svc = AwsService(self.endpoint, topic)
        self.addCleanup(svc.process.stop)
        self.assertTrue(svc.process.wait_for_log("started service successfully", timeout=240), svc.process.log())
        self.aws.publish_json_base(topic, {"n": 1})
        self.assertTrue(svc.wait_for("received event", 1), svc.process.log())
        # A failing message: dead-lettered (the service now knows its dead-letter queue's URL).
        self.aws.publish_json_base(topic, {"fail": 1})
        self.assertEqual(self.dead_letters(dead_letter_queue, 1), [{"fail": 1}], svc.process.log())

        subprocess.run([FAUXQS_SH, "restart", self.peers], check=True, capture_output=True, timeout=120)
        self.assertTrue(svc.wait_for("Unable to receive message from queue [sqs] on AWS", timeout=60), svc.process.log())
        self.assertTrue(svc.wait_for("Recreated the SNS/SQS subscription of the missing queue [sqs]", timeout=90),
                        svc.process.log())
        self.aws.publish_json_base(topic, {"n": 2})
        self.assertTrue(svc.wait_for_data({"n": 2}), svc.process.log())
        # After the restart the dead-letter queue is gone too: it is created again, not
        # sent to at its stale URL (the message would return after every visibility timeout).
        self.aws.publish_json_base(topic, {"fail": 2})
        self.assertEqual(self.dead_letters(dead_letter_queue, 1), [{"fail": 2}], svc.process.log())
        self.assertEqual(svc.records("Unable to settle message"), [])
        handled = [r["data"] for r in svc.records("received event") if "fail" not in r["data"]]
        self.assertEqual(handled, [{"n": 1}, {"n": 2}])
        self.assertIsNone(svc.process.process.poll())


if __name__ == "__main__":
    harness.main()
