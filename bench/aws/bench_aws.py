#!/usr/bin/env python3
"""SNS/SQS consumer benchmark against fauxqs (its own instance).

1. Calls per message: a publisher sends a steady RATE msg/s (default 200) to a standard
   queue for DURATION s (default 60) while a consumer drains it. Every API call the
   consumer makes is counted at the emulator (fauxqs logs each request with its remote
   port; the publisher's and the driver's own connections are excluded), empty receives
   and visibility changes included, and divided by the messages consumed.
2. Throughput: PRELOAD messages (default 5000) are queued first, then the consumer is
   started; messages/s from its start until the queue is drained.

Consumers: the C++ service bench/aws/consumer_service.cpp under `tomodachi run`, and the
reference: a loop with Python tomodachi's call pattern (spec/wire.md §3.9/§3.11:
ReceiveMessage with WaitTimeSeconds=20 and MaxNumberOfMessages=10, then one DeleteMessage
per message), measured in the same run. Prints both and their ratio.

Usage: bench/aws/bench_aws.py [--rate 200] [--duration 60] [--preload 5000]
"""

import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.abspath(os.environ.get("TOMODACHI_BUILD_DIR", os.path.join(ROOT, "build")))
TOMODACHI = os.environ.get("TOMODACHI_BIN", os.path.join(BUILD, "bin", "tomodachi"))
FAUXQS_SH = os.path.join(ROOT, "scripts", "test-peers", "fauxqs.sh")
CONSUMER = os.path.join(ROOT, "bench", "aws", "consumer_service.cpp")


class Sqs:
    """SQS JSON protocol over one keep-alive connection; remembers its local ports."""

    def __init__(self, endpoint):
        url = urllib.parse.urlsplit(endpoint)
        self.endpoint = endpoint
        self.connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        self.ports = set()

    def call(self, operation, **params):
        body = json.dumps(params)
        headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS." + operation,
                   "Authorization": "AWS4-HMAC-SHA256 Credential=bench/20240101/eu-west-1/sqs/aws4_request"}
        for attempt in range(2):
            try:
                self.connection.request("POST", "/", body, headers)
                if self.connection.sock is not None:
                    self.ports.add(self.connection.sock.getsockname()[1])
                response = self.connection.getresponse()
                data = response.read()
                break
            except (http.client.HTTPException, ConnectionError):
                self.connection.close()
                if attempt:
                    raise
        answer = json.loads(data or b"{}")
        if response.status >= 300:
            raise RuntimeError("%s failed: %s" % (operation, answer))
        return answer


