"""`get_execution_context()` (spec/service.md §6, docs/services.md) as a running service
sees it, and the development banner's runtime lines (spec/cli.md §5, docs/cli.md)."""

import datetime
import json
import os
import re
import tempfile
import unittest

import harness
from harness import run, service

CONTEXT_SERVICE = service("context_service.cpp")
CORE_KEYS = {"tomodachi_version", "cpp_version", "system_platform", "process_id", "init_timestamp", "event_loop",
             "asio_version", "cwd", "watcher_enabled"}


def printed(stdout, prefix):
    lines = [line[len(prefix) + 1:] for line in stdout.splitlines() if line.startswith(prefix + " ")]
    assert len(lines) == 1, stdout
    return json.loads(lines[0])


def banner_value(stdout, label):
    """The text after `label ⇢ ` in the banner."""
    for line in stdout.splitlines():
        if line.startswith(label + " ") and "\u21e2" in line:
            return line.split("\u21e2", 1)[1].strip()
    raise AssertionError("no banner line %r in:\n%s" % (label, stdout))


class ExecutionContext(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.cwd = os.path.realpath(tmp.name)

    def run_context_service(self, *options, service_file=CONTEXT_SERVICE):
        """Runs the service from a working directory of its own; returns (context, services, stdout, pid)."""
        before = datetime.datetime.now(datetime.timezone.utc)
        p = harness.Process(["run"] + list(options) + [service_file], cwd=self.cwd)
        try:
            r = p.wait(timeout=120)
        finally:
            p.stop()
        after = datetime.datetime.now(datetime.timezone.utc)
        self.assertEqual(r.returncode, 0, r.output)
        context = printed(r.stdout, "execution-context")
        stamp = datetime.datetime.strptime(context["init_timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ")
        stamp = stamp.replace(tzinfo=datetime.timezone.utc)
        self.assertTrue(before - datetime.timedelta(seconds=1) <= stamp <= after, (before, stamp, after))
        return context, printed(r.stdout, "services"), r.stdout, p.process.pid

    def assert_core_keys(self, context, pid):
        self.assertLessEqual(CORE_KEYS, set(context), context)
        self.assertEqual(context["tomodachi_version"], run(["-v"]).stdout.split()[1])
        self.assertEqual(context["system_platform"], os.uname().sysname)
        self.assertEqual(context["process_id"], pid)
        self.assertEqual(context["cwd"], self.cwd)
        self.assertEqual(context["event_loop"], "asio")
        self.assertRegex(context["asio_version"], r"^1\.\d+\.\d+$")
        self.assertRegex(context["init_timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
        self.assertRegex(context["cpp_version"], r"^GCC \d+\.\d+\.\d+.*, C\+\+20$")
        # No transport is used: none of their keys appear.
        self.assertFalse([key for key in context if key.endswith("_enabled") and key != "watcher_enabled"], context)

    def test_production(self):
        context, services, stdout, pid = self.run_context_service("--production")
        self.assert_core_keys(context, pid)
        self.assertIs(context["watcher_enabled"], False)
        self.assertEqual(services, ["context"])
        self.assertNotIn("c++ runtime", stdout)

    def test_development_mode(self):
        context, services, stdout, pid = self.run_context_service()
        self.assert_core_keys(context, pid)
        self.assertIs(context["watcher_enabled"], True)
        self.assertEqual(services, ["context"])
        # The banner and the context describe the same runtime.
        self.assertEqual(banner_value(stdout, "c++ runtime").split(" (libstdc++")[0], context["cpp_version"])
        self.assertTrue(banner_value(stdout, "tomodachi version").startswith(context["tomodachi_version"] + " "))
        self.assertIn("[pid: %d]" % pid, stdout)

    def test_development_mode_without_anything_to_watch(self):
        # A shared object has nothing to rebuild: no watcher runs.
        with tempfile.TemporaryDirectory() as tmp:
            so = os.path.join(tmp, "context.so")
            r = run(["build", CONTEXT_SERVICE, "-o", so])
            self.assertEqual(r.returncode, 0, r.output)
            context, _, stdout, pid = self.run_context_service(service_file=so)
        self.assert_core_keys(context, pid)
        self.assertIs(context["watcher_enabled"], False)
        self.assertIn("c++ runtime", stdout)
        self.assertNotIn("[watcher]", stdout)


class BannerEventLoop(unittest.TestCase):
    def banner(self, *options, **env):
        r = run(["run"] + list(options) + [CONTEXT_SERVICE], **env)
        self.assertEqual(r.returncode, 0, r.output)
        return r.stdout

    def test_event_loop_line(self):
        self.assertEqual(banner_value(self.banner(), "event loop"), "asio (auto)")
        for loop in ("asyncio", "uvloop"):
            self.assertEqual(banner_value(self.banner("--loop", loop), "event loop"), "asio", loop)
        self.assertEqual(banner_value(self.banner(TOMODACHI_LOOP="asyncio"), "event loop"), "asio")

    def test_runtime_lines(self):
        stdout = self.banner()
        self.assertEqual(banner_value(stdout, "operating system").split(" (hostname:")[0],
                         "%s on %s" % (os.uname().sysname, os.uname().machine))
        self.assertRegex(banner_value(stdout, "c++ runtime"), r"^GCC \d+\.\d+\.\d+.*, C\+\+20 \(libstdc\+\+ \d{8}\)$")
        self.assertRegex(banner_value(stdout, "service compiler"), r" -O0 \(precompiled <tomodachi/tomodachi.hpp>\)$")
        self.assertIn("\u2301 [watcher] file watcher enabled", stdout)


if __name__ == "__main__":
    harness.main()
