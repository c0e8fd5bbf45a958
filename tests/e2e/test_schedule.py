"""End-to-end: scheduled functions under `tomodachi run` (spec/schedule.md §6-§8).

Runs tests/services/schedule_service.cpp (built as schedule_service.so) across a minute
boundary, then stops it with SIGTERM while a slow invocation runs, and checks from the JSON
log records: hook order, invocation counts and timing of a heartbeat, an integer interval
with and without `immediately`, a cron every minute, that SIGTERM waits for the running
invocation before `stop_service`, and the execution-context counters.
"""

import datetime
import json
import os
import signal
import subprocess
import threading
import time
import unittest

BIN = os.environ.get("TOMODACHI_BIN", "build/bin/tomodachi")
SERVICES = os.environ.get("TOMODACHI_TEST_SERVICES_DIR", "build/tests/services")


def parse_time(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)


class ServiceProcess:
    """A `tomodachi run` process whose JSON log records are collected as they arrive."""

    def __init__(self, *args):
        self.records = []
        self.other_lines = []
        self.lock = threading.Lock()
        self.process = subprocess.Popen(
            [BIN, "run", "--production", "--logger", "json", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stdout:
            try:
                record = json.loads(line)
            except ValueError:
                with self.lock:
                    self.other_lines.append(line)
                continue
            with self.lock:
                self.records.append(record)

    def snapshot(self):
        with self.lock:
            return list(self.records)

    def wait_for(self, predicate, timeout, after=0):
        """The first record (from index `after`) matching `predicate`, waiting up to `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            records = self.snapshot()
            for index in range(after, len(records)):
                if predicate(records[index]):
                    return index, records[index]
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError("no matching record within {} s; output:\n{}".format(timeout, self.dump()))

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def dump(self):
        return "\n".join(json.dumps(r) for r in self.snapshot()) + "".join(self.other_lines)


def invoked(function):
    return lambda r: r.get("message") == "invoked" and r.get("function") == function


def message(text):
    return lambda r: r.get("message") == text


class ScheduleEndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # Start at second 44-48 of a minute, so the run crosses exactly one minute boundary.
        second = datetime.datetime.now(datetime.timezone.utc).second
        if not 44 <= second <= 48:
            time.sleep((44 - second) % 60)
        cls.service = ServiceProcess(os.path.join(SERVICES, "schedule_service.so"))
        try:
            cls.service.wait_for(message("started service successfully"), timeout=30)
            cls.service.wait_for(invoked("every_minute"), timeout=40)
            _, first = cls.service.wait_for(message("started service successfully"), timeout=1)
            started = parse_time(first["timestamp"])
            while datetime.datetime.now(datetime.timezone.utc) - started < datetime.timedelta(seconds=12):
                time.sleep(0.1)
            # SIGTERM half a second into a slow (4 s) invocation.
            after = len(cls.service.snapshot())
            cls.service.wait_for(invoked("slow"), timeout=10, after=after)
            time.sleep(0.5)
            cls.service.process.send_signal(signal.SIGTERM)
            cls.exit_code = cls.service.process.wait(timeout=30)
            cls.service.reader.join(timeout=5)
        except BaseException:
            cls.service.stop()
            raise
        cls.records = cls.service.snapshot()

    # ---- helpers ------------------------------------------------------------------------

    def index_of(self, predicate):
        for index, record in enumerate(self.records):
            if predicate(record):
                return index
        self.fail("no such record; output:\n" + self.service.dump())

    def times_of(self, function):
        return [parse_time(r["timestamp"]) for r in self.records if invoked(function)(r)]

    def time_of(self, predicate):
        return parse_time(self.records[self.index_of(predicate)]["timestamp"])

    def loop_start(self):
        """The loops start together; the `immediately` run marks that instant."""
        return self.times_of("every_third_second_immediately")[0]

    def stop_time(self):
        return self.time_of(message("received termination signal"))

    # ---- tests --------------------------------------------------------------------------

    def test_exit_code_is_zero(self):
        self.assertEqual(self.exit_code, 0, self.service.dump())

    def test_hooks_run_around_the_invocations(self):
        start_hook = self.index_of(lambda r: r.get("hook") == "start_service")
        started_hook = self.index_of(lambda r: r.get("hook") == "started_service")
        first_invocation = self.index_of(message("invoked"))
        stop_hook = self.index_of(lambda r: r.get("hook") == "stop_service")
        terminated = self.index_of(message("terminated service"))
        self.assertLess(start_hook, started_hook)
        self.assertLess(started_hook, first_invocation)
        self.assertLess(first_invocation, stop_hook)
        self.assertLess(stop_hook, terminated)

    def test_heartbeat_runs_every_second_without_drift(self):
        start = self.loop_start()
        beats = self.times_of("beat")
        self.assertGreaterEqual(len(beats), 12)
        for k, beat in enumerate(beats, start=1):
            offset = (beat - (start + datetime.timedelta(seconds=k))).total_seconds()
            # Log timestamps come from the system clock, timers from the monotonic clock:
            # allow a few ms either way and scheduling noise on a loaded machine.
            self.assertTrue(-0.005 <= offset < 0.1, "beat {} is {:.4f} s off".format(k, offset))
        expected = int((self.stop_time() - start).total_seconds())
        self.assertIn(len(beats), (expected, expected + 1))
        stamps = [r["invocation_time"] for r in self.records if invoked("beat")(r)]
        seconds = [datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ") for s in stamps]
        self.assertTrue(all((b - a).total_seconds() == 1 for a, b in zip(seconds, seconds[1:])), stamps)

    def test_integer_interval_starts_one_period_after_start(self):
        start = self.loop_start()
        runs = self.times_of("every_third_second")
        first_offset = (runs[0] - start).total_seconds()
        self.assertTrue(2.995 <= first_offset < 3.1, first_offset)
        for k, run in enumerate(runs, start=1):
            offset = (run - (start + datetime.timedelta(seconds=3 * k))).total_seconds()
            self.assertTrue(-0.005 <= offset < 0.1, "run {} is {:.4f} s off".format(k, offset))
        expected = int((self.stop_time() - start).total_seconds()) // 3
        self.assertIn(len(runs), (expected, expected + 1))

    def test_immediately_adds_a_run_right_after_started_service(self):
        started_hook = self.time_of(lambda r: r.get("hook") == "started_service")
        with_immediately = self.times_of("every_third_second_immediately")
        without = self.times_of("every_third_second")
        self.assertLess((with_immediately[0] - started_hook).total_seconds(), 0.25)
        self.assertGreaterEqual(with_immediately[0], started_hook)
        self.assertEqual(len(with_immediately), len(without) + 1)
        self.assertEqual(
            [r["interval"] for r in self.records if invoked("every_third_second_immediately")(r)][0], "3"
        )

    def test_cron_every_minute_fires_at_the_minute(self):
        runs = [r for r in self.records if invoked("every_minute")(r)]
        self.assertEqual(len(runs), 1, self.service.dump())
        self.assertTrue(runs[0]["invocation_time"].endswith(":00Z"), runs[0])
        run_time = parse_time(runs[0]["timestamp"])
        self.assertEqual(run_time.second, 0)
        self.assertLess(run_time.microsecond, 250000)

    def test_sigterm_waits_for_the_running_invocation(self):
        signal_index = self.index_of(message("received termination signal"))
        awaiting = [r for r in self.records[signal_index:] if r.get("message") == "awaiting task to complete"]
        self.assertEqual(len(awaiting), 1, self.service.dump())
        self.assertEqual(awaiting[0]["logger"], "tomodachi.scheduler")
        self.assertEqual(awaiting[0]["handler"], "slow")
        self.assertTrue(awaiting[0]["task_name"].startswith("ScheduleE2e.slow/"), awaiting[0])
        finished = [i for i, r in enumerate(self.records) if r.get("message") == "slow finished"]
        slow_runs = self.times_of("slow")
        self.assertEqual(len(finished), len(slow_runs))
        stop_hook = self.index_of(lambda r: r.get("hook") == "stop_service")
        self.assertLess(signal_index, finished[-1])
        self.assertLess(finished[-1], stop_hook)

    def test_no_new_invocation_after_the_stop_chain_began(self):
        stop = self.stop_time()
        late = [r for r in self.records if r.get("message") == "invoked" and parse_time(r["timestamp"]) > stop + datetime.timedelta(milliseconds=50)]
        self.assertEqual(late, [])

    def test_execution_context_counters(self):
        stop_hook = self.records[self.index_of(lambda r: r.get("hook") == "stop_service")]
        self.assertIs(stop_hook["enabled"], True)
        self.assertEqual(stop_hook["current_tasks"], 0)
        self.assertEqual(stop_hook["total_tasks"], sum(1 for r in self.records if r.get("message") == "invoked"))


class InvalidSchedules(unittest.TestCase):
    """A schedule that cannot run aborts the start: exit code 1, the spec's message."""

    EXPECTED = {
        "interval": "Invalid interval: '5 minutes' (not seconds, an alias or a valid cron expression: "
        "invalid value 'minutes' for hour)",
        "seconds": "Invalid interval: -5 (an interval must be at least 1 second)",
        "cron": "Invalid interval: '* * 30 2 *' (not seconds, an alias or a valid cron expression: "
        "days out of scope: no allowed month of an allowed year has a day 30)",
        "timestamp": "Invalid timestamp: '25:00' (no supported timestamp format matched; use HH:MM, "
        "HH:MM:SS, YYYY-MM-DD HH:MM or YYYY-MM-DD HH:MM:SS)",
        "timezone": "Unknown timezone: Mars/Olympus",
    }

    def test_start_fails_with_the_message(self):
        for mistake, text in self.EXPECTED.items():
            with self.subTest(mistake=mistake):
                result = subprocess.run(
                    [BIN, "run", "--production", "--logger", "json",
                     os.path.join(SERVICES, "schedule_invalid_service.so")],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                    timeout=60,
                    env=dict(os.environ, SCHEDULE_INVALID=mistake),
                )
                self.assertEqual(result.returncode, 1, result.stdout)
                records = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
                messages = [r.get("exc_message") for r in records if r.get("exc_type") == "ScheduleError"]
                self.assertEqual(messages, [text], result.stdout)
                self.assertFalse(any(r.get("message") == "started service successfully" for r in records))


if __name__ == "__main__":
    unittest.main()
