"""Attacker-grade HTTP/1.1 framing corpus (issue #11): every case of http_corpus_cases.py is
sent as raw bytes to our server (a `tomodachi run` of tests/services/http_corpus_service.cpp,
keep-alive on and off) and to nginx (Debian's nginx-light, `return 200` for the same paths)
in the same test.

A case fails when our answers or the fate of the connection differ from the case's
expectation, or when nginx answers >= 400 or closes without an answer while our server ran
a handler for those bytes or for bytes after them on the connection (a request nginx would
never have forwarded reached one of our handlers). The cases where that nginx rule does not
apply are in NGINX_EXCEPTIONS below, each with the RFC clause that allows our answer.

Run alone: python3 tests/e2e/http_corpus_test.py -v   (CORPUS_ONLY=regex selects cases)
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from http_corpus_cases import CASES, CLIENT_MAX_SIZE, Pause, Wait, by_name  # noqa: E402
from http_support import ServiceProcess  # noqa: E402

SERVICE = "http_corpus_service.so"
PROBE = b"GET /probe HTTP/1.1\r\nHost: x\r\n\r\n"
QUIET = 2.0         # s without a byte before we stop waiting for a further answer (a loaded 2-core CI)
PROBE_TIMEOUT = 3.0  # s for the probe's answer: past it the connection "hangs"

# Cases where our server may run a handler although nginx rejects the bytes: the RFC
# allows both answers and nginx picked the other one. Each with the clause that allows ours.
NGINX_EXCEPTIONS = {
    "te-chunked-trailing-tab": "RFC 9110 §5.5: OWS (SP or HTAB) around a field value is not part of it, so "
                               "`chunked<TAB>` is `chunked`; nginx 1.22 trims only spaces and answers 501",
    "cl-tab-ows": "RFC 9110 §5.5: OWS (SP or HTAB) around a field value is not part of it, so `<TAB>5<TAB>` is 5; "
                  "nginx 1.22 answers 400",
    "host-empty-value": "RFC 9112 §3.2: an empty Host is a valid field value (what a client sends when the target "
                        "URI has no authority); nginx rejects it, we may accept it",
}


class Answer:
    def __init__(self, status, body, late=False):
        self.status = status
        self.late = late  # came only once the probe's bytes arrived, after the server had gone quiet
        self.ran = None  # "METHOD PATH BODYLEN" when our handler (or nginx's return) answered
        if status == 200 and body.startswith(b"ran "):
            self.ran = body[4:].decode("latin-1")


class Observation:
    def __init__(self):
        self.interim = []
        self.finals = []
        self.outcome = None  # keep | close | hang | open (not probed)
        self.note = ""

    def handler_indexes(self):
        return [i for i, answer in enumerate(self.finals) if answer.ran is not None]

    def text(self):
        parts = [str(s) for s in self.interim]
        parts += ["%s%s%s" % ("-" if a.status is None else a.status, "*" if a.ran else "", "~" if a.late else "")
                  for a in self.finals]
        return "%s %s" % (",".join(parts) or "none", self.outcome)


class Closed(Exception):
    pass


class Quiet(Exception):
    pass


class Reader:
    def __init__(self, sock):
        self.sock = sock
        self.buffer = b""

    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise Quiet()
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            raise Quiet()
        except OSError:
            raise Closed()
        if not data:
            raise Closed()
        self.buffer += data

    def answer(self, deadline):
        """(status, body) of the next answer; status 0 for bytes that are no HTTP/1.x answer."""
        while len(self.buffer) < 5:
            self._fill(deadline)
        if not self.buffer.startswith(b"HTTP/"):  # e.g. an HTTP/0.9 reply: no status line
            try:
                while True:
                    self._fill(deadline)
            except (Closed, Quiet):
                pass
            self.buffer = b""
            return 0, b""
        while b"\r\n\r\n" not in self.buffer:
            self._fill(deadline)
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if 100 <= status < 200 or status in (204, 304):
            return status, b""
        if "content-length" in headers:
            length = int(headers["content-length"])
            while len(self.buffer) < length:
                self._fill(deadline)
            body, self.buffer = self.buffer[:length], self.buffer[length:]
            return status, body
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                while b"\r\n" not in self.buffer:
                    self._fill(deadline)
                size_line, self.buffer = self.buffer.split(b"\r\n", 1)
                size = int(size_line.split(b";")[0], 16)
                while len(self.buffer) < size + 2:
                    self._fill(deadline)
                body, self.buffer = body + self.buffer[:size], self.buffer[size + 2:]
                if size == 0:
                    return status, body
        try:
            while True:
                self._fill(deadline)
        except (Closed, Quiet):
            pass
        body, self.buffer = self.buffer, b""
        return status, body


def send(sock, data):
    try:
        sock.sendall(data)
        return True
    except OSError:
        return False


def run_case(port, case):
    """Sends a case on a fresh connection and records what came back."""
    obs = Observation()
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    reader = Reader(sock)

    def take(status, body, late=False):
        if 100 <= status < 200:
            obs.interim.append(status)
        else:
            obs.finals.append(Answer(status, body, late))

    try:
        closed = False
        for segment in case.segments:
            if isinstance(segment, Pause):
                time.sleep(segment.seconds)
            elif isinstance(segment, Wait):
                try:
                    take(*reader.answer(time.monotonic() + segment.timeout))
                except Quiet:
                    pass
                except Closed:
                    closed = True
                    break
            elif not send(sock, segment):
                closed = True
                break
        if case.shut and not closed:
            sock.shutdown(socket.SHUT_WR)
        # our answers to the case's bytes
        deadline = time.monotonic() + 8
        waited = False  # the server went quiet before answering every slot
        while not closed and len(obs.finals) < len(case.expect):
            try:
                take(*reader.answer(min(deadline, time.monotonic() + QUIET)))
            except Quiet:
                waited = True
                break
            except Closed:
                closed = True
        if closed:
            obs.outcome = "close"
            return obs
        if case.shut or case.outcome == "any":
            # no probe: collect what else comes until the connection goes quiet
            try:
                while True:
                    take(*reader.answer(time.monotonic() + 0.5))
            except Quiet:
                obs.outcome = "hang" if case.shut else "open"
            except Closed:
                obs.outcome = "close"
            return obs
        # a further request tells a kept connection from a closed (or hanging) one
        if not send(sock, PROBE):
            obs.outcome = "close"
            return obs
        deadline = time.monotonic() + PROBE_TIMEOUT
        while True:
            try:
                status, body = reader.answer(deadline)
            except Quiet:
                obs.outcome = "hang"
                return obs
            except Closed:
                obs.outcome = "close"
                return obs
            if status == 200 and body.startswith(b"ran GET /probe"):
                obs.outcome = "keep"
                return obs
            take(status, body, late=waited)
    except Exception as error:  # noqa: BLE001 - a malformed answer is a finding, not a crash
        obs.outcome = "error"
        obs.note = repr(error)
        return obs
    finally:
        sock.close()


def expected_outcome(case, obs, keepalive):
    if not keepalive:
        return "close"
    if case.outcome != "auto":
        return case.outcome
    last = obs.finals[-1].status if obs.finals else None
    if last is not None and (last < 400 or last in (404, 405)):
        return "keep"
    return "close"


def check(case, obs, keepalive):
    """What differs from the case's expectation (empty: as expected)."""
    problems = []
    slots = case.expect if keepalive else case.expect[:1]
    finals = obs.finals
    for i, slot in enumerate(slots):
        got = finals[i].status if i < len(finals) else None
        if got not in slot:
            problems.append("answer %d is %s, expected %s" % (i + 1, "none" if got is None else got,
                                                              "/".join("none" if s is None else str(s) for s in slot)))
    if len(finals) > len(slots):
        extra = ["%s%s" % (a.status, " (ran %s)" % a.ran if a.ran else "") for a in finals[len(slots):]]
        problems.append("unexpected further answers: " + ", ".join(extra))
    late = [i + 1 for i, answer in enumerate(finals) if answer.late]
    if late:
        problems.append("answer %d came only after further bytes were sent: the server was still waiting on "
                        "these bytes (a hang until a timeout)" % late[0])
    for i, want in enumerate((case.ran or [])[:len(slots)]):
        if want and i < len(finals) and finals[i].status == 200 and finals[i].ran != want:
            problems.append("answer %d: handler saw %r, expected %r" % (i + 1, finals[i].ran, want))
    want = expected_outcome(case, obs, keepalive)
    if obs.outcome == "hang":
        problems.append("connection hangs: neither answered nor closed within %.0f s" % PROBE_TIMEOUT)
    elif obs.outcome == "error":
        problems.append("client error " + obs.note)
    elif want != "any" and obs.outcome != want:
        problems.append("connection %s, expected %s" % ("kept open" if obs.outcome == "keep" else obs.outcome, want))
    if case.interim is not None and obs.interim != case.interim:
        problems.append("interim answers %s, expected %s" % (obs.interim, case.interim))
    return problems