def tomodachi_body(queue_url, data):
    """An SQS body as Python tomodachi's sqs_send_message writes it (JsonBase inside)."""
    sender = "5d0b530f-5c44-4981-b01f-342801bd48f5"
    payload = json.dumps({
        "service": {"name": "bench-publisher", "uuid": sender},
        "metadata": {"message_uuid": "%s.%s" % (sender, uuid.uuid4()), "protocol_version": "tomodachi-json-base--1.0.0",
                     "compatible_protocol_versions": ["json_base-wip"], "timestamp": time.time(), "topic": "",
                     "data_encoding": "raw"},
        "data": data})
    return json.dumps({"Type": "Message", "QueueUrl": queue_url, "Version": "0", "Message": payload,
                       "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()), "MessageAttributes": {}})


class Emulator:
    def __init__(self):
        self.dir = os.path.join(BUILD, "bench-aws-peers-%d" % os.getpid())
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        shared_npm = os.path.join(BUILD, "test-peers", "npm")
        if os.path.isdir(shared_npm):
            os.symlink(shared_npm, os.path.join(self.dir, "npm"))
        subprocess.run([FAUXQS_SH, "start", self.dir], check=True, capture_output=True, timeout=300)
        with open(os.path.join(self.dir, "fauxqs", "env")) as f:
            env = dict(line.strip().split("=", 1) for line in f if "=" in line)
        self.endpoint = env["TOMODACHI_TEST_AWS_ENDPOINT"]
        self.log = os.path.join(self.dir, "fauxqs", "requests.log")

    def log_offset(self):
        return os.path.getsize(self.log)

    def calls_since(self, offset, exclude_ports):
        calls = 0
        with open(self.log) as f:
            f.seek(offset)
            for line in f:
                if '"incoming request"' not in line:
                    continue
                record = json.loads(line)
                if record.get("req", {}).get("remotePort") not in exclude_ports:
                    calls += 1
        return calls

    def stop(self):
        subprocess.run([FAUXQS_SH, "stop", self.dir], capture_output=True, timeout=60)
        shutil.rmtree(self.dir, ignore_errors=True)


class CppConsumer:
    def __init__(self, endpoint, queue):
        env = dict(os.environ, TOMODACHI_TEST_AWS_ENDPOINT=endpoint, BENCH_QUEUE=queue, NO_COLOR="1")
        self.log_path = os.path.join(BUILD, "bench-aws-consumer-%d.log" % os.getpid())
        self.log_file = open(self.log_path, "w")
        self.process = subprocess.Popen([TOMODACHI, "run", "--production", "--logger", "json", CONSUMER],
                                        stdout=subprocess.DEVNULL, stderr=self.log_file, env=env)
        deadline = time.time() + 300
        while "started service successfully" not in self.text():
            if self.process.poll() is not None or time.time() > deadline:
                raise RuntimeError("consumer did not start:\n" + self.text())
            time.sleep(0.05)

    def text(self):
        with open(self.log_path) as f:
            return f.read()

    def consumed(self):
        count = 0
        for line in self.text().splitlines():
            if '"consumed"' in line:
                count = json.loads(line)["count"]
        return count

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=60)
        self.log_file.close()
        os.unlink(self.log_path)


class ReferenceConsumer:
    """Python tomodachi's call pattern: long-poll batches of 10, one DeleteMessage per message."""

    def __init__(self, endpoint, queue_url):
        self.sqs = Sqs(endpoint)
        self.queue_url = queue_url
        self.count = 0
        self.running = True
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while self.running:
            try:
                self.receive_and_delete()
            except Exception:  # the emulator went away at the end of the run
                if self.running:
                    raise
                return

    def receive_and_delete(self):
        answer = self.sqs.call("ReceiveMessage", QueueUrl=self.queue_url, WaitTimeSeconds=20, MaxNumberOfMessages=10,
                               MessageAttributeNames=["All"],
                               AttributeNames=["ApproximateReceiveCount", "MessageDeduplicationId", "MessageGroupId"])
        for message in answer.get("Messages", []):
            body = json.loads(message["Body"])
            json.loads(body["Message"])  # the envelope, as the handler wrapper parses it
            self.sqs.call("DeleteMessage", QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
            self.count += 1

    def consumed(self):
        return self.count

    def stop(self):
        self.running = False


def steady_publish(sqs, queue_url, rate, duration):
    sent = 0
    start = time.monotonic()
    total = int(rate * duration)
    while sent < total:
        due = start + sent / rate
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        sqs.call("SendMessage", QueueUrl=queue_url, MessageBody=tomodachi_body(queue_url, {"n": sent}))
        sent += 1
    return sent, time.monotonic() - start


def wait_consumed(consumer, count, timeout=60):
    deadline = time.time() + timeout
    while consumer.consumed() < count and time.time() < deadline:
        time.sleep(0.05)
    return consumer.consumed()


def calls_per_message(emulator, name, rate, duration):
    admin = Sqs(emulator.endpoint)
    queue = "bench-steady-%s-%s" % (name, uuid.uuid4().hex[:6])
    queue_url = admin.call("CreateQueue", QueueName=queue)["QueueUrl"]
    consumer = CppConsumer(emulator.endpoint, queue) if name == "cpp" else ReferenceConsumer(emulator.endpoint, queue_url)
    time.sleep(1.0)
    publisher = Sqs(emulator.endpoint)
    offset = emulator.log_offset()
    sent, elapsed = steady_publish(publisher, queue_url, rate, duration)
    consumed = wait_consumed(consumer, sent)
    time.sleep(1.0)  # settle pending deletes
    calls = emulator.calls_since(offset, publisher.ports | admin.ports)
    consumer.stop()
    return {"sent": sent, "publish_seconds": elapsed, "consumed": consumed, "calls": calls,
            "calls_per_message": calls / max(consumed, 1)}


def throughput(emulator, name, preload):
    admin = Sqs(emulator.endpoint)
    queue = "bench-drain-%s-%s" % (name, uuid.uuid4().hex[:6])
    queue_url = admin.call("CreateQueue", QueueName=queue)["QueueUrl"]
    for start in range(0, preload, 10):
        entries = [{"Id": str(i), "MessageBody": tomodachi_body(queue_url, {"n": start + i})}
                   for i in range(min(10, preload - start))]
        admin.call("SendMessageBatch", QueueUrl=queue_url, Entries=entries)
    started = time.monotonic()
    consumer = CppConsumer(emulator.endpoint, queue) if name == "cpp" else ReferenceConsumer(emulator.endpoint, queue_url)
    if name == "cpp":
        started = time.monotonic()  # from the service's readiness (compile/start time excluded)
    consumed = wait_consumed(consumer, preload, timeout=600)
    elapsed = time.monotonic() - started
    consumer.stop()
    return {"consumed": consumed, "seconds": elapsed, "messages_per_second": consumed / elapsed}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--preload", type=int, default=5000)
    args = parser.parse_args()
    emulator = Emulator()
    try:
        results = {}
        for name in ("cpp", "reference"):
            results[name] = {"steady": calls_per_message(emulator, name, args.rate, args.duration),
                             "drain": throughput(emulator, name, args.preload)}
        print("SNS/SQS consumer against fauxqs: %.0f msg/s for %.0f s, then %d queued messages"
              % (args.rate, args.duration, args.preload))
        print("%-10s %10s %10s %14s %16s" % ("consumer", "consumed", "api calls", "calls/message", "drain msg/s"))
        for name, result in results.items():
            print("%-10s %10d %10d %14.3f %16.1f" % (name, result["steady"]["consumed"], result["steady"]["calls"],
                                                     result["steady"]["calls_per_message"],
                                                     result["drain"]["messages_per_second"]))
        cpp, ref = results["cpp"], results["reference"]
        print("ratio: calls/message %.2fx fewer than the reference; drain throughput %.2fx the reference"
              % (ref["steady"]["calls_per_message"] / max(cpp["steady"]["calls_per_message"], 1e-9),
                 cpp["drain"]["messages_per_second"] / max(ref["drain"]["messages_per_second"], 1e-9)))
        print(json.dumps(results))
        # The figure only means something at the rate asked for: the publisher must keep up.
        rates_ok = True
        for name, result in results.items():
            steady = result["steady"]
            achieved = steady["sent"] / max(steady["publish_seconds"], 1e-9)
            print("%s: publisher achieved %.1f msg/s (asked %.0f)" % (name, achieved, args.rate))
            if achieved < 0.95 * args.rate:
                print("%s: the publisher fell behind the asked rate; calls/message is not comparable" % name)
                rates_ok = False
        bar = (rates_ok and cpp["steady"]["calls_per_message"] <= 0.3 and
               cpp["steady"]["consumed"] == cpp["steady"]["sent"])
        return 0 if bar else 1
    finally:
        emulator.stop()


if __name__ == "__main__":
    sys.exit(main())
