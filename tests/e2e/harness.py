"""Helpers for end-to-end tests: run `tomodachi` as a subprocess against real peers."""

import json
import os
import signal
import subprocess
import time
import unittest

SOURCE_DIR = os.environ.get("TOMODACHI_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BUILD_DIR = os.environ.get("TOMODACHI_BUILD_DIR", os.path.join(SOURCE_DIR, "build"))
TOMODACHI = os.environ.get("TOMODACHI_BIN", os.path.join(BUILD_DIR, "bin", "tomodachi"))
SERVICES = os.path.join(SOURCE_DIR, "tests", "services")
PEERS_DIR = os.environ.get("TOMODACHI_TEST_PEERS_DIR", os.path.join(BUILD_DIR, "test-peers"))


def service(name):
    """Path of a test service source file."""
    return os.path.join(SERVICES, name)


def environment(**extra):
    env = dict(os.environ)
    env.setdefault("TOMODACHI_CACHE_DIR", os.path.join(BUILD_DIR, "tomodachi-cache"))
    env["NO_COLOR"] = "1"
    env.update({k: str(v) for k, v in extra.items()})
    return env


def peer_env(peer):
    """The address variables a test peer wrote (`rabbitmq` or `fauxqs`)."""
    values = {}
    with open(os.path.join(PEERS_DIR, peer, "env")) as f:
        for line in f:
            if "=" in line:
                key, value = line.strip().split("=", 1)
                values[key] = value
    return values


class Result:
    def __init__(self, returncode, stdout, stderr):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    @property
    def output(self):
        return self.stdout + self.stderr

    def json_records(self):
        records = []
        for line in self.stderr.splitlines():
            line = line.strip()
            if line.startswith("{"):
                try:
                    records.append(json.loads(line))
                except ValueError:
                    pass
        return records


def run(args, timeout=120, cwd=None, **env):
    """Runs `tomodachi <args>` to completion."""
    completed = subprocess.run([TOMODACHI] + list(args), capture_output=True, text=True, timeout=timeout,
                               cwd=cwd or SOURCE_DIR, env=environment(**env))
    return Result(completed.returncode, completed.stdout, completed.stderr)


class Process:
    """A background `tomodachi` process whose stderr is collected."""

    def __init__(self, args, cwd=None, **env):
        self.stderr_path = os.path.join(BUILD_DIR, "e2e-%d-%d.log" % (os.getpid(), id(self)))
        self._stderr = open(self.stderr_path, "w+")
        self.process = subprocess.Popen([TOMODACHI] + list(args), stdout=subprocess.PIPE, stderr=self._stderr,
                                        text=True, cwd=cwd or SOURCE_DIR, env=environment(**env))

    def log(self):
        with open(self.stderr_path) as f:
            return f.read()

    def wait_for_log(self, text, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if text in self.log():
                return True
            if self.process.poll() is not None:
                return text in self.log()
            time.sleep(0.05)
        return False

    def signal(self, signum):
        self.process.send_signal(signum)

    def wait(self, timeout=60):
        try:
            stdout, _ = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            stdout, _ = self.process.communicate()
            raise
        return Result(self.process.returncode, stdout, self.log())

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._stderr.close()
        try:
            os.unlink(self.stderr_path)
        except OSError:
            pass


def main():
    unittest.main()