def nginx_rule(case, ours, nginx):
    """Our handler ran for bytes nginx refused (answered >= 400, or closed without an answer)."""
    if case.name in NGINX_EXCEPTIONS:
        return None
    stop = next((i for i, answer in enumerate(nginx.finals) if answer.status >= 400), None)
    if stop is None and nginx.outcome in ("close", "hang", "error"):
        stop = len(nginx.finals)
    if stop is None:
        return None
    ran = [i for i in ours.handler_indexes() if i >= stop]
    if not ran:
        return None
    return "handler ran for request %d (%s) but nginx %s" % (
        ran[0] + 1, ours.finals[ran[0]].ran,
        "answered %d" % nginx.finals[stop].status if stop < len(nginx.finals) else "closed without an answer")


NGINX_CONF = """
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 256; }}
http {{
  access_log off;
  keepalive_timeout 75;
  client_max_body_size {max_size};
  large_client_header_buffers 4 16k;
  server_tokens off;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  server {{
    listen 127.0.0.1:{port};
    location / {{ default_type text/plain; return 200 "ran $request_method $uri"; }}
  }}
}}
"""


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Nginx:
    def __init__(self):
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not os.path.exists(binary):
            raise AssertionError("nginx is not installed (scripts/install-deps.sh test installs nginx-light)")
        self.dir = tempfile.mkdtemp(prefix="tomodachi-corpus-nginx-")
        self.port = free_port()
        config = os.path.join(self.dir, "nginx.conf")
        with open(config, "w") as file:
            file.write(NGINX_CONF.format(dir=self.dir, port=self.port, max_size=CLIENT_MAX_SIZE))
        self.proc = subprocess.Popen([binary, "-p", self.dir, "-c", config], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    error = self.proc.stderr.read().decode(errors="replace") if self.proc.poll() is not None else ""
                    self.stop()
                    raise AssertionError("nginx did not start: " + error)
                time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def selected_cases():
    only = os.environ.get("CORPUS_ONLY")
    return [c for c in CASES if not only or re.search(only, c.name)]


def short(slots):
    return ",".join("/".join("-" if s is None else str(s) for s in slot) for slot in slots)


class HttpCorpus(unittest.TestCase):
    def test_corpus_against_our_server_and_nginx(self):
        by_name()  # unique names
        cases = selected_cases()
        if not os.environ.get("CORPUS_ONLY"):
            self.assertGreaterEqual(len(cases), 150)
        env = {"HTTP_CORPUS_CLIENT_MAX_SIZE": str(CLIENT_MAX_SIZE)}
        keepalive = ServiceProcess(SERVICE, env=dict(env, HTTP_CORPUS_KEEPALIVE_TIMEOUT="10"))
        no_keepalive = ServiceProcess(SERVICE, env=dict(env, HTTP_CORPUS_KEEPALIVE_TIMEOUT="0"))
        nginx = None
        try:
            targets = {"ka": keepalive.port(), "noka": no_keepalive.port()}
            nginx = Nginx()
            targets["nginx"] = nginx.port
            results = {name: {} for name in targets}

            def run_all(target, port):
                for item in cases:
                    results[target][item.name] = run_case(port, item)

            threads = [threading.Thread(target=run_all, args=(t, p)) for t, p in targets.items()]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            for service in (keepalive, no_keepalive):
                self.assertIsNone(service.proc.poll(), "the service died:\n" + service.output()[-4000:])
        finally:
            if nginx:
                nginx.stop()
            codes = [keepalive.stop(), no_keepalive.stop()]
        self.assertEqual(codes, [0, 0])
        failures = self.report(cases, results)
        self.assertEqual(failures, [], "%d corpus case(s) failed:\n  " % len(failures) + "\n  ".join(failures))

    @staticmethod
    def report(cases, results):
        failures = []
        rows = []
        for item in cases:
            ka, noka, ngx = (results[t][item.name] for t in ("ka", "noka", "nginx"))
            problems = ["keep-alive on: " + p for p in check(item, ka, True)]
            problems += ["keep-alive off: " + p for p in check(item, noka, False)]
            for label, ours in (("keep-alive on", ka), ("keep-alive off", noka)):
                rule = nginx_rule(item, ours, ngx)
                if rule:
                    problems.append(label + ": " + rule)
            verdict = "ok" if not problems else "FAIL"
            rows.append((item.group, item.name, short(item.expect), ka.text(), noka.text(), ngx.text(), verdict))
            if problems:
                failures.append("%s: %s" % (item.name, "; ".join(problems)))
        widths = [max(len(row[i]) for row in rows + [("group", "case", "expected", "ours keep-alive",
                                                        "ours no keep-alive", "nginx", "result")])
                  for i in range(7)]
        widths = [min(w, 40) for w in widths]
        line = "  ".join("%%-%ds" % w for w in widths)
        print()
        print("HTTP corpus: answers in order (* = our handler ran / nginx's return; ~ = only after the probe's bytes),"
              " then the connection's fate")
        print(line % ("group", "case", "expected", "ours keep-alive", "ours no keep-alive", "nginx", "result"))
        for row in rows:
            print(line % tuple(cell[:40] for cell in row))
        print()
        for failure in failures:
            print("FAIL " + failure)
        print("corpus result: %d of %d cases as expected, %d failing" % (len(cases) - len(failures), len(cases),
                                                                           len(failures)))
        sys.stdout.flush()
        return failures


if __name__ == "__main__":
    unittest.main()
