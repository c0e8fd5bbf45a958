"""Health endpoints (docs/operations.md): real `tomodachi run` processes of
tests/services/health_service.cpp, probed over HTTP like a kubelet would."""

import http.client
import json
import os
import signal
import socket
import threading
import time
import unittest

import harness

SERVICE = harness.service("health_service.cpp")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path, method="GET", timeout=2.0):
    """(status, body) of one request on a new connection; (None, error) when it failed."""
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        conn.request(method, path)
        response = conn.getresponse()
        body = response.read().decode()
        conn.close()
        return response.status, body
    except (OSError, http.client.HTTPException) as error:
        return None, repr(error)


def checks(body):
    return {check["name"]: check for check in json.loads(body)["checks"]}


def wait_until(predicate, timeout=60.0, interval=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


class HealthCase(unittest.TestCase):
    def start(self, **env):
        self.process = harness.Process(["run", "--production", SERVICE], **env)
        self.addCleanup(self.process.stop)
        return self.process

    def wait_status(self, port, path, status, timeout=60.0):
        result = wait_until(lambda: (lambda r: r if r[0] == status else None)(get(port, path)), timeout)
        self.assertTrue(result, "%s never answered %s; last: %r\n%s" % (path, status, get(port, path),
                                                                      self.process.log()[-3000:]))
        return result


class ManagementListener(HealthCase):
    def test_answers_before_start_service_completes_then_startup_passes(self):
        health = free_port()
        http_port = free_port()
        self.start(TOMODACHI_TEST_HEALTH_PORT=health, TOMODACHI_TEST_HTTP_PORT=http_port,
                   TOMODACHI_TEST_START_DELAY=6)
        status, body = self.wait_status(health, "/startupz", 503, timeout=120)
        self.assertNotIn("start_service done", self.process.log())
        self.assertEqual(checks(body)["startup"]["ok"], False)
        self.assertEqual(get(health, "/livez")[0], 200)
        status, body = get(health, "/readyz")
        self.assertEqual(status, 503)
        self.assertIn("still starting", checks(body)["startup"]["reason"])
        self.wait_status(health, "/startupz", 200, timeout=30)
        self.assertIn("start_service done", self.process.log())
        status, body = self.wait_status(health, "/readyz", 200, timeout=10)
        self.assertTrue(checks(body)["http:%d" % http_port]["ok"])
        # HEAD answers too, without a body; other paths and methods do not.
        self.assertEqual(get(health, "/readyz", method="HEAD"), (200, ""))
        self.assertEqual(get(health, "/other")[0], 404)
        self.assertEqual(get(health, "/livez", method="POST")[0], 405)
        # The service's own port does not serve them when health.port is set.
        self.assertEqual(get(http_port, "/readyz")[0], 404)

    def test_livez_fails_fast_while_a_handler_blocks_the_loop(self):
        health = free_port()
        http_port = free_port()
        self.start(TOMODACHI_TEST_HEALTH_PORT=health, TOMODACHI_TEST_HTTP_PORT=http_port)
        self.wait_status(health, "/readyz", 200, timeout=120)
        blocker = threading.Thread(target=get, args=(http_port, "/block?seconds=5", "GET", 10))
        blocker.start()
        try:
            time.sleep(2.0)  # health.max_loop_lag is 1 s in the test service
            started = time.time()
            status, body = get(health, "/livez?verbose", timeout=2)
            elapsed = time.time() - started
            self.assertEqual(status, 503, body)
            self.assertLess(elapsed, 1.0)
            self.assertIn("[-]loop failed: no loop heartbeat for", body)
            self.assertTrue(body.endswith("livez check failed\n"), body)
            self.assertEqual(get(health, "/readyz")[0], 503)
        finally:
            blocker.join()
        self.wait_status(health, "/livez", 200, timeout=5)

    def test_readiness_check_hook(self):
        health = free_port()
        http_port = free_port()
        self.start(TOMODACHI_TEST_HEALTH_PORT=health, TOMODACHI_TEST_HTTP_PORT=http_port,
                   TOMODACHI_TEST_DB_CHECK=1)
        self.wait_status(health, "/readyz", 200, timeout=120)
        self.assertEqual(get(http_port, "/db?ok=0")[0], 200)
        status, body = self.wait_status(health, "/readyz", 503, timeout=5)
        self.assertEqual(checks(body)["database"]["reason"], "database unreachable (test)")
        status, body = get(health, "/readyz?verbose")
        self.assertIn("[-]database failed: database unreachable (test)\n", body)
        self.assertIn("[+]loop ok\n", body)
        get(http_port, "/db?ok=1")
        self.wait_status(health, "/readyz", 200, timeout=5)


    def test_readiness_checks_that_time_out_or_raise_fail_with_the_reason(self):
        health = free_port()
        self.start(TOMODACHI_TEST_HEALTH_PORT=health, TOMODACHI_TEST_HTTP_PORT=free_port(),
                   TOMODACHI_TEST_SLOW_CHECK=1)
        self.wait_status(health, "/startupz", 200, timeout=120)

        def both_reported():
            status, body = get(health, "/readyz")
            found = checks(body)
            ok = ("did not answer" in found["slow"].get("reason", "")
                  and "cache offline" in found["raising"].get("reason", ""))
            return (status, found) if ok else None

        status, found = wait_until(both_reported, timeout=10) or (None, {})
        self.assertEqual(status, 503, found)
        self.assertEqual(found["slow"]["reason"], "the check did not answer within 0.5 s")
        self.assertEqual(found["raising"]["reason"], "the check raised: cache offline")
        self.assertEqual(get(health, "/livez")[0], 200)


class ServedByTheHttpServer(HealthCase):
    def test_paths_on_the_service_port_outside_the_access_log(self):
        http_port = free_port()
        self.start(TOMODACHI_TEST_HTTP_PORT=http_port)
        status, body = self.wait_status(http_port, "/readyz", 200, timeout=120)
        self.assertEqual(json.loads(body)["status"], "ok")
        self.assertEqual(get(http_port, "/livez")[0], 200)
        self.assertEqual(get(http_port, "/startupz")[0], 200)
        status, body = get(http_port, "/readyz?verbose")
        self.assertTrue(body.endswith("readyz check passed\n"), body)
        self.assertEqual(get(http_port, "/ping"), (200, "pong"))
        self.assertTrue(self.process.wait_for_log("request_path=/ping", timeout=5))
        self.assertNotIn("request_path=/readyz", self.process.log())
        self.assertNotIn("request_path=/livez", self.process.log())
        self.assertEqual(get(http_port, "/readyz", method="HEAD"), (200, ""))

    def test_path_prefix(self):
        http_port = free_port()
        self.start(TOMODACHI_TEST_HTTP_PORT=http_port, TOMODACHI_TEST_HEALTH_PREFIX="/health/")
        self.wait_status(http_port, "/health/readyz", 200, timeout=120)
        self.assertEqual(get(http_port, "/health/livez")[0], 200)
        self.assertEqual(get(http_port, "/readyz")[0], 404)

    def test_a_bad_path_prefix_fails_the_start(self):
        result = harness.run(["run", "--production", SERVICE], timeout=180,
                             TOMODACHI_TEST_HTTP_PORT=free_port(), TOMODACHI_TEST_HEALTH_PREFIX="health")
        self.assertEqual(result.returncode, 1, result.output[-2000:])
        self.assertIn("Invalid value for option 'health.path_prefix': \"health\"", result.output)

    def test_drain_order_under_load(self):
        http_port = free_port()
        self.start(TOMODACHI_TEST_HTTP_PORT=http_port, TOMODACHI_TEST_DRAIN_DELAY=2,
                   TOMODACHI_TEST_GRACE=10)
        self.wait_status(http_port, "/readyz", 200, timeout=120)
        results = []  # (time, status) of /ping requests, each on a new connection
        stop = threading.Event()

        def load():
            while not stop.is_set():
                status, _ = get(http_port, "/ping", timeout=2)
                results.append((time.time(), status))

        workers = [threading.Thread(target=load) for _ in range(3)]
        for worker in workers:
            worker.start()
        time.sleep(0.5)
        sigterm = time.time()
        self.process.signal(signal.SIGTERM)
        ready_failed = None
        while time.time() < sigterm + 1.5:
            status, _ = get(http_port, "/readyz", timeout=1)
            if status == 503:
                ready_failed = time.time()
                break
            time.sleep(0.02)
        time.sleep(3)
        stop.set()
        for worker in workers:
            worker.join()
        result = self.process.wait(timeout=30)
        self.assertEqual(result.returncode, 0, result.output[-2000:])
        self.assertIsNotNone(ready_failed, "readyz never answered 503 after SIGTERM")
        self.assertLess(ready_failed - sigterm, 0.5)
        during_delay = [r for r in results if sigterm <= r[0] < sigterm + 1.8]
        self.assertGreater(len(during_delay), 10)
        self.assertEqual([r for r in during_delay if r[1] != 200], [])
        failed = [r for r in results if r[1] != 200]
        self.assertTrue(failed, "the listener never closed")
        self.assertGreaterEqual(min(r[0] for r in failed) - sigterm, 1.9)
        self.assertIn("waiting health.drain_delay", result.output)


class Validation(unittest.TestCase):
    def test_drain_delay_not_below_the_deadline_fails_the_start(self):
        result = harness.run(["run", "--production", SERVICE], timeout=180,
                             TOMODACHI_TEST_HTTP_PORT=free_port(), TOMODACHI_TEST_DRAIN_DELAY=30,
                             TOMODACHI_TEST_GRACE=30)
        self.assertEqual(result.returncode, 1, result.output[-2000:])
        self.assertIn("Invalid value for option 'health.drain_delay': 30", result.output)

    def test_a_service_without_http_handlers_needs_a_health_port(self):
        result = harness.run(["run", "--production", SERVICE], timeout=180, TOMODACHI_TEST_DB_CHECK=1)
        self.assertEqual(result.returncode, 1, result.output[-2000:])
        self.assertIn("has no HTTP handlers to serve the health paths: set health.port", result.output)


if __name__ == "__main__":
    harness.main()
