"""Websocket handshake and close handling over raw sockets (RFC 6455, issue #11 item 6),
against the websocket route of tests/services/http_e2e_service.cpp (`/websocket-data`,
which greets with "user-agent: ..." and answers "received: <text>")."""

import base64
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from http_support import Connection, ServiceProcess, get, request  # noqa: E402

SERVICE = "http_e2e_service.so"
PATH = "/websocket-data"


def handshake(key_lines, version_lines=("13",)):
    head = "GET {} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n".format(PATH)
    head += "".join("Sec-WebSocket-Key: {}\r\n".format(key) for key in key_lines)
    head += "".join("Sec-WebSocket-Version: {}\r\n".format(version) for version in version_lines)
    return head + "\r\n"


def key_of(length):
    return base64.b64encode(os.urandom(length)).decode()


class WebsocketRaw(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.service = ServiceProcess(SERVICE)
        try:
            cls.port = cls.service.port()
        except BaseException:
            cls.service.proc.kill()
            cls.service.proc.wait()
            raise

    @classmethod
    def tearDownClass(cls):
        assert cls.service.stop() == 0, cls.service.output()

    def still_serving(self):
        self.assertEqual(request(self.port, get("/test")).body, b"test")

    def test_the_rfc_example_key_is_accepted(self):
        # RFC 6455 §1.3: this key's accept value is s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
        connection = Connection(self.port)
        try:
            connection.send(handshake(["dGhlIHNhbXBsZSBub25jZQ=="]))
            reply = connection.read_reply()
            self.assertEqual(reply.status, 101)
            self.assertEqual(reply.header("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        finally:
            connection.close()

    def test_a_key_that_is_not_the_base64_of_16_bytes_is_400(self):
        keys = {
            "not base64": "this is not base64!!!!==",
            "15 bytes": key_of(15),
            "17 bytes": key_of(17),
            "32 bytes": key_of(32),
            "16 bytes without padding": key_of(16).rstrip("="),
            "empty": "",
            "16 bytes plus junk": key_of(16) + "x",
            "url-safe alphabet": base64.urlsafe_b64encode(b"\xfb\xff" * 8).decode(),
        }
        for label, key in keys.items():
            with self.subTest(label, key=key):
                reply = request(self.port, handshake([key]))
                self.assertEqual(reply.status, 400, "{!r} answered {}".format(key, reply.status_line))
        self.still_serving()

    def test_two_keys_are_400(self):
        for label, keys in (("two different", [key_of(16), key_of(16)]), ("the same twice", [key_of(16)] * 2)):
            key = keys[0]
            with self.subTest(label):
                reply = request(self.port, handshake(keys))
                self.assertEqual(reply.status, 400, "{} keys ({}) answered {}".format(label, key, reply.status_line))
        self.still_serving()

    def test_an_unsupported_version_is_426_naming_13(self):
        for version in ("8", "7", "12", "14", "0"):
            with self.subTest(version=version):
                reply = request(self.port, handshake([key_of(16)], [version]))
                self.assertEqual(reply.status, 426, "version {} answered {}".format(version, reply.status_line))
                self.assertEqual(reply.header("sec-websocket-version"), "13")
        self.still_serving()

    def close_with(self, payload):
        """Opens a websocket, sends a masked close frame with `payload`; returns the server's
        close payload and whether the server then closed the TCP connection."""
        connection = Connection(self.port, timeout=5)
        try:
            connection.send(handshake([key_of(16)]))
            reply = connection.read_reply()
            self.assertEqual(reply.status, 101)
            self.assertEqual(connection.ws_read()[0], 1)  # the greeting
            connection.ws_send(payload, opcode=0x8)
            while True:
                opcode, data = connection.ws_read()
                if opcode == 0x8:
                    break
            closed = connection.closed_by_server(3)
            return data, closed
        finally:
            connection.close()

    def test_a_close_frame_with_an_invalid_code_is_answered_1002(self):
        # RFC 6455 §7.4: 0-999 unused, 1004-1006 and 1015 reserved (never on the wire),
        # 1016-2999 for future protocol use, 5000 and above undefined
        for code in (0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535):
            with self.subTest(code=code):
                data, closed = self.close_with(code.to_bytes(2, "big") + b"bye")
                answered = int.from_bytes(data[:2], "big") if len(data) >= 2 else None
                self.assertEqual(answered, 1002, "close code {} answered with {}".format(code, answered))
                self.assertTrue(closed, "the server kept the connection after the close handshake")
        self.still_serving()

    def test_a_close_frame_of_one_byte_is_answered_1002(self):
        # RFC 6455 §5.5.1: a close body starts with a 2-byte code; one byte is a protocol error
        data, closed = self.close_with(b"\x03")
        self.assertEqual(int.from_bytes(data[:2], "big") if len(data) >= 2 else None, 1002)
        self.assertTrue(closed)

    def test_a_close_frame_with_a_valid_code_is_echoed(self):
        for code in (1000, 1001, 1003, 1007, 1011, 3000, 4000, 4999):
            with self.subTest(code=code):
                data, closed = self.close_with(code.to_bytes(2, "big"))
                self.assertEqual(int.from_bytes(data[:2], "big"), code)
                self.assertTrue(closed)
        data, closed = self.close_with(b"")  # no code at all: a valid close, answered without error
        self.assertIn(data[:2], (b"", b"\x03\xe8"))
        self.assertTrue(closed)
        self.still_serving()



if __name__ == "__main__":
    unittest.main()
