"""What the compiler does is shown (issue 13, item 2): on a terminal a progress line with a
live elapsed time and the duration; otherwise records of logger `tomodachi.build` at debug,
and at info only for a compile longer than 2 s, so a warm start's records are upstream's.

The tests share one fresh compile cache and run in name order: the first builds the
precompiled header cold (the 12-30 s a new user waits for)."""

import os
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
import terminal  # noqa: E402

LIFECYCLE = harness.service("lifecycle_service.cpp")
LIVE = "\r\x1b[K⌁ [build  ] compiling "


def build_records(result):
    return [r for r in result.json_records() if r.get("logger") == "tomodachi.build"]


def without_times(records):
    return [{k: v for k, v in r.items() if k not in ("timestamp", "duration")} for r in records]


def run_on_terminal(args, cwd, env):
    return terminal.run_on_terminal(args, env, cwd)


class BuildProgress(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tomodachi-build-progress-")
        cls.cache = os.path.join(cls.tmp, "cache")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, True)

    def source(self, name, marker):
        """A copy of the lifecycle service no cache holds yet."""
        path = os.path.join(self.tmp, name)
        with open(LIFECYCLE) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write("// %s\n%s" % (marker, text))
        return path

    def run_cli(self, args, **env):
        return harness.run(args, timeout=600, cwd=self.tmp, TOMODACHI_CACHE_DIR=self.cache, **env)

    def test_1_tomodachi_build_cold_precompiled_header(self):
        source = self.source("built.cpp", "build")
        started = time.time()
        r = self.run_cli(["build", source, "-o", os.path.join(self.tmp, "built.so")],
                         TOMODACHI_LOG_LEVEL="debug", TOMODACHI_LOGGER="json")
        first_run = time.time() - started
        self.assertEqual(r.returncode, 0, r.output)
        records = build_records(r)
        self.assertEqual(without_times(records[:2]), [
            {"logger": "tomodachi.build", "level": "debug", "message": "compiling precompiled header",
             "reason": "first build of the precompiled header"},
            {"logger": "tomodachi.build", "level": "info", "message": "compiled precompiled header",
             "reason": "first build of the precompiled header"},
        ], r.stderr)
        self.assertGreater(records[1]["duration"], 2.0)
        self.assertEqual(without_times(records[2:3]), [
            {"logger": "tomodachi.build", "level": "debug", "message": "compiling service file",
             "file_path": source, "reason": "first build of built.cpp"}])
        self.assertEqual(records[3]["message"], "compiled service file")
        self.assertEqual(records[3]["level"], "info" if records[3]["duration"] > 2.0 else "debug")
        self.assertEqual(len(records), 4, r.stderr)
        sys.stderr.write("first build of a new file with a cold precompiled header (tomodachi build): "
                         "%.1f s (precompiled header %.1f s, service %.1f s)\n"
                         % (first_run, records[1]["duration"], records[3]["duration"]))

    def test_2_run_records_at_debug_and_a_warm_start_has_none(self):
        source = self.source("svc.cpp", "run")
        args = ["run", "--production", "--log-level", "debug", "--logger", "json", source]
        r = self.run_cli(args, TOMODACHI_TEST_MODE="exit0")
        self.assertEqual(r.returncode, 0, r.output)
        records = build_records(r)
        # The precompiled header of the production flags is warm (test 1): the service only.
        self.assertEqual(without_times(records[:1]), [
            {"logger": "tomodachi.build", "level": "debug", "message": "compiling service file",
             "file_path": source, "reason": "first build of svc.cpp"}], r.stderr)
        self.assertEqual(len(records), 2, r.stderr)
        self.assertEqual(records[1]["level"], "info" if records[1]["duration"] > 2.0 else "debug")
        self.assertLess(r.stderr.index('"compiled service file"'), r.stderr.index("initializing service instance"))

        # A warm start compiles nothing and logs nothing of its own, even at debug.
        r = self.run_cli(args, TOMODACHI_TEST_MODE="exit0")
        self.assertEqual(r.returncode, 0, r.output)
        self.assertEqual(build_records(r), [])
        self.assertNotIn("tomodachi.build", r.stderr)

        # A change names the file.
        with open(source, "a") as f:
            f.write("\n// changed\n")
        r = self.run_cli(args, TOMODACHI_TEST_MODE="exit0")
        self.assertEqual(r.returncode, 0, r.output)
        self.assertEqual(without_times(build_records(r)[:1]), [
            {"logger": "tomodachi.build", "level": "debug", "message": "compiling service file",
             "file_path": source, "reason": "svc.cpp changed"}], r.stderr)

    def test_3_info_level_shows_only_slow_compiles(self):
        source = self.source("quiet.cpp", "info")
        r = self.run_cli(["run", "--production", "--logger", "json", source], TOMODACHI_TEST_MODE="exit0")
        self.assertEqual(r.returncode, 0, r.output)
        records = build_records(r)
        self.assertTrue(all(x["level"] == "info" and x["message"] == "compiled service file" and x["duration"] > 2.0
                            for x in records), records)
        self.assertLessEqual(len(records), 1)

    def test_4_terminal_progress_line(self):
        source = self.source("hello.cpp", "terminal")
        env = harness.environment(TOMODACHI_CACHE_DIR=self.cache, TOMODACHI_TEST_MODE="exit0")
        code, output = run_on_terminal(["run", "--production", source], self.tmp, env)
        self.assertEqual(code, 0, output)
        self.assertIn(LIVE + source + " (first build of hello.cpp) 0.0s", output)
        self.assertGreaterEqual(output.count(LIVE + source + " (first build of hello.cpp) "), 2,
                                "the elapsed time is updated while the compiler runs: " + repr(output))
        self.assertRegex(output, r"\r\x1b\[K⌁ \[build  \] compiled " + source.replace(".", r"\.") +
                         r" in \d+\.\ds \(first build of hello\.cpp\)\r?\n")
        self.assertNotIn("tomodachi.build", output, "the line replaces the records")
        self.assertLess(output.index("compiled " + source), output.index("initializing service instance"))

        # `tomodachi build` shows the same line.
        code, output = run_on_terminal(["build", self.source("built2.cpp", "terminal build")], self.tmp, env)
        self.assertEqual(code, 0, output)
        self.assertIn("⌁ [build  ] compiled " + os.path.join(self.tmp, "built2.cpp") + " in ", output)

    def test_5_a_compile_error_shows_the_first_error_first(self):
        path = os.path.join(self.tmp, "broken.cpp")
        with open(path, "w") as f:
            f.write("#include <tomodachi/tomodachi.hpp>\nint first = ;\nint second = ;\n")
        r = self.run_cli(["run", "--production", path])
        self.assertEqual(r.returncode, 1, r.output)
        head, _, full = r.stderr.partition("full compiler output:\n")
        self.assertIn("compiling %s failed, the first error:\n\n  %s:2:" % (path, path), head)
        self.assertIn("error:", head.split("the first error:")[1])
        self.assertNotIn(":3:", head, "only the first error above the full output")
        self.assertIn(path + ":3:", full)
        self.assertIn("unable to load service file", full)

        code, output = run_on_terminal(["run", "--production", path], self.tmp,
                                       harness.environment(TOMODACHI_CACHE_DIR=self.cache))
        self.assertEqual(code, 1, output)
        self.assertIn("⌁ [build  ] compiling %s failed after " % path, output)
        self.assertIn("failed, the first error:", output)

        r = self.run_cli(["build", path])
        self.assertEqual(r.returncode, 1, r.output)
        self.assertIn("compiling %s failed, the first error:\n\n  %s:2:" % (path, path), r.stderr)


if __name__ == "__main__":
    harness.main()
