"""Helpers for the HTTP end-to-end tests: start `tomodachi run` processes, read their JSON
logs, talk raw HTTP/1.1 and websocket over sockets (stdlib only)."""

import base64
import json
import os
import signal
import socket
import subprocess
import threading
import time

BIN = os.environ.get("TOMODACHI_BIN", "build/bin/tomodachi")
SERVICES = os.environ.get("TOMODACHI_TEST_SERVICES_DIR", "build/tests/services")


class ServiceProcess:
    """`tomodachi run --production --logger json <service.so>` with its log records."""

    def __init__(self, service, env=None, args=()):
        path = service if os.path.isabs(service) else os.path.join(SERVICES, service)
        full_env = dict(os.environ)
        full_env["NO_COLOR"] = "1"
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            [BIN, "run", "--production", "--logger", "json", path, *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=full_env)
        self.lines = []
        self.records = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            record = None
            try:
                record = json.loads(line)
            except ValueError:
                pass
            with self._lock:
                self.lines.append(line)
                if isinstance(record, dict):
                    self.records.append(record)

    def find(self, predicate):
        with self._lock:
            return [r for r in self.records if predicate(r)]

    def wait_for(self, predicate, timeout=60.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.find(predicate)
            if found:
                return found[0]
            if self.proc.poll() is not None:
                time.sleep(0.2)
                found = self.find(predicate)
                return found[0] if found else None
            time.sleep(0.02)
        return None

    def port(self, timeout=60.0):
        record = self.wait_for(lambda r: r.get("message") == "accepting http requests", timeout)
        if record is None:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            raise AssertionError("service did not start listening:\n" + self.output())
        return int(record["listen_port"])

    def output(self):
        with self._lock:
            return "\n".join(self.lines)

    def signal(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def stop(self, timeout=40.0):
        self.signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("service did not stop in time:\n" + self.output())


class Reply:
    def __init__(self, status, headers, body, status_line):
        self.status = status
        self.headers = headers  # lower-case name -> value (last wins)
        self.body = body
        self.status_line = status_line

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)


class Connection:
    """A raw HTTP/1.1 connection: send bytes, read replies one at a time."""

    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""
        self.eof = False

    def close(self):
        self.sock.close()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            self.eof = True
            raise ConnectionError("connection closed by server")
        self.buffer += chunk

    def read_reply(self, head=False):
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head_bytes, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head_bytes.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.lstrip(" \t")
        if head or status in (101, 204, 304) or 100 <= status < 200:
            return Reply(status, headers, b"", lines[0])
        if "content-length" in headers:
            length = int(headers["content-length"])
            while len(self.buffer) < length:
                self._fill()
            body, self.buffer = self.buffer[:length], self.buffer[length:]
        else:
            try:
                while True:
                    self._fill()
            except ConnectionError:
                pass
            body, self.buffer = self.buffer, b""
        return Reply(status, headers, body, lines[0])

    def closed_by_server(self, timeout=5.0):
        self.sock.settimeout(timeout)
        try:
            while True:
                self._fill()
        except ConnectionError:
            return True
        except socket.timeout:
            return False
        except OSError:
            return True

    # websocket client frames (masked)
    def ws_send(self, payload, opcode=0x1):
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        mask = os.urandom(4)
        header = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + n.to_bytes(2, "big")
        else:
            header += bytes([0x80 | 127]) + n.to_bytes(8, "big")
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.send(header + mask + masked)

    def ws_read_message(self):
        """One whole message: a frame plus its continuation frames (servers fragment)."""
        fin, opcode, payload = self._ws_frame()
        while not fin:
            fin, _, more = self._ws_frame()
            payload += more
        return opcode, payload

    def ws_read(self):
        _, opcode, payload = self._ws_frame()
        return opcode, payload

    def _ws_frame(self):
        while len(self.buffer) < 2:
            self._fill()
        fin = bool(self.buffer[0] & 0x80)
        opcode = self.buffer[0] & 0x0F
        length = self.buffer[1] & 0x7F
        offset = 2
        if length == 126:
            while len(self.buffer) < 4:
                self._fill()
            length = int.from_bytes(self.buffer[2:4], "big")
            offset = 4
        elif length == 127:
            while len(self.buffer) < 10:
                self._fill()
            length = int.from_bytes(self.buffer[2:10], "big")
            offset = 10
        while len(self.buffer) < offset + length:
            self._fill()
        payload = self.buffer[offset:offset + length]
        self.buffer = self.buffer[offset + length:]
        return fin, opcode, payload


def get(path, headers=""):
    return "GET {} HTTP/1.1\r\nHost: localhost\r\n{}\r\n".format(path, headers)


def request(port, raw, head=False):
    connection = Connection(port)
    try:
        connection.send(raw)
        return connection.read_reply(head=head)
    finally:
        connection.close()


def websocket_connect(port, path, headers=""):
    connection = Connection(port)
    key = base64.b64encode(os.urandom(16)).decode()
    connection.send("GET {} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Key: {}\r\nSec-WebSocket-Version: 13\r\n{}\r\n".format(path, key, headers))
    reply = connection.read_reply()
    return connection, reply
