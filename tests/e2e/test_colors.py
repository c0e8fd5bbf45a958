"""Colors on a terminal (spec/cli.md §5, §6.2): the banner and console records use ANSI
colors when the output is a terminal, and the documented variables turn them off."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
import terminal  # noqa: E402

ESC = "\x1b["


def run_on_terminal(**extra_env):
    """Runs a development-mode service that exits at once, stdout and stderr on a pty."""
    env = harness.environment(TOMODACHI_TEST_MODE="exit0", **extra_env)
    env.pop("NO_COLOR", None)  # the harness sets it; these tests decide
    for key, value in extra_env.items():
        env[key] = str(value)
    return terminal.run_on_terminal(["run", harness.service("lifecycle_service.cpp")], env, timeout=120)


def split(output):
    """(banner part, record part): the banner ends where the first record starts."""
    marker = output.find("initializing service instance")
    start = output.rfind("\n", 0, marker)
    return output[:start], output[start:]


class Colors(unittest.TestCase):
    def test_a_terminal_gets_colors(self):
        code, output = run_on_terminal()
        self.assertEqual(code, 0, output)
        banner, records = split(output)
        self.assertIn("tomodachi version", banner)
        self.assertIn(ESC, banner)
        self.assertIn(ESC, records)

    def test_no_color_turns_everything_off(self):
        for name, value in (("NO_COLOR", "1"), ("TOMODACHI_NO_COLOR", "true"), ("CLICOLOR", "0")):
            with self.subTest(name=name):
                code, output = run_on_terminal(**{name: value})
                self.assertEqual(code, 0, output)
                self.assertIn("tomodachi version", output)
                self.assertNotIn(ESC, output)

    def test_banner_only_variable_keeps_record_colors(self):
        code, output = run_on_terminal(TOMODACHI_BANNER_NO_COLOR="1")
        self.assertEqual(code, 0, output)
        banner, records = split(output)
        self.assertNotIn(ESC, banner)
        self.assertIn(ESC, records)


if __name__ == "__main__":
    unittest.main()
