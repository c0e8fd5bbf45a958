"""Service files as `tomodachi run` compiles and starts them: the `// tomodachi:` build
directives (docs/cli.md "Extra sources, include folders and libraries") with their
compile cache key, and several service files in one process (spec/service.md §3)."""

import glob
import os
import signal
import socket
import tempfile
import textwrap
import time
import unittest
import urllib.request
import zlib

import harness
from harness import run

SERVICE = textwrap.dedent("""\
    // A service file naming what else it needs.
    // tomodachi:sources extra/helper.cpp
    // tomodachi:include-dirs include
    // tomodachi:pkg-config zlib
    // tomodachi:libraries crypto
      // tomodachi:cxxflags -DDIRECTIVE_ANSWER=42 -DDIRECTIVE_WORD="flag"
    #include <tomodachi/tomodachi.hpp>

    #include <helper.hpp>

    class DirectiveService : public tomodachi::Service {
     public:
      DirectiveService() : Service("directives") {}
      tomodachi::Task<void> started_service() override {
        logger().info("answer", {{"greeting", helper_greeting()},
                                 {"checksum", helper_checksum("tomodachi")},
                                 {"openssl_major", helper_openssl_major()},
                                 {"flag", DIRECTIVE_ANSWER},
                                 {"word", DIRECTIVE_WORD}});
        tomodachi::exit();
        co_return;
      }
    };

    TOMODACHI_SERVICE(DirectiveService);
    """)

# Found only through `include-dirs`.
HEADER = textwrap.dedent("""\
    #pragma once
    #include <cstdint>
    #include <string>

    #define HELPER_SUFFIX "h1"

    std::string helper_greeting();
    std::int64_t helper_checksum(const std::string& text);
    long helper_openssl_major();
    """)

# Compiled in only through `sources`; links zlib (`pkg-config`) and libcrypto (`libraries`),
# neither of which is on the service link line otherwise (it links with -z defs).
HELPER = textwrap.dedent("""\
    #include <helper.hpp>

    #include <openssl/crypto.h>
    #include <zlib.h>

    std::string helper_greeting() {
      std::string greeting = "hello from helper v1 ";
      greeting += HELPER_SUFFIX;
      return greeting;
    }

    std::int64_t helper_checksum(const std::string& text) {
      return static_cast<std::int64_t>(
          crc32(0L, reinterpret_cast<const Bytef*>(text.data()), static_cast<uInt>(text.size())));
    }

    long helper_openssl_major() { return static_cast<long>(OpenSSL_version_num() >> 28); }
    """)


def write(path, content):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(content)


def replace_in(path, old, new):
    with open(path) as f:
        content = f.read()
    assert old in content, (path, old)
    write(path, content.replace(old, new))


def cache_dir():
    return harness.environment()["TOMODACHI_CACHE_DIR"]


def remove_cached_objects(stem):
    """This test's compiled service files (their stems are unique per test run)."""
    for path in glob.glob(os.path.join(cache_dir(), "so", stem + "-*.so")):
        os.unlink(path)


