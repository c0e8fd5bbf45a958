"""CLI texts and records that match Python tomodachi's exactly (issue 13, "Records and texts
that differ"; spec/cli.md §4, §6.3): stdout, exit status, and stderr records with
`NO_COLOR=1` and no terminal, record by record (level, logger, message, fields)."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import run, service  # noqa: E402

LIFECYCLE = service("lifecycle_service.cpp")
LOGGER_EXPECTED = "(expected 'json', 'console', 'python' or 'disabled')"


def records(result):
    return [{k: v for k, v in r.items() if k != "timestamp"} for r in result.json_records()]


class ConfigFiles(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="tomodachi-records-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def config(self, text):
        path = os.path.join(self.dir, "config.json")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def test_invalid_json_reports_line_and_column_as_python(self):
        # The texts of Python's json.JSONDecodeError for these documents.
        cases = [
            ('{"options": {"http": {"port": 8080}},\n}',
             "Expecting property name enclosed in double quotes: line 2 column 1 (char 38)"),
            ('{\n  "a": 1,\n  "b": x\n}', "Expecting value: line 3 column 8 (char 19)"),
            ('{"\u00e9": 1,\n"\u00fc": }', "Expecting value: line 2 column 6 (char 14)"),
            ("{ options }", "Expecting property name enclosed in double quotes: line 1 column 3 (char 2)"),
        ]
        for text, error in cases:
            with self.subTest(text=text):
                r = run(["run", "--production", LIFECYCLE, "-c", self.config(text)], TOMODACHI_TEST_MODE="exit0")
                self.assertEqual((r.returncode, r.stdout, r.stderr),
                                 (2, "Invalid config file, invalid JSON format: %s\n" % error, ""))


# Upstream's launcher logs the OSError its importer raised (C++ names the exception type
# its own way and has no traceback fields, docs/differences.md).
UNCAUGHT_NO_SUCH_FILE = {"logger": "exception", "level": "error", "message": "uncaught exception: No such service file",
                         "exception": "runtime_error('No such service file')", "exc_type": "runtime_error",
                         "exc_message": "No such service file"}


class MissingServiceFile(unittest.TestCase):
    def test_logged_at_error(self):
        for argument, file_path in (("does/not/exist.cpp", "does/not/exist.cpp"), ("does/not/exist", "does/not/exist.cpp")):
            with self.subTest(argument=argument):
                r = run(["run", "--production", "--logger", "json", argument])
                self.assertEqual((r.returncode, r.stdout), (1, ""))
                self.assertEqual(records(r), [{"logger": "tomodachi.importer", "level": "error",
                                               "message": "no such service file", "file_path": file_path},
                                              UNCAUGHT_NO_SUCH_FILE])

    def test_banner_first_in_development_mode(self):
        completed = subprocess.run([harness.TOMODACHI, "run", "--logger", "json", "does/not/exist.cpp"],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120,
                                   cwd=harness.SOURCE_DIR, env=harness.environment())
        self.assertEqual(completed.returncode, 1, completed.stdout)
        output = completed.stdout
        self.assertIn("service file           ⇢ ./does/not/exist.cpp", output)
        banner_end = output.index("⌁ [notice ] stop running services with <ctrl+c> (graceful teardown)")
        record = output.index('"message": "no such service file"')
        self.assertLess(banner_end, record)
        record_line = output.rfind("\n", 0, record) + 1
        lines = [json.loads(line) for line in output[record_line:].splitlines() if line.startswith("{")]
        lines = [{k: v for k, v in r.items() if k != "timestamp"} for r in lines]
        self.assertEqual(lines, [{"logger": "tomodachi.importer", "level": "error",
                                  "message": "no such service file", "file_path": "does/not/exist.cpp"},
                                 UNCAUGHT_NO_SUCH_FILE])


class InitRecords(unittest.TestCase):
    def test_file_path_is_absolute(self):
        # upstream: module.__file__, the real working directory joined with the argument
        argument = os.path.relpath(LIFECYCLE, harness.SOURCE_DIR)
        r = run(["run", "--production", "--logger", "json", argument], TOMODACHI_TEST_MODE="init_exception")
        self.assertEqual(r.returncode, 1, r.output)
        init = [x for x in records(r) if x.get("logger") == "tomodachi.init"]
        self.assertEqual([(x["message"], x["module"], x["class"], x["file_path"]) for x in init[:1]],
                         [("failed to initialize instance", "lifecycle_service", "LifecycleService",
                           os.path.join(os.path.realpath(harness.SOURCE_DIR), argument))])


def service_records(result, loggers=("exception", "tomodachi.init", "tomodachi.service", "tomodachi.lifecycle")):
    return [r for r in records(result) if r.get("logger") in loggers]


START_AND_STOP_LOGGERS = ("tomodachi.init", "tomodachi.service", "tomodachi.lifecycle", "tomodachi.event")


def nothing_to_run(module, file_path):
    """The records of a file with nothing to run: upstream's one warning."""
    return [{"logger": "tomodachi.init", "level": "warning", "message": "no transport handlers defined",
             "module": module, "file_path": file_path}]


