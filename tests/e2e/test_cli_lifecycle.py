"""The `tomodachi` CLI, exit codes and lifecycle against real `tomodachi run`
processes (upstream tests/test_cli.py, test_exception_service.py, test_dummy_service.py,
test_empty_service.py, test_start_process_*)."""

import json
import os
import shutil
import signal
import tempfile
import time
import unittest

import harness
from harness import run, service

LIFECYCLE = service("lifecycle_service.cpp")


class CliUsage(unittest.TestCase):
    def test_help_version_and_usage_errors(self):
        r = run(["--help"])
        self.assertEqual(r.returncode, 0)
        self.assertIn("usage:\n  $ tomodachi run [options] <service.cpp ...>", r.stdout)
        r = run([])
        self.assertEqual(r.returncode, 0)
        self.assertIn("usage:", r.stdout)
        r = run(["-v"])
        self.assertEqual((r.returncode, r.stdout.startswith("tomodachi ")), (0, True))
        r = run(["--dependency-versions"])
        self.assertEqual(r.returncode, 0)
        self.assertIn("boost/", r.stdout)
        r = run(["--invalid"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("error: option --invalid not recognized.", r.stdout)
        r = run(["invalidsubcommand"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("the command 'run' must be specified before any service files or options.", r.stdout)
        r = run(["--logger", "json", "run", "svc.cpp"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("$ tomodachi run --logger json svc.cpp", r.stdout)
        r = run(["run", "--loop", "unknown", "app.cpp"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("Invalid value for --loop option: 'unknown' not recognized", r.stdout)
        r = run(["run", "--log-level", "foo", "app.cpp"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("Invalid log level: 'foo'", r.stdout)
        r = run(["run", "app.cpp", "--logger"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("Missing value for --logger option", r.stdout)
        r = run(["run", "--custom-logger", "foobar.logger", "app.cpp"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("not supported", r.stdout)
        r = run(["run", "--opentelemetry-instrument", "app.cpp"], OTEL_TRACES_SAMPLER="sometimes")
        self.assertEqual(r.returncode, 2)
        self.assertIn("Invalid OpenTelemetry configuration", r.stdout)
        self.assertIn("OTEL_TRACES_SAMPLER", r.stdout)

    def test_missing_service_file(self):
        r = run(["run", "--production", "does/not/exist.cpp"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("no such service file", r.stderr)


class ExitCodes(unittest.TestCase):
    def test_exit_without_code_is_zero(self):
        r = run(["run", LIFECYCLE], TOMODACHI_TEST_MODE="exit0")
        self.assertEqual(r.returncode, 0, r.output)
        self.assertIn("initializing service instance", r.stderr)
        self.assertIn("tomodachi version      \u21e2 ", r.stdout)

    def test_exit_one(self):
        r = run(["run", "--production", LIFECYCLE], TOMODACHI_TEST_MODE="exit1")
        self.assertEqual(r.returncode, 1, r.output)
        self.assertIn("tomodachi.exit [1] was called", r.stderr)

    def test_exit_code_128(self):
        r = run(["run", "--production", LIFECYCLE], TOMODACHI_TEST_MODE="exit128")
        self.assertEqual(r.returncode, 128, r.output)

    def test_production_lifecycle_records(self):
        r = run(["run", "--production", LIFECYCLE], TOMODACHI_TEST_MODE="exit0")
        self.assertEqual(r.returncode, 0, r.output)
        self.assertEqual(r.stdout, "", "no banner in production")
        for text in ("initializing service instance", "starting the service", "enabled handler functions",
                     "tomodachi.exit [0] was called", "stopping service", "terminated service"):
            self.assertIn(text, r.stderr)
        hooks = [line.split("hook=")[1].split()[0] for line in r.stderr.splitlines() if "hook=" in line]
        self.assertEqual(hooks, ["start_service", "started_service", "stopping_service", "stop_service"])

    def test_exception_in_start_hook(self):
        r = run(["run", "--production", LIFECYCLE], TOMODACHI_TEST_MODE="start_exception")
        self.assertEqual(r.returncode, 1, r.output)
        self.assertIn("fail in _start_service()", r.stderr)
        self.assertIn("failed to start service", r.stderr)
        self.assertNotIn("failed to initialize instance", r.stderr)
        self.assertNotIn("hook=started_service", r.stderr)

    def test_exception_in_started_hook(self):
        r = run(["run", "--production", LIFECYCLE], TOMODACHI_TEST_MODE="started_exception")
        self.assertEqual(r.returncode, 1, r.output)
        self.assertIn("fail in _started_service()", r.stderr)

    def test_exception_in_constructor(self):
        r = run(["run", "--production", LIFECYCLE], TOMODACHI_TEST_MODE="init_exception")
        self.assertEqual(r.returncode, 1, r.output)
        self.assertIn("failed to initialize instance", r.stderr)
        self.assertIn("fail in __init__()", r.stderr)
        self.assertNotIn("initializing service instance", r.stderr)
        self.assertNotIn("hook=start_service", r.stderr)

    def test_no_transport_handlers(self):
        r = run(["run", "--production", service("empty_service.cpp")])
        self.assertEqual(r.returncode, 1, r.output)
        self.assertIn("no transport handlers defined", r.stderr)

    def test_file_without_a_service(self):
        r = run(["run", "--production", service("no_service.cpp")])
        self.assertEqual(r.returncode, 1, r.output)
        self.assertIn("no transport handlers defined", r.stderr)
        self.assertNotIn("failed to start service", r.stderr)

    def test_lifecycle_hooks_log_with_their_context(self):
        r = run(["run", "--production", "--logger", "json", LIFECYCLE], TOMODACHI_TEST_MODE="exit0")
        self.assertEqual(r.returncode, 0, r.output)
        hooks = [x for x in r.json_records() if x.get("message") == "hook"]
        self.assertEqual([x["handler"] for x in hooks],
                         ["start_service", "started_service", "stopping_service", "stop_service"])
        for record in hooks:
            self.assertEqual(record["logger"], "tomodachi.lifecycle.handler")
            self.assertEqual(record["type"], "tomodachi.event")
        self.assertEqual([x["event"] for x in hooks],
                         ["lifecycle.setup", "lifecycle.initialized", "lifecycle.interrupt", "lifecycle.teardown"])

    def test_suffix_may_be_omitted(self):
        r = run(["run", "--production", LIFECYCLE[: -len(".cpp")]], TOMODACHI_TEST_MODE="exit0")
        self.assertEqual(r.returncode, 0, r.output)


class Signals(unittest.TestCase):
    def stop_with(self, signum, expected_record):
        p = harness.Process(["run", "--production", LIFECYCLE], TOMODACHI_TEST_MODE="wait")
        try:
            self.assertTrue(p.wait_for_log("started service successfully"), p.log())
            started = time.time()
            p.signal(signum)
            r = p.wait(timeout=30)
            self.assertLess(time.time() - started, 3.0)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(expected_record, r.stderr)
            self.assertIn("stopping service", r.stderr)
            self.assertIn("terminated service", r.stderr)
            self.assertIn("hook=stop_service", r.stderr)
        finally:
            p.stop()

    def test_sigint(self):
        self.stop_with(signal.SIGINT, "interrupt signal <ctrl+c>")

    def test_sigterm(self):
        self.stop_with(signal.SIGTERM, "received termination signal")

    def test_background_tasks_do_not_hold_the_exit(self):
        p = harness.Process(["run", "--production", LIFECYCLE], TOMODACHI_TEST_MODE="background")
        try:
            self.assertTrue(p.wait_for_log("started service successfully"), p.log())
            started = time.time()
            p.signal(signal.SIGTERM)
            r = p.wait(timeout=40)
            self.assertLess(time.time() - started, 3.0, "a spawned endless task kept the process alive")
            self.assertEqual(r.returncode, 0)
        finally:
            p.stop()

    def test_stopping_hooks_are_awaited(self):
        p = harness.Process(["run", "--production", LIFECYCLE], TOMODACHI_TEST_MODE="slow_stopping")
        try:
            self.assertTrue(p.wait_for_log("started service successfully"), p.log())
            p.signal(signal.SIGTERM)
            r = p.wait(timeout=30)
            self.assertIn("stopping hook finished", r.stderr)
            self.assertLess(r.stderr.index("stopping hook finished"), r.stderr.index("terminated service"))
        finally:
            p.stop()

    def test_stop_during_a_blocking_start_is_bounded_by_the_deadline(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump({"options": {"http": {"termination_grace_period_seconds": 2}}}, f)
        self.addCleanup(os.unlink, f.name)
        p = harness.Process(["run", "--production", LIFECYCLE, "-c", f.name], TOMODACHI_TEST_MODE="blocking_start")
        try:
            self.assertTrue(p.wait_for_log("hook=start_service"), p.log())
            started = time.time()
            p.signal(signal.SIGTERM)
            r = p.wait(timeout=30)
            self.assertLess(time.time() - started, 4.0, "the 20 s blocking start held the stop")
            self.assertIn("did not finish within the grace period", r.stderr)
        finally:
            p.stop()

    def test_stop_during_start_does_not_hang(self):
        p = harness.Process(["run", "--production", LIFECYCLE], TOMODACHI_TEST_MODE="slow_start")
        try:
            self.assertTrue(p.wait_for_log("hook=start_service"), p.log())
            started = time.time()
            p.signal(signal.SIGTERM)
            r = p.wait(timeout=30)
            self.assertLess(time.time() - started, 3.0, "the 4 s start hook was cancelled")
            self.assertIn("terminated service", r.stderr)
        finally:
            p.stop()

    def test_stop_sequence_is_bounded_by_the_grace_period(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump({"options": {"http": {"termination_grace_period_seconds": 2}}}, f)
        try:
            p = harness.Process(["run", "--production", LIFECYCLE, "-c", f.name], TOMODACHI_TEST_MODE="stuck_stop")
            try:
                self.assertTrue(p.wait_for_log("started service successfully"), p.log())
                started = time.time()
                p.signal(signal.SIGTERM)
                r = p.wait(timeout=30)
                self.assertLess(time.time() - started, 4.0)
                self.assertIn("did not finish within the grace period", r.stderr)
                self.assertNotEqual(r.returncode, 0)
            finally:
                p.stop()
        finally:
            os.unlink(f.name)

    def test_second_signal_stops_at_once(self):
        p = harness.Process(["run", "--production", LIFECYCLE], TOMODACHI_TEST_MODE="stuck_stop")
        try:
            self.assertTrue(p.wait_for_log("started service successfully"), p.log())
            p.signal(signal.SIGTERM)
            self.assertTrue(p.wait_for_log("hook=stop_service"), p.log())
            started = time.time()
            p.signal(signal.SIGINT)
            r = p.wait(timeout=10)
            self.assertLess(time.time() - started, 2.0)
            self.assertEqual(r.returncode, 128 + signal.SIGINT)
            self.assertIn("stopping at once", r.stderr)
        finally:
            p.stop()


class ConfigAndRegistry(unittest.TestCase):
    def write_config(self, content):
        f = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
        f.write(content)
        f.close()
        self.addCleanup(os.unlink, f.name)
        return f.name

    def test_config_pins_uuid_and_replaces_options(self):
        path = self.write_config(json.dumps({"options": {"http": {"port": 4711, "access_log": True}},
                                             "uuid": "21a24416-1427-4603-c7c9-0ff8ab1f1c20", "custom": 42}))
        r = run(["run", "--production", "--logger", "json", LIFECYCLE, "-c", path], TOMODACHI_TEST_MODE="registry")
        self.assertEqual(r.returncode, 0, r.output)
        record = [x for x in r.json_records() if x.get("message") == "registry"][0]
        self.assertEqual(record["uuid"], "21a24416-1427-4603-c7c9-0ff8ab1f1c20")
        self.assertEqual(record["http_port"], 4711)
        self.assertEqual(record["config_value"], 42)
        self.assertEqual((record["by_default"], record["by_name"], record["unknown_is_null"]), (True, True, True))

    def test_config_errors(self):
        r = run(["run", "--production", LIFECYCLE, "-c", "/nonexistent.json"], TOMODACHI_TEST_MODE="exit0")
        self.assertEqual(r.returncode, 2)
        self.assertIn("Invalid config file", r.stdout)
        self.assertNotIn("initializing service instance", r.stderr)
        path = self.write_config("{ options }")
        r = run(["run", "--production", LIFECYCLE, "-c", path], TOMODACHI_TEST_MODE="exit0")
        self.assertEqual(r.returncode, 2)
        self.assertIn("Invalid config file, invalid JSON format", r.stdout)
        r = run(["run", "--production", LIFECYCLE, "-c"], TOMODACHI_TEST_MODE="exit0")
        self.assertEqual(r.returncode, 2)
        self.assertIn("Missing config file on command line", r.stdout)

    def test_unknown_option_in_config_fails_the_start(self):
        path = self.write_config(json.dumps({"options": {"http": {"prot": 1}}}))
        r = run(["run", "--production", LIFECYCLE, "-c", path], TOMODACHI_TEST_MODE="exit0")
        self.assertEqual(r.returncode, 1, r.output)
        self.assertIn("failed to setup config", r.stderr)
        self.assertIn("'http.prot'", r.stderr)

    def test_two_services_with_the_same_name(self):
        r = run(["run", "--production", service("twin_services.cpp")])
        self.assertEqual(r.returncode, 0, r.output)
        self.assertIn("names=twin-0001,twin-0002,twin-prod,", r.stderr)


class Build(unittest.TestCase):
    def test_build_then_run_shared_object(self):
        with tempfile.TemporaryDirectory() as tmp:
            so = os.path.join(tmp, "lifecycle.so")
            r = run(["build", LIFECYCLE, "-o", so])
            self.assertEqual(r.returncode, 0, r.output)
            self.assertTrue(os.path.exists(so))
            r = run(["run", "--production", so], TOMODACHI_TEST_MODE="exit0")
            self.assertEqual(r.returncode, 0, r.output)

    def test_compile_errors_are_shown_verbatim(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "broken.cpp")
            with open(path, "w") as f:
                f.write("#include <tomodachi/tomodachi.hpp>\nint broken( {\n")
            r = run(["run", "--production", path])
            self.assertEqual(r.returncode, 1)
            self.assertIn("broken.cpp:2", r.stderr)
            self.assertIn("error:", r.stderr)
            self.assertIn("unable to load service file", r.stderr)

    def test_shared_object_for_another_version_is_refused_before_loading(self):
        with tempfile.TemporaryDirectory() as tmp:
            so = os.path.join(tmp, "lifecycle.so")
            r = run(["build", LIFECYCLE, "-o", so])
            self.assertEqual(r.returncode, 0, r.output)
            with open(so, "rb") as f:
                data = f.read()
            version = run(["-v"]).stdout.split()[1].encode()
            marker = b"tomodachi " + version + b" |"
            self.assertIn(marker, data)
            other = b"tomodachi " + b"9" * len(version) + b" |"
            with open(so, "wb") as f:
                f.write(data.replace(marker, other))
            r = run(["run", "--production", so], TOMODACHI_TEST_MODE="exit0")
            self.assertEqual(r.returncode, 1, r.output)
            self.assertIn("was built for [tomodachi " + "9" * len(version), r.stderr)
            self.assertIn("rebuild it with this tomodachi", r.stderr)
            self.assertNotIn("initializing service instance", r.stderr)

    def test_abi_mismatch_is_a_clear_error(self):
        r = run(["run", "--production", LIFECYCLE], TOMODACHI_TEST_MODE="exit0", TOMODACHI_CXXFLAGS="-std=c++2b")
        self.assertEqual(r.returncode, 1, r.output)
        self.assertIn("was built for", r.stderr)
        self.assertIn("rebuild it with this tomodachi", r.stderr)


if __name__ == "__main__":
    harness.main()