class BuildDirectives(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.dir = tmp.name
        # A stem of its own, so this test's cached shared objects can be counted.
        self.stem = "directives_%d" % os.getpid()
        self.source = os.path.join(self.dir, self.stem + ".cpp")
        write(self.source, SERVICE)
        write(os.path.join(self.dir, "include", "helper.hpp"), HEADER)
        write(os.path.join(self.dir, "extra", "helper.cpp"), HELPER)
        self.addCleanup(remove_cached_objects, self.stem)

    def cached_objects(self):
        return sorted(glob.glob(os.path.join(cache_dir(), "so", self.stem + "-*.so")))

    def answer(self):
        r = run(["run", "--production", "--logger", "json", self.source])
        self.assertEqual(r.returncode, 0, r.output)
        records = [x for x in r.json_records() if x.get("message") == "answer"]
        self.assertEqual(len(records), 1, r.output)
        return records[0]

    def build(self):
        r = run(["build", self.source, "-o", os.path.join(self.dir, "out.so")])
        self.assertEqual(r.returncode, 0, r.output)
        return r.stdout

    def test_extra_source_include_dir_packages_libraries_and_flags(self):
        record = self.answer()
        self.assertEqual(record["greeting"], "hello from helper v1 h1")
        self.assertEqual(record["checksum"], zlib.crc32(b"tomodachi"))
        self.assertEqual(record["openssl_major"], 3)
        self.assertEqual((record["flag"], record["word"]), (42, "flag"))
        self.assertEqual(len(self.cached_objects()), 1)
        self.assertIn("(cached)", self.build(), "an unchanged service file is not compiled again")

    def test_editing_an_extra_source_or_a_header_of_an_include_dir_rebuilds(self):
        self.assertEqual(self.answer()["greeting"], "hello from helper v1 h1")
        first = self.cached_objects()
        self.assertEqual(len(first), 1)

        replace_in(os.path.join(self.dir, "extra", "helper.cpp"), "helper v1", "helper v2")
        self.assertNotIn("(cached)", self.build(), "the extra source is part of the cache key")
        self.assertEqual(self.answer()["greeting"], "hello from helper v2 h1")
        second = self.cached_objects()
        self.assertEqual(len(second), 2)

        replace_in(os.path.join(self.dir, "include", "helper.hpp"), '"h1"', '"h2"')
        self.assertNotIn("(cached)", self.build(), "headers of include-dirs are part of the cache key")
        self.assertEqual(self.answer()["greeting"], "hello from helper v2 h2")
        self.assertEqual(len(self.cached_objects()), 3)
        self.assertTrue(set(first) < set(second))

    def test_unknown_directive_is_a_clear_error(self):
        replace_in(self.source, "// tomodachi:libraries crypto", "// tomodachi:link-libraries crypto")
        r = run(["run", "--production", self.source])
        self.assertEqual(r.returncode, 1, r.output)
        self.assertIn("unable to load service file", r.stderr)
        self.assertIn("unknown directive '// tomodachi:link-libraries' in '", r.stderr)
        self.assertIn("(known: sources, include-dirs, libraries, pkg-config, cxxflags)", r.stderr)
        self.assertNotIn("initializing service instance", r.stderr)
        self.assertEqual(self.cached_objects(), [])

        r = run(["build", self.source, "-o", os.path.join(self.dir, "out.so")])
        self.assertEqual(r.returncode, 1, r.output)
        self.assertIn("unknown directive '// tomodachi:link-libraries'", r.stderr)

    def test_unknown_pkg_config_package_fails_the_build(self):
        replace_in(self.source, "// tomodachi:pkg-config zlib", "// tomodachi:pkg-config zlib no-such-package-xyz")
        r = run(["run", "--production", self.source])
        self.assertEqual(r.returncode, 1, r.output)
        self.assertIn("no-such-package-xyz", r.stderr)
        self.assertIn("unable to load service file", r.stderr)


# One service per file; each answers over HTTP on its own port with its name and the
# number of services running in its process.
TWO_FILES_SERVICE = textwrap.dedent("""\
    #include <tomodachi/tomodachi.hpp>

    #include <cstdlib>
    #include <string>

    class CLASS_NAME : public tomodachi::Service {
     public:
      CLASS_NAME() : Service("SERVICE_NAME") {
        options.http.port = std::atoi(std::getenv("PORT_VARIABLE"));
        http<&CLASS_NAME::whoami>("GET", "/whoami");
      }
      tomodachi::Task<std::string> whoami(tomodachi::Request&) {
        co_return name() + " of " + std::to_string(tomodachi::get_services().size());
      }
      tomodachi::Task<void> started_service() override {
        logger().info("SERVICE_NAME is ready");
        co_return;
      }
      tomodachi::Task<void> stop_service() override {
        logger().info("SERVICE_NAME stopped");
        co_return;
      }
    };

    TOMODACHI_SERVICE(CLASS_NAME);
    """)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path, timeout=60):
    """The body of GET http://127.0.0.1:<port><path>, retried until the service listens."""
    deadline = time.time() + timeout
    while True:
        try:
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy
            with opener.open("http://127.0.0.1:%d%s" % (port, path), timeout=5) as response:
                return response.read().decode()
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.1)


class TwoServiceFiles(unittest.TestCase):
    def test_both_files_start_answer_and_stop_with_one_sigterm(self):
        self.addCleanup(remove_cached_objects, "alpha_%d" % os.getpid())
        self.addCleanup(remove_cached_objects, "beta_%d" % os.getpid())
        with tempfile.TemporaryDirectory() as tmp:
            files = []
            for class_name, name, variable in (("Alpha", "alpha", "ALPHA_PORT"), ("Beta", "beta", "BETA_PORT")):
                path = os.path.join(tmp, "%s_%d.cpp" % (name, os.getpid()))
                write(path, TWO_FILES_SERVICE.replace("CLASS_NAME", class_name).replace("SERVICE_NAME", name)
                      .replace("PORT_VARIABLE", variable))
                files.append(path)
            ports = {"alpha": free_port(), "beta": free_port()}
            p = harness.Process(["run"] + files, ALPHA_PORT=ports["alpha"], BETA_PORT=ports["beta"])
            try:
                self.assertTrue(p.wait_for_log("alpha is ready", timeout=120), p.log())
                self.assertTrue(p.wait_for_log("beta is ready", timeout=60), p.log())
                self.assertEqual(get(ports["alpha"], "/whoami"), "alpha of 2")
                self.assertEqual(get(ports["beta"], "/whoami"), "beta of 2")
                p.signal(signal.SIGTERM)
                r = p.wait(timeout=60)
            finally:
                p.stop()
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("service file [1]", r.stdout)
            self.assertIn("service file [2]", r.stdout)
            self.assertEqual(r.stderr.count("received termination signal"), 1, r.stderr)
            self.assertIn("alpha stopped", r.stderr)
            self.assertIn("beta stopped", r.stderr)
            self.assertEqual(r.stderr.count("started service successfully"), 2, r.stderr)
            self.assertEqual(r.stderr.count("terminated service"), 2, r.stderr)
            for port in ports.values():
                with self.assertRaises(OSError, msg="port %d still served after the stop" % port):
                    socket.create_connection(("127.0.0.1", port), timeout=2).close()


if __name__ == "__main__":
    harness.main()