def run_until_sigterm(args, ready, **env):
    """Runs `tomodachi <args>` until the record `ready`, then stops it with SIGTERM."""
    p = harness.Process(args, **env)
    try:
        if not p.wait_for_log(ready, timeout=120):
            raise AssertionError(p.log())
        p.signal(signal.SIGTERM)
        return p.wait(timeout=30)
    finally:
        p.stop()


class LauncherRecords(unittest.TestCase):
    def absolute(self, path):
        return os.path.join(os.path.realpath(harness.SOURCE_DIR), path)

    def test_constructor_that_throws(self):
        argument = os.path.relpath(LIFECYCLE, harness.SOURCE_DIR)
        r = run(["run", "--production", "--logger", "json", argument], TOMODACHI_TEST_MODE="init_exception")
        self.assertEqual(r.returncode, 1, r.output)
        init = {"module": "lifecycle_service", "file_path": self.absolute(argument)}
        self.assertEqual(service_records(r), [
            {"logger": "exception", "level": "error", "message": "uncaught exception: fail in __init__()",
             "exception": "runtime_error('fail in __init__()')", "exc_type": "runtime_error",
             "exc_message": "fail in __init__()"},
            dict({"logger": "tomodachi.init", "level": "error", "message": "failed to initialize instance",
                  "module": "lifecycle_service", "class": "LifecycleService"}, file_path=init["file_path"]),
            dict({"logger": "tomodachi.init", "level": "warning", "message": "error during initializing"}, **init),
        ])

    def test_unknown_option_key_in_config(self):
        path = os.path.join(tempfile.mkdtemp(prefix="tomodachi-records-"), "config.json")
        self.addCleanup(shutil.rmtree, os.path.dirname(path), True)
        with open(path, "w") as f:
            json.dump({"options": {"http": {"prot": 1}}}, f)
        r = run(["run", "--production", "--logger", "json", LIFECYCLE, "-c", path], TOMODACHI_TEST_MODE="exit0")
        self.assertEqual(r.returncode, 1, r.output)
        messages = [x["message"] for x in service_records(r)]
        self.assertEqual(messages[-1], "error during initializing", messages)
        self.assertNotIn("stopping service", messages)
        self.assertNotIn("terminated service", messages)

    def test_nothing_to_run_logs_only_no_transport_handlers(self):
        for name, module in (("empty_service.cpp", "empty_service"), ("no_service.cpp", "no_service")):
            with self.subTest(file=name):
                argument = os.path.join("tests", "services", name)
                r = run(["run", "--production", "--logger", "json", argument])
                self.assertEqual(r.returncode, 1, r.output)
                self.assertEqual(service_records(r, START_AND_STOP_LOGGERS),
                                 nothing_to_run(module, self.absolute(argument)))

    def test_lifecycle_debug_records_in_upstream_order(self):
        r = run_until_sigterm(["run", "--production", "--logger", "json", LIFECYCLE], "-> lifecycle.ready",
                              TOMODACHI_TEST_MODE="wait", TOMODACHI_LOG_LEVEL="DEBUG")
        self.assertEqual(r.returncode, 0, r.stderr)
        messages = [x["message"] for x in service_records(r, ("tomodachi.service", "tomodachi.lifecycle",
                                                               "tomodachi.event"))]
        self.assertEqual(messages, [
            "initializing service instance", "starting the service", "-> lifecycle.setup",
            "enabled handler functions", "-> lifecycle.initialized",
            "started service successfully", "-> lifecycle.ready",
            "-> lifecycle.interrupt", "stopping service", "-> lifecycle.teardown", "terminated service"])


