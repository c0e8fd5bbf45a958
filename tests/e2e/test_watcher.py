"""Development mode: edit a running service's source file and see the new code answer
without restarting the CLI by hand (upstream test_watcher.py, plus the C++ rebuild)."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

import harness


def http_get(port, path, timeout=5):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=timeout) as response:
        return response.read().decode()


class WatcherTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="tomodachi-watch-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        shutil.copy(os.path.join(harness.SOURCE_DIR, "examples", "http_service.cpp"), self.dir)
        self.source = os.path.join(self.dir, "http_service.cpp")
        self.config = os.path.join(self.dir, "config.json")
        with open(self.config, "w") as f:
            json.dump({"options": {"http": {"port": 0}}}, f)

    def ports(self, process):
        return [int(p) for p in re.findall(r"accepting http requests.*listen_port=(\d+)", process.log())]

    def wait_for_port_count(self, process, count, timeout=90):
        deadline = time.time() + timeout
        while time.time() < deadline:
            ports = self.ports(process)
            if len(ports) >= count:
                return ports[count - 1]
            time.sleep(0.05)
        self.fail("no restart: " + process.log()[-3000:])

    def replace_in_source(self, old, new):
        with open(self.source) as f:
            text = f.read()
        self.assertIn(old, text)
        with open(self.source, "w") as f:
            f.write(text.replace(old, new))


class WatcherRestart(WatcherTest):
    def test_edit_rebuilds_and_restarts(self):
        p = harness.Process(["run", self.source, "-c", self.config], cwd=self.dir)
        try:
            port = self.wait_for_port_count(p, 1)
            self.assertEqual(http_get(port, "/health"), "Healthy")

            self.replace_in_source('"Healthy"', '"Healthy and rebuilt"')
            old_port = port
            port = self.wait_for_port_count(p, 2)
            self.assertEqual(http_get(port, "/health"), "Healthy and rebuilt")
            # The old listening socket did not leak into the re-executed process.
            with self.assertRaises(OSError):
                http_get(old_port, "/health", timeout=2)
            log = p.log()
            self.assertIn("updated files", log)
            self.assertIn("./http_service.cpp", log)
            self.assertIn("restarting services", log)
            self.assertIn("terminated service", log, "the old services drained before the restart")

            # A compile error keeps the running services up.
            self.replace_in_source('"Healthy and rebuilt"', '"Healthy" +')
            self.assertTrue(p.wait_for_log("restart failed due to error", timeout=90), p.log()[-3000:])
            self.assertIn("http_service.cpp", p.log().split("restart failed due to error")[0][-3000:])
            self.assertEqual(http_get(port, "/health"), "Healthy and rebuilt")

            self.replace_in_source('"Healthy" +', '"Healthy again"')
            port = self.wait_for_port_count(p, 3)
            self.assertEqual(http_get(port, "/health"), "Healthy again")

            # A touch (same content) is not a change.
            os.utime(self.source)
            time.sleep(1.0)
            self.assertEqual(len(self.ports(p)), 3)
        finally:
            p.stop()
        result = p.process.returncode
        self.assertEqual(result, 0)


# Appends a line to a file every 20-50 ms for `seconds` (a service logging to a file next to
# its source, `tomodachi run svc.cpp > run.log` or `http.access_log = "access.log"`).
WRITER = """
import random, sys, time
path, seconds = sys.argv[1], float(sys.argv[2])
end = time.time() + seconds
with open(path, "a") as f:
    while time.time() < end:
        f.write("GET /health 200 %f\\n" % time.time())
        f.flush()
        time.sleep(random.uniform(0.02, 0.05))
"""


class WatcherUnderWrites(WatcherTest):
    """Issue 13, item 1: writes to files that are not watched must not hold a reload back."""

    def start_writer(self, name, seconds=20):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, os.path.join(self.dir, name), str(seconds)])
        self.addCleanup(writer.wait)
        self.addCleanup(writer.kill)
        return writer

    def test_a_save_reloads_while_a_log_file_is_written(self):
        p = harness.Process(["run", self.source, "-c", self.config], cwd=self.dir)
        try:
            port = self.wait_for_port_count(p, 1)
            self.assertEqual(http_get(port, "/health"), "Healthy")
            writer = self.start_writer("run.log")
            time.sleep(1.0)  # the writes are going on
            saved = time.time()
            self.replace_in_source('"Healthy"', '"Healthy under writes"')
            port = self.wait_for_port_count(p, 2, timeout=60)
            self.assertEqual(http_get(port, "/health"), "Healthy under writes")
            elapsed = time.time() - saved
            self.assertIsNone(writer.poll(), "the writer still runs: the reload did not wait for it")
            sys.stderr.write("save-to-answer under a concurrent writer: %.2f s\n" % elapsed)
            self.assertLess(elapsed, 8.0, p.log()[-3000:])
        finally:
            p.stop()


if __name__ == "__main__":
    harness.main()
