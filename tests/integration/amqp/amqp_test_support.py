"""Helpers of the AMQP integration tests: the test RabbitMQ (rabbitmqctl on its node),
queue names computed the way Python tomodachi computes them, configs and log records."""

import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile

SOURCE_DIR = os.environ.get("TOMODACHI_SOURCE_DIR",
                            os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..")))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "e2e"))

import harness  # noqa: E402

SERVICES = os.path.join(SOURCE_DIR, "tests", "integration", "amqp", "services")
RABBITMQ_SH = os.path.join(SOURCE_DIR, "scripts", "test-peers", "rabbitmq.sh")
FIXTURES = os.environ.get("TOMODACHI_FIXTURES_DIR", os.path.join(SOURCE_DIR, "tests", "fixtures"))


def service(name):
    return os.path.join(SERVICES, name)


def broker_port():
    return int(harness.peer_env("rabbitmq")["TOMODACHI_TEST_AMQP_PORT"])


def ctl(*args):
    result = subprocess.run([RABBITMQ_SH, "ctl", harness.PEERS_DIR] + list(args), capture_output=True, text=True,
                            timeout=120)
    if result.returncode != 0:
        raise RuntimeError("rabbitmqctl %s failed: %s%s" % (" ".join(args), result.stdout, result.stderr))
    return result.stdout


def raw_client(*args, **kwargs):
    """tests/integration/amqp/raw_client.cpp: a bare rabbitmq-c client (no AMQP library for
    Python on Debian)."""
    binary = os.path.join(os.environ.get("TOMODACHI_BUILD_DIR", os.path.join(SOURCE_DIR, "build")), "bin",
                          "amqp_raw_client")
    return [binary, "127.0.0.1", str(broker_port())] + list(args)


def raw_get(queue):
    result = subprocess.run(raw_client("get", queue), capture_output=True, text=True, timeout=60)
    if result.returncode == 2:
        return None
    if result.returncode != 0:
        raise RuntimeError("amqp_raw_client get failed: " + result.stderr)
    return json.loads(result.stdout)


def restart_broker(seconds_down=0):
    subprocess.run([RABBITMQ_SH, "restart", harness.PEERS_DIR, str(seconds_down)], check=True, timeout=300,
                   capture_output=True)


def queues():
    """name -> {messages, arguments, durable, auto_delete, consumers}"""
    out = {}
    text = ctl("-q", "--no-table-headers", "list_queues", "name", "messages", "arguments", "durable", "auto_delete",
               "consumers")
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) == 6:
            out[fields[0]] = {"messages": int(fields[1]), "arguments": fields[2], "durable": fields[3],
                              "auto_delete": fields[4], "consumers": int(fields[5])}
    return out


def bindings():
    text = ctl("-q", "--no-table-headers", "list_bindings", "source_name", "destination_name", "routing_key")
    return [tuple(line.split("\t")) for line in text.splitlines() if line.count("\t") == 2]


def sha256hex(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def queue_name(prefix, encoded_routing_key, function_name=None, service_uuid=None):
    """spec/wire.md §2.4: competing = sha256(key), non-competing = sha256(key + function + uuid)."""
    if function_name is None:
        return prefix + sha256hex(encoded_routing_key)
    return prefix + sha256hex(encoded_routing_key + function_name + service_uuid)


def unique_tag(prefix):
    return "%s%08d" % (prefix, random.randrange(10 ** 8))


def write_config(content):
    handle = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    json.dump(content, handle)
    handle.close()
    return handle.name


def records(text):
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def messages(text, message):
    return [r for r in records(text) if r.get("message") == message]


def python_payload(case_id="build-spec-example"):
    with open(os.path.join(FIXTURES, "upstream", "json_base.json")) as f:
        fixture = json.load(f)
    return [c for c in fixture["cases"] if c["id"] == case_id][0]["expected"]["payload"]