class SeveralServices(unittest.TestCase):
    def test_records_per_service_in_upstream_order(self):
        # Upstream logs each service's lifecycle record followed by its `-> lifecycle.*` record
        # (the `service` field only because the file has several); `-> lifecycle.teardown`
        # for all of them once the stop chains begin.
        r = run(["run", "--production", "--logger", "json", service("twin_services.cpp")],
                TOMODACHI_LOG_LEVEL="DEBUG")
        self.assertEqual(r.returncode, 0, r.output)
        ready = ("started service successfully", "-> lifecycle.ready")  # exit() races with these
        got = [(x["message"], x.get("service")) for x in service_records(r, START_AND_STOP_LOGGERS)
               if x["message"] not in ready]
        names = ("twin-0001", "twin-0002", "twin-prod")
        expected = []
        for name in names:
            expected += [("initializing service instance", name), ("starting the service", name),
                         ("-> lifecycle.setup", None)]
        for name in names:
            expected += [("enabled handler functions", name), ("-> lifecycle.initialized", None)]
        for name in names:
            expected += [("-> lifecycle.interrupt", None), ("stopping service", name)]
        expected += [("-> lifecycle.teardown", None)] * 3
        expected += [("terminated service", name) for name in names]
        self.assertEqual(got, expected)


STOP_HOOKS_ONLY = """#include <tomodachi/tomodachi.hpp>
class StopHooksOnly : public tomodachi::Service {
 public:
  StopHooksOnly() : Service("stop-hooks-only") {}
  tomodachi::Task<void> stopping_service() override { co_return; }
  tomodachi::Task<void> stop_service() override { co_return; }
};
TOMODACHI_SERVICE(StopHooksOnly);
"""

RUNNER_AND_IDLE = """#include <tomodachi/tomodachi.hpp>
class Idle : public tomodachi::Service {
 public:
  Idle() : Service("idle") {}
  tomodachi::Task<void> stop_service() override {
    logger().info("idle stop hook");
    co_return;
  }
};
class Runner : public tomodachi::Service {
 public:
  Runner() : Service("runner") {}
  tomodachi::Task<void> started_service() override {
    logger().info("registered", {{"idle", tomodachi::get_service("idle") != nullptr}});
    co_return;
  }
};
TOMODACHI_SERVICE(Idle);
TOMODACHI_SERVICE(Runner);
"""


class ServicesThatStart(unittest.TestCase):
    """Upstream starts a service only when it has handlers or a start hook (`_start_service`,
    `_started_service`); the others are constructed and registered, and have no records."""

    def write(self, name, text):
        folder = tempfile.mkdtemp(prefix="tomodachi-records-")
        self.addCleanup(shutil.rmtree, folder, True)
        path = os.path.join(folder, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_stop_hooks_alone_are_nothing_to_run(self):
        path = self.write("stop_hooks_only.cpp", STOP_HOOKS_ONLY)
        r = run(["run", "--production", "--logger", "json", path], TOMODACHI_LOG_LEVEL="DEBUG")
        self.assertEqual(r.returncode, 1, r.output)
        self.assertEqual(service_records(r, START_AND_STOP_LOGGERS), nothing_to_run("stop_hooks_only", path))

    def test_a_service_without_handlers_and_start_hooks_does_not_start(self):
        path = self.write("runner_and_idle.cpp", RUNNER_AND_IDLE)
        r = run_until_sigterm(["run", "--production", "--logger", "json", path], "started service successfully")
        self.assertEqual(r.returncode, 0, r.stderr)
        lifecycle = [(x["message"], x.get("service")) for x in service_records(r, ("tomodachi.service",
                                                                                   "tomodachi.lifecycle"))]
        self.assertEqual(lifecycle, [
            ("initializing service instance", "runner"), ("starting the service", None),
            ("enabled handler functions", None), ("started service successfully", None),
            ("stopping service", None), ("terminated service", None)])
        messages = {x["message"]: x for x in records(r)}
        self.assertTrue(messages["registered"]["idle"], "the idle service is registered")
        self.assertNotIn("idle stop hook", messages)


class EnvironmentValues(unittest.TestCase):
    def expect(self, args, stdout, **env):
        r = run(args, **env)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (2, stdout, ""))

    def test_bad_logger_variable_is_a_bad_logger_value(self):
        self.expect(["run", "app.cpp"], "Invalid value for --logger option: 'foo' %s\n" % LOGGER_EXPECTED,
                    TOMODACHI_LOGGER="foo")
        self.expect(["run", "app.cpp"], "Invalid value for --logger option: 'shouty' %s\n" % LOGGER_EXPECTED,
                    TOMODACHI_LOGGER="SHOUTY")
        self.expect(["run", "--logger", "Console", "app.cpp"],
                    "Invalid value for --logger option: 'console' differs from env TOMODACHI_LOGGER\n",
                    TOMODACHI_LOGGER="json")
        self.expect(["run", "--logger", "bogus", "app.cpp"],
                    "Invalid value for --logger option: 'bogus' differs from env TOMODACHI_LOGGER\n",
                    TOMODACHI_LOGGER="json")

    def test_bad_loop_variable_is_a_bad_loop_value(self):
        self.expect(["run", "app.cpp"], "Invalid value for --loop option: 'bad' not recognized\n", TOMODACHI_LOOP="bad")
        self.expect(["run", "app.cpp"], "Invalid value for --loop option: 'bad' not recognized\n", TOMODACHI_LOOP="BAD")
        self.expect(["run", "--loop", "aio", "app.cpp"],
                    "Invalid value for --loop option: 'aio' differs from env TOMODACHI_LOOP\n", TOMODACHI_LOOP="asyncio")

    def test_unknown_run_option_keeps_our_message(self):
        # A deliberate difference (docs/differences.md): upstream looks for a service file `--foo.py`.
        self.expect(["run", "--foo", "app.cpp"], "Invalid option for the 'run' command: '--foo' (see 'tomodachi --help')\n")


