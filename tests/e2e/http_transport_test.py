"""End-to-end tests of the HTTP transport against real `tomodachi run` processes:
the HTTP/websocket scenarios of spec/tests.md (test_http_service.py, test_access_log,
test_start_2_process_http_0.py) plus malformed input, keep-alive limits and the drain."""

import json
import os
import signal
import socket
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from http_support import Connection, ServiceProcess, get, request, websocket_connect  # noqa: E402

SERVICE = "http_e2e_service.so"
IMAGE = open(os.path.join(os.path.dirname(__file__), "..", "services", "static_files", "image.png"), "rb").read()


class HttpService(unittest.TestCase):
    """One service process shared by the request-level tests."""

    @classmethod
    def setUpClass(cls):
        cls.log_dir = tempfile.TemporaryDirectory()
        cls.access_log = os.path.join(cls.log_dir.name, "access.log")
        cls.service = ServiceProcess(SERVICE, env={"HTTP_E2E_ACCESS_LOG": cls.access_log})
        try:
            cls.port = cls.service.port()
        except BaseException:
            cls.service.proc.kill()
            cls.service.proc.wait()
            cls.log_dir.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        code = cls.service.stop()
        cls.log_dir.cleanup()
        assert code == 0, cls.service.output()

    def get(self, path, headers=""):
        return request(self.port, get(path, headers))

    def test_port_is_random_and_reported(self):
        self.assertGreater(self.port, 0)
        self.assertNotEqual(self.port, 9700)

    def test_response_shapes(self):
        reply = self.get("/test")
        self.assertEqual((reply.status, reply.body), (200, b"test"))
        self.assertEqual(reply.header("server"), "tomodachi")
        self.assertEqual(reply.header("content-type"), "text/plain; charset=utf-8")
        reply = self.get("/dict")
        self.assertEqual((reply.body, reply.header("x-dict")), (b"test dict", "test"))
        reply = self.get("/tuple")
        self.assertEqual((reply.body, reply.header("x-tuple")), (b"test tuple", "test"))
        reply = self.get("/response")
        self.assertEqual((reply.body, reply.header("x-tomodachi-response")), (b"test tomodachi response", "test"))
        self.assertEqual(self.get("/test/123456789").body, b"test 123456789")
        for path, body in (("/empty", b""), ("/bytes", "test åäö".encode()), ("/none", b"")):
            reply = self.get(path)
            self.assertEqual((reply.status, reply.body), (200, body), path)
            self.assertEqual(reply.header("content-type"), "text/plain; charset=utf-8", path)

    def test_content_types(self):
        self.assertEqual(self.get("/content-type/passthrough").header("content-type"), "text/plain; ")
        reply = self.get("/content-type/latin1")
        self.assertEqual((reply.status, reply.body), (200, "test åäö".encode("iso-8859-1")))
        for path in ("/content-type/unencodable", "/content-type/utf-9"):
            reply = self.get(path)
            self.assertEqual(reply.status, 500, path)
            self.assertEqual(reply.header("content-type"), "text/plain; charset=utf-8", path)

    def test_errors_head_and_methods(self):
        reply = self.get("/unknown")
        self.assertEqual((reply.status, reply.body), (404, b"test 404"))
        reply = request(self.port, "POST /test HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        self.assertEqual(reply.status, 405)
        self.assertEqual(reply.header("allow"), "GET,HEAD")
        reply = request(self.port, "HEAD /test HTTP/1.1\r\nHost: x\r\n\r\n", head=True)
        self.assertEqual((reply.status, reply.header("content-length")), (200, "4"))
        reply = self.get("/exception")
        self.assertEqual((reply.status, reply.body, reply.header("server")), (500, b"", "tomodachi"))
        self.assertTrue(self.service.wait_for(lambda r: r.get("message") == "uncaught exception: test exception", 5))

    def test_slow_handler_finishes_after_client_timeout(self):
        connection = Connection(self.port, timeout=0.1)
        connection.send(get("/slow"))
        with self.assertRaises(socket.timeout):
            connection.read_reply()
        connection.close()
        # the handler completes; the access log shows the client went away (499)
        record = self.service.wait_for(lambda r: r.get("request_path") == "/slow" and r.get("status_code") == 499, 5)
        self.assertIsNotNone(record, self.service.output())
        self.assertEqual(record["replaced_status_code"], 200)
        reply = request(self.port, get("/slow"))
        self.assertEqual(reply.body, b"slow")

    def test_slow_exception_after_the_client_left(self):
        connection = Connection(self.port, timeout=0.1)
        connection.send(get("/slow-exception"))
        with self.assertRaises(socket.timeout):
            connection.read_reply()
        connection.close()
        record = self.service.wait_for(
            lambda r: r.get("request_path") == "/slow-exception" and r.get("status_code") == 499, 5)
        self.assertIsNotNone(record, self.service.output())
        self.assertEqual(record["replaced_status_code"], 500)
        error = self.service.wait_for(lambda r: r.get("message") == "uncaught exception: test slow exception", 5)
        self.assertIsNotNone(error, self.service.output())
        self.assertEqual((error.get("handler"), error.get("type")), ("slow_exception", "tomodachi.http"))

    def test_stacked_routes_on_one_handler(self):
        # spec/http.md §2: three routes on one handler; a group that did not participate is empty
        self.assertEqual(self.get("/x/4711").body, b"/x/4711 4711 ")
        self.assertEqual(self.get("/ytest/0").body, b"/ytest/0 test 0")
        self.assertEqual(self.get("/z").body, b"/z  ")

    def test_real_ip_and_basic_auth(self):
        self.assertEqual(self.get("/forwarded-for").body, b"127.0.0.1")
        self.assertEqual(self.get("/forwarded-for", "X-Forwarded-For: 192.168.0.1, 10.0.0.1\r\n").body, b"192.168.0.1")
        self.assertEqual(self.get("/authorization", "Authorization: Basic YXV0aHVzZXI6c2VjcmV0YWY=\r\n").body,
                         b"authuser")
        self.assertEqual(self.get("/authorization", "Authorization: Basic 0123456789\r\n").body, b"")
        record = self.service.wait_for(lambda r: r.get("auth_user") == "authuser", 5)
        self.assertIsNotNone(record)

    def test_middleware(self):
        self.assertEqual(self.get("/test", "X-Use-Middleware: Before\r\n").body, b"before")
        self.assertEqual(self.get("/test", "X-Use-Middleware: After\r\n").body, b"after")
        reply = self.get("/test", "X-Use-Middleware: Set\r\n")
        self.assertEqual((reply.body, reply.header("x-middleware")), (b"test", "set"))

    def test_static_files(self):
        for path in ("/static/image.png", "/download/image.png/image"):
            reply = self.get(path)
            self.assertEqual((reply.status, reply.header("content-type"), reply.body), (200, "image/png", IMAGE), path)
        # a missing file goes through the http_error(404) handler, as upstream's HTTPNotFound
        reply = self.get("/static/image-404.png")
        self.assertEqual((reply.status, reply.body), (404, b"test 404"))
        for attempt in ("/static/../secret.txt", "/static/..%2Fsecret.txt", "/static/%2e%2e/secret.txt",
                        "/static/escape.txt", "/static//etc/passwd", "/static/%2Fetc%2Fpasswd",
                        "/static/../../../../etc/passwd"):
            reply = self.get(attempt)
            self.assertEqual((reply.status, reply.body), (404, b"test 404"), attempt)
            self.assertNotIn(b"top secret", reply.body)
            self.assertNotIn(b"root:", reply.body)

    def test_multipart_file_upload(self):
        boundary = "----tomodachi-e2e"
        body = ("--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"image.png\"\r\n"
                "Content-Type: image/png\r\n\r\n").format(b=boundary).encode() + IMAGE + \
            "\r\n--{b}--\r\n".format(b=boundary).encode()
        reply = request(self.port, "POST /file-upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; "
                        "boundary={}\r\nContent-Length: {}\r\n\r\n".format(boundary, len(body)).encode() + body)
        self.assertEqual((reply.status, reply.body), (200, b"image.png: " + IMAGE))
        reply = request(self.port, "POST /file-upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; "
                        "boundary=x\r\nContent-Length: 7\r\n\r\ngarbage")
        self.assertEqual((reply.status, reply.body), (400, b"malformed multipart body"))

    def test_websocket_round_trip(self):
        connection, reply = websocket_connect(self.port, "/websocket-data", "User-Agent: e2e-websocket\r\n")
        self.assertEqual(reply.status, 101)
        self.assertEqual(connection.ws_read(), (1, b"user-agent: e2e-websocket"))
        connection.ws_send("9e2546ef-7fe1-4f94-a3fc-5dc85a771a17")
        self.assertEqual(connection.ws_read(), (1, b"received: 9e2546ef-7fe1-4f94-a3fc-5dc85a771a17"))
        connection.ws_send(b"\x00\x01", opcode=0x2)  # binary: not delivered
        connection.ws_send(b"\x03\xe8", opcode=0x8)  # close 1000
        opcode, _ = connection.ws_read()
        self.assertEqual(opcode, 8)
        connection.sock.shutdown(socket.SHUT_WR)
        self.assertTrue(connection.closed_by_server())
        connection.close()
        record = self.service.wait_for(lambda r: r.get("websocket_state") == "closed", 5)
        self.assertIsNotNone(record, self.service.output())
        self.assertEqual(record["logger"], "tomodachi.http.response")  # spec §10, like upstream
        self.assertEqual(record["user_agent"], "e2e-websocket")
        self.assertRegex(record["total_request_time"], r"^\d+\.\d{5}s$")
        opened = self.service.wait_for(lambda r: r.get("websocket_state") == "open", 5)
        self.assertEqual(opened["logger"], "tomodachi.http.websocket")
        # the access-log file takes tomodachi.http.response records: the closed one too
        time.sleep(0.1)
        with open(self.access_log, encoding="utf-8") as file:
            lines = [json.loads(line) for line in file if '"websocket_state"' in line]
        self.assertEqual([line["websocket_state"] for line in lines if line["websocket_id"] == record["websocket_id"]],
                         ["closed"])

    def test_malformed_input(self):
        cases = [
            ("invalid request line", b"THIS IS NOT HTTP\r\n\r\n", 400),
            ("oversized headers", b"GET /test HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n", 431),
            ("oversized body", b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n", 413),
            ("bad chunked encoding",
             b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nabc\r\n0\r\n\r\n", 400),
            ("invalid websocket handshake", get("/websocket-data", "Upgrade: websocket\r\nConnection: Upgrade\r\n")
             .encode(), 400),
        ]
        for name, raw, status in cases:
            reply = request(self.port, raw)
            self.assertEqual(reply.status, status, name)
            self.assertEqual(reply.header("connection"), "close", name)
            self.assertEqual(reply.header("server"), "tomodachi", name)
            self.assertEqual(self.get("/test").body, b"test", "still serving after " + name)

    def test_access_log_file(self):
        request(self.port, "POST /test_ignore_one HTTP/1.1\r\nHost: x\r\nX-Status: 201\r\nContent-Length: 0\r\n\r\n")
        request(self.port, "POST /test_ignore_one HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        self.get("/test_ignore_all")
        request(self.port, "POST /unknown-path HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789")
        self.get("/404")
        request(self.port, "POST /zero-post HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        time.sleep(0.2)
        with open(self.access_log, encoding="utf-8") as file:
            text = file.read()
        self.assertIn("accepting http requests", text)
        self.assertIn("http://localhost:{}/".format(self.port), text)
        self.assertIn('"status_code": 201, "remote_ip": "127.0.0.1", "request_method": "POST", '
                      '"request_path": "/test_ignore_one", "http_version": "HTTP/1.1", '
                      '"response_content_length": 8, "user_agent": ', text)
        self.assertNotIn('"status_code": 200, "remote_ip": "127.0.0.1", "request_method": "POST", '
                         '"request_path": "/test_ignore_one"', text)
        self.assertNotIn("/test_ignore_all", text)
        self.assertIn('"status_code": 404, "remote_ip": "127.0.0.1", "request_method": "POST", '
                      '"request_path": "/unknown-path", "http_version": "HTTP/1.1", '
                      '"response_content_length": 8, "request_content_length": 10, '
                      '"request_content_read_length": 10, "user_agent": ', text)
        # upstream's test_access_log strings for a GET and an empty POST to unknown paths
        self.assertIn('"status_code": 404, "remote_ip": "127.0.0.1", "request_method": "GET", "request_path": "/404", '
                      '"http_version": "HTTP/1.1", "response_content_length": 8, "user_agent": ', text)
        self.assertIn('"status_code": 404, "remote_ip": "127.0.0.1", "request_method": "POST", '
                      '"request_path": "/zero-post", "http_version": "HTTP/1.1", "response_content_length": 8, '
                      '"user_agent": ', text)
        for line in text.splitlines():
            record = json.loads(line)
            if record.get("request_path") in ("/404", "/zero-post"):
                self.assertRegex(record["handler_elapsed_time"], r"^\d+\.\d{5}s$")


class KeepAlive(unittest.TestCase):
    def test_headers_limits_and_idle_timeout(self):
        service = ServiceProcess(SERVICE, env={"HTTP_E2E_KEEPALIVE_TIMEOUT": "2",
                                               "HTTP_E2E_MAX_KEEPALIVE_REQUESTS": "3"})
        try:
            port = service.port()
            connection = Connection(port)
            for i in range(1, 4):
                connection.send(get("/test"))
                reply = connection.read_reply()
                self.assertEqual(reply.body, b"test")
                if i < 3:
                    self.assertEqual(reply.header("connection"), "keep-alive")
                    self.assertEqual(reply.header("keep-alive"), "timeout=2, max=3")
                else:
                    self.assertEqual(reply.header("connection"), "close")
            self.assertTrue(connection.closed_by_server(2))
            idle = Connection(port)
            idle.send(get("/test"))
            idle.read_reply()
            started = time.monotonic()
            self.assertTrue(idle.closed_by_server(5))
            self.assertGreaterEqual(time.monotonic() - started, 1.5)
        finally:
            self.assertEqual(service.stop(), 0)

    def test_max_keepalive_time(self):
        service = ServiceProcess(SERVICE, env={"HTTP_E2E_KEEPALIVE_TIMEOUT": "5",
                                               "HTTP_E2E_MAX_KEEPALIVE_TIME": "1"})
        try:
            port = service.port()
            connection = Connection(port)
            connection.send(get("/test"))
            reply = connection.read_reply()
            self.assertEqual((reply.header("connection"), reply.header("keep-alive")), ("keep-alive", "timeout=5"))
            time.sleep(1.3)  # the connection is now older than max_keepalive_time
            connection.send(get("/test"))
            reply = connection.read_reply()
            self.assertEqual((reply.body, reply.header("connection")), (b"test", "close"))
            self.assertTrue(connection.closed_by_server(2))
        finally:
            self.assertEqual(service.stop(), 0)

    def test_bad_combination_is_a_start_failure(self):
        service = ServiceProcess(SERVICE, env={"HTTP_E2E_MAX_KEEPALIVE_REQUESTS": "3"})
        code = service.proc.wait(60)
        self.assertEqual(code, 1, service.output())
        self.assertIn("HTTP keep-alive must be enabled to use http option max_keepalive_requests", service.output())


class SlowClients(unittest.TestCase):
    def test_slow_header_client_is_cut_and_service_keeps_serving(self):
        service = ServiceProcess(SERVICE, env={"HTTP_E2E_HEADER_TIMEOUT": "1"})
        try:
            port = service.port()
            slow = Connection(port)
            slow.send("GET /test HTTP/1.1\r\nHost: x\r\n")  # never finishes its headers
            started = time.monotonic()
            self.assertTrue(slow.closed_by_server(4))
            self.assertLess(time.monotonic() - started, 3)
            self.assertEqual(request(port, get("/test")).body, b"test")
        finally:
            self.assertEqual(service.stop(), 0)


class LingeringClose(unittest.TestCase):
    def test_a_large_upload_without_expect_gets_its_413(self):
        service = ServiceProcess(SERVICE, env={"HTTP_E2E_CLIENT_MAX_SIZE": "2048"})
        try:
            port = service.port()
            connection = Connection(port)
            connection.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n" + "x" * 10000)
            reply = connection.read_reply()
            self.assertEqual((reply.status, reply.header("connection")), (413, "close"))
            # the server reads on after its answer: the rest of the upload is no reset
            time.sleep(0.05)
            connection.send(b"y" * 16384)
            time.sleep(0.05)
            connection.send(b"y" * 16384)
            self.assertTrue(connection.closed_by_server(3))
            connection.close()
            self.assertEqual(request(port, get("/test")).body, b"test")
        finally:
            self.assertEqual(service.stop(), 0)


class Drain(unittest.TestCase):
    def test_in_flight_requests_complete_and_new_connections_are_refused(self):
        service = ServiceProcess(SERVICE, env={"HTTP_E2E_GRACE": "10"})
        self.addCleanup(lambda: service.proc.poll() is None and service.proc.kill())
        port = service.port()
        results = []

        def client():
            try:
                connection = Connection(port, timeout=15)
                connection.send(get("/slow"))
                reply = connection.read_reply()
                results.append((reply.status, reply.body, time.monotonic()))
            except Exception as error:  # noqa: BLE001
                results.append(("error", repr(error), time.monotonic()))

        threads = [threading.Thread(target=client) for _ in range(8)]
        for thread in threads:
            thread.start()
        time.sleep(0.5)  # the requests are in flight
        sigterm_at = time.monotonic()
        service.signal(signal.SIGTERM)
        time.sleep(0.3)
        with self.assertRaises(OSError):  # the listener is closed: refused, not hung
            socket.create_connection(("127.0.0.1", port), timeout=2)
        for thread in threads:
            thread.join(15)
        self.assertEqual(len(results), 8)
        for status, body, finished in results:
            self.assertEqual((status, body), (200, b"slow"))
            self.assertLess(finished - sigterm_at, 10)
        self.assertEqual(service.proc.wait(20), 0, service.output())


    def test_an_upload_in_progress_completes(self):
        service = ServiceProcess(SERVICE, env={"HTTP_E2E_GRACE": "10", "HTTP_E2E_KEEPALIVE_TIMEOUT": "5"})
        self.addCleanup(lambda: service.proc.poll() is None and service.proc.kill())
        port = service.port()
        connection = Connection(port, timeout=15)
        connection.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + "a" * 500)
        time.sleep(0.3)
        service.signal(signal.SIGTERM)
        time.sleep(1.5)  # the body is still arriving well after the stop began
        connection.send("b" * 500)
        reply = connection.read_reply()
        self.assertEqual((reply.status, reply.body), (200, b"a" * 500 + b"b" * 500))
        self.assertEqual(reply.header("connection"), "close")
        self.assertEqual(service.proc.wait(20), 0, service.output())


class ReusePort(unittest.TestCase):
    def test_two_services_in_one_process_share_the_port(self):
        port = free_port()
        service = ServiceProcess("http_two_services.so", env={"HTTP_E2E_PORT": str(port)})
        try:
            self.assertEqual(service.port(), port)
            deadline = time.monotonic() + 30
            while len(service.find(lambda r: r.get("message") == "accepting http requests")) < 2:
                self.assertLess(time.monotonic(), deadline, service.output())
                time.sleep(0.05)
            uuids = set()
            for _ in range(100):
                uuids.add(request(port, get("/get-uuid")).body)
                if len(uuids) == 2:
                    break
            self.assertEqual(len(uuids), 2)
        finally:
            self.assertEqual(service.stop(), 0)
        # upstream's function_order, for each of the two services
        order = {}
        for record in service.find(lambda r: r.get("message") == "hook called"):
            order.setdefault(record.get("service"), []).append(record["hook"])
        self.assertEqual(order, {"share_a": ["start_service", "started_service", "stop_service"],
                                 "share_b": ["start_service", "started_service", "stop_service"]},
                         service.output())

    def test_bind_failure_is_exit_1_with_the_spec_message(self):
        blocker = socket.socket()
        blocker.bind(("0.0.0.0", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        try:
            service = ServiceProcess(SERVICE, env={"HTTP_E2E_PORT": str(port), "HTTP_E2E_NO_REUSE_PORT": "1"})
            code = service.proc.wait(60)
            self.assertEqual(code, 1, service.output())
            record = service.wait_for(lambda r: r.get("message", "").startswith("unable to bind service [http]"), 5)
            self.assertIsNotNone(record, service.output())
            self.assertEqual(record["message"], "unable to bind service [http] to http://localhost:{}/".format(port))
            self.assertEqual(record["error_message"], "address already in use")
        finally:
            blocker.close()


class StartOrder(unittest.TestCase):
    def test_not_listening_until_the_start_hooks_finished(self):
        # The port is reserved for the whole test by a bound, never listening SO_REUSEPORT
        # socket: no other process can take it while the service sleeps in its start hook
        # (a free_port() chosen in advance raced with parallel tests), a connection attempt
        # is refused until the service (also SO_REUSEPORT, same user) listens on it.
        reserve = socket.socket()
        reserve.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        reserve.bind(("0.0.0.0", 0))
        self.addCleanup(reserve.close)
        port = reserve.getsockname()[1]
        service = ServiceProcess(SERVICE, env={"HTTP_E2E_PORT": str(port), "HTTP_E2E_START_SLEEP": "2"})
        try:
            self.assertIsNotNone(service.wait_for(lambda r: r.get("message") == "starting the service", 60))
            time.sleep(0.5)
            with self.assertRaises(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=1)
            self.assertEqual(service.port(), port)
            self.assertEqual(request(port, get("/test")).body, b"test")
        finally:
            self.assertEqual(service.stop(), 0)


class AccessLogFile(unittest.TestCase):
    def test_missing_directory_is_a_start_failure(self):
        path = "/nonexistent-dir-for-tomodachi/access.log"
        service = ServiceProcess(SERVICE, env={"HTTP_E2E_ACCESS_LOG": path})
        self.assertEqual(service.proc.wait(60), 1, service.output())
        record = service.wait_for(lambda r: r.get("message", "").startswith("Unable to use file for access log"), 5)
        self.assertIsNotNone(record, service.output())
        self.assertEqual(record["message"], 'Unable to use file for access log - invalid path ("{}")'.format(path))


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


if __name__ == "__main__":
    unittest.main()
