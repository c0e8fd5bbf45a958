"""`cmake --install` gives a usable package: the standalone example (TOMODACHI_MAIN)
builds against the installed tree with find_package(tomodachi) and with pkg-config, runs
with the `run` options, and the installed `tomodachi` compiles a service file against the
installed headers."""

import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.request

import harness


def run(cmd, **kwargs):
    completed = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if completed.returncode != 0:
        raise AssertionError("%s failed:\n%s\n%s" % (cmd, completed.stdout[-4000:], completed.stderr[-4000:]))
    return completed


class Install(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tomodachi-install-")
        cls.prefix = os.path.join(cls.tmp, "prefix")
        run(["cmake", "--install", harness.BUILD_DIR, "--prefix", cls.prefix])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, True)

    def serve_and_greet(self, argv, env=None):
        process = subprocess.Popen(argv + ["--production", "--logger", "json"], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, env=env)
        try:
            port = None
            deadline = time.time() + 60
            while time.time() < deadline and port is None:
                line = process.stderr.readline()
                if not line and process.poll() is not None:
                    break
                match = re.search(r'"listen_port": (\d+)', line)
                if match:
                    port = int(match.group(1))
            self.assertIsNotNone(port, "no listen_port logged")
            with urllib.request.urlopen("http://127.0.0.1:%d/greet/world" % port, timeout=10) as response:
                self.assertEqual(response.read().decode(), "hello, world!")
        finally:
            process.terminate()
            process.communicate(timeout=40)
        self.assertEqual(process.returncode, 0)

    def test_standalone_example_with_find_package(self):
        build = os.path.join(self.tmp, "standalone-cmake")
        source = os.path.join(harness.SOURCE_DIR, "examples", "standalone")
        run(["cmake", "-S", source, "-B", build, "-G", "Ninja", "-DCMAKE_PREFIX_PATH=" + self.prefix,
             "-DCMAKE_BUILD_TYPE=Release"])
        run(["cmake", "--build", build])
        self.serve_and_greet([os.path.join(build, "greeter")])

    def test_standalone_example_with_pkg_config(self):
        env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(self.prefix, "lib", "pkgconfig"))
        flags = run(["pkg-config", "--cflags", "--libs", "tomodachi"], env=env).stdout.split()
        binary = os.path.join(self.tmp, "greeter-pkgconfig")
        run(["c++", os.path.join(harness.SOURCE_DIR, "examples", "standalone", "greeter.cpp"), "-O1", "-o", binary]
            + flags)
        self.serve_and_greet([binary])

    def test_installed_cli_compiles_against_installed_headers(self):
        env = dict(os.environ, TOMODACHI_CACHE_DIR=os.path.join(self.tmp, "cache"), NO_COLOR="1",
                   TOMODACHI_TEST_MODE="exit0")
        cli = os.path.join(self.prefix, "bin", "tomodachi")
        completed = subprocess.run([cli, "run", "--production", harness.service("lifecycle_service.cpp")],
                                   capture_output=True, text=True, env=env, timeout=300)
        self.assertEqual(completed.returncode, 0, completed.stderr[-3000:])
        self.assertIn("tomodachi.exit [0] was called", completed.stderr)
        # The installed toolchain points at the installed headers, not the source tree.
        with open(os.path.join(self.prefix, "share", "tomodachi", "toolchain.json")) as f:
            toolchain = f.read()
        self.assertNotIn(harness.SOURCE_DIR, toolchain)


if __name__ == "__main__":
    harness.main()