class DependencyVersions(unittest.TestCase):
    def test_re2_is_the_debian_package_version(self):
        try:
            package = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libre2-dev"], capture_output=True,
                                     text=True).stdout
        except OSError:
            self.skipTest("no dpkg-query")
        if len(package) < 8 or not package[:8].isdigit():
            self.skipTest("libre2-dev is not installed as a Debian package")
        r = run(["--dependency-versions"])
        self.assertEqual(r.returncode, 0)
        self.assertIn("re2/%s-%s-%s\n" % (package[:4], package[4:6], package[6:8]), r.stdout)
        self.assertNotIn("re2/0.0.0", r.stdout)


class BuildArguments(unittest.TestCase):
    USAGE = "usage: tomodachi build <service.cpp> [-o <service.so>]\n"

    def expect(self, args, reason):
        r = run(["build"] + args)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (2, "error: %s\n%s" % (reason, self.USAGE), ""))

    def test_the_wrong_argument_is_named(self):
        self.expect(["--production", "x.cpp"], "'tomodachi build' does not take '--production': it always "
                    "compiles with the production flags (-O2 -DNDEBUG)")
        self.expect(["x.cpp", "--fast"], "unknown option '--fast' for 'tomodachi build'")
        self.expect(["x.cpp", "y.cpp"], "one service file at a time: 'y.cpp' follows 'x.cpp'")
        self.expect(["x.cpp", "-o"], "option '-o' needs a file name")
        self.expect([], "no service file given")


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


class Interrupt(unittest.TestCase):
    def test_sigint_writes_backspaces_to_stdout(self):
        stderr_path = os.path.join(tempfile.mkdtemp(prefix="tomodachi-records-"), "stderr.log")
        self.addCleanup(shutil.rmtree, os.path.dirname(stderr_path), True)
        with open(stderr_path, "w") as stderr:
            process = subprocess.Popen([harness.TOMODACHI, "run", "--production", LIFECYCLE], stdout=subprocess.PIPE,
                                       stderr=stderr, cwd=harness.SOURCE_DIR,
                                       env=harness.environment(TOMODACHI_TEST_MODE="wait"))
            try:
                deadline = time.time() + 120
                while time.time() < deadline and "started service successfully" not in read(stderr_path):
                    time.sleep(0.05)
                process.send_signal(signal.SIGINT)
                stdout, _ = process.communicate(timeout=30)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait()
        self.assertEqual((process.returncode, stdout), (0, b"\b\b\r"))

if __name__ == "__main__":
    harness.main()
