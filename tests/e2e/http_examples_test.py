"""The HTTP examples (examples/http_*.cpp, examples/websocket_service.cpp) build with
`tomodachi build` and do what their comments promise."""

import json
import os
import socket
import sys
import tempfile
import unittest
import subprocess

sys.path.insert(0, os.path.dirname(__file__))
from http_support import BIN, Connection, ServiceProcess, get, request, websocket_connect  # noqa: E402

ROOT = os.environ.get("TOMODACHI_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))


class Examples(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.TemporaryDirectory()
        cls.config = os.path.join(cls.work.name, "random-port.json")
        with open(cls.config, "w") as file:
            json.dump({"options": {"http": {"port": 0}}}, file)

    @classmethod
    def tearDownClass(cls):
        cls.work.cleanup()

    def start(self, name, source=None):
        output = os.path.join(self.work.name, name + ".so")
        source = source or os.path.join(ROOT, "examples", name + ".cpp")
        build = subprocess.run([BIN, "build", source, "-o", output], capture_output=True, text=True)
        self.assertEqual(build.returncode, 0, build.stdout + build.stderr)
        service = ServiceProcess(output, args=("-c", self.config))
        self.addCleanup(lambda: self.assertEqual(service.stop(), 0, service.output()))
        return service.port()

    def test_readme_30_second_service(self):
        with open(os.path.join(ROOT, "README.md")) as file:
            readme = file.read()
        start = readme.index("```cpp\n// hello.cpp\n") + len("```cpp\n")
        source = os.path.join(self.work.name, "hello.cpp")
        with open(source, "w") as file:
            file.write(readme[start:readme.index("```", start)])
        port = self.start("hello", source)
        reply = request(port, get("/hello/world"))
        self.assertEqual((reply.status, reply.body), (200, b"hello, world!"))

    def test_http_service(self):
        port = self.start("http_service")
        self.assertEqual(request(port, get("/resource/4711")).body, b"id = 4711")
        self.assertEqual(request(port, get("/resource/4711/")).body, b"id = 4711")
        reply = request(port, get("/health"))
        self.assertEqual((reply.status, reply.body), (200, b"Healthy"))
        reply = request(port, get("/nothing-here"))
        self.assertEqual((reply.status, reply.body), (404, b"error 404"))

    def test_http_middleware_service(self):
        port = self.start("http_middleware_service")
        reply = request(port, get("/hello"))
        self.assertEqual(reply.body, b"hello")
        self.assertIsNotNone(reply.header("x-request-id"))
        self.assertIsNotNone(reply.header("x-elapsed"))
        reply = request(port, get("/hello", "X-Maintenance: 1\r\n"))
        self.assertEqual((reply.status, reply.body), (503, b"down for maintenance"))
        reply = request(port, get("/items/42"))
        self.assertEqual(json.loads(reply.body), {"id": "42", "even": True})
        self.assertEqual(reply.header("content-type"), "application/json; charset=utf-8")
        self.assertEqual(request(port, get("/items/7")).status, 403)

    def test_http_auth_service(self):
        port = self.start("http_auth_service")
        self.assertEqual(request(port, get("/public")).status, 200)
        reply = request(port, get("/private"))
        self.assertEqual(reply.status, 401)
        self.assertEqual(reply.header("www-authenticate"), 'Basic realm="example"')
        self.assertEqual(request(port, get("/private", "Authorization: Basic YWRtaW46c2VjcmV0\r\n")).body,
                         b"hello admin")
        self.assertEqual(request(port, get("/private", "Authorization: Bearer let-me-in\r\n")).body,
                         b"hello token-user")

    def test_websocket_service(self):
        port = self.start("websocket_service")
        page = request(port, get("/"))
        self.assertEqual(page.header("content-type"), "text/html; charset=utf-8")
        self.assertIn(b"new WebSocket", page.body)
        alice, reply = websocket_connect(port, "/chat")
        self.assertEqual(reply.status, 101)
        self.assertTrue(alice.ws_read()[1].endswith(b" joined"))
        bob, _ = websocket_connect(port, "/chat")
        self.assertTrue(bob.ws_read()[1].endswith(b" joined"))
        self.assertTrue(alice.ws_read()[1].endswith(b" joined"))  # alice sees bob join
        bob.ws_send("hello everyone")
        self.assertTrue(alice.ws_read()[1].endswith(b": hello everyone"))
        self.assertTrue(bob.ws_read()[1].endswith(b": hello everyone"))
        bob.close()
        self.assertTrue(alice.ws_read()[1].endswith(b" left"))
        alice.close()

    def test_websocket_service_a_stuck_client_does_not_freeze_the_chat(self):
        port = self.start("websocket_service")
        stuck = Connection(port)
        stuck.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stuck.send("GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        self.assertEqual(stuck.read_reply().status, 101)  # and then it never reads again
        bob, _ = websocket_connect(port, "/chat")
        bob.sock.settimeout(5)
        self.assertTrue(bob.ws_read()[1].endswith(b" joined"))
        # far more than the stuck client's socket buffers hold: every message still comes back to bob
        text = "x" * 16384
        for i in range(600):
            bob.ws_send(text)
            opcode, payload = bob.ws_read_message()
            self.assertTrue(payload.endswith(text.encode()), i)
        bob.close()
        stuck.close()


if __name__ == "__main__":
    unittest.main()
