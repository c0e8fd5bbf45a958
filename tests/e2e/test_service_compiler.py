"""`TOMODACHI_CXX`: a service file compiled by Debian's Clang (15, 16) with libstdc++ runs in
the GCC-built runtime — coroutines awaited across the two compilers, exceptions thrown by the
service and caught by the library, a precompiled header built by Clang. A clang++ missing on
the machine skips its test (scripts/install-deps.sh test installs clang-15)."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from http_support import BIN, ServiceProcess, get, request  # noqa: E402

SERVICE = r"""
#include <tomodachi/tomodachi.hpp>

#include <string>

class ClangService : public tomodachi::Service {
 public:
  ClangService() : Service("clang-service") {
    http<&ClangService::hello>("GET", "/hello/(?P<name>[^/]+)");
    http<&ClangService::json>("GET", "/json");
    http<&ClangService::missing>("GET", "/missing");
    http_middleware<&ClangService::tag>();
  }

 private:
  tomodachi::Task<std::string> hello(tomodachi::Request& request) {
    co_await tomodachi::sleep(0.01);  // suspends in a frame Clang laid out, resumed by the loop
    co_return "hello, " + std::string(request.match("name")) + "! (" + __VERSION__ + ")";
  }
  tomodachi::Task<tomodachi::Response> json(tomodachi::Request&) {
    co_return tomodachi::Response::json({{"a", 1}, {"compiler", __VERSION__}});
  }
  tomodachi::Task<tomodachi::Response> missing(tomodachi::Request&) {
    throw tomodachi::HttpError(404);  // thrown by Clang code, caught by the GCC-built server
    co_return tomodachi::Response(200, "unreachable");
  }
  tomodachi::Task<tomodachi::Response> tag(tomodachi::HttpNext& next, tomodachi::Request&) {
    tomodachi::Response response = co_await next();
    response.headers.emplace_back("X-Compiled-By", "clang");
    co_return response;
  }
};

TOMODACHI_SERVICE(ClangService);
"""


def sanitized_build():
    try:
        build_dir = os.path.dirname(os.path.dirname(os.path.abspath(BIN)))  # <build>/bin/tomodachi
        with open(os.path.join(build_dir, "CMakeCache.txt")) as cache:
            return any(line.strip() == "TOMODACHI_SANITIZE:BOOL=ON" for line in cache)
    except OSError:
        return False


class ClangCompiledService(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.TemporaryDirectory()
        cls.source = os.path.join(cls.work.name, "clang_service.cpp")
        with open(cls.source, "w") as f:
            f.write(SERVICE)
        cls.config = os.path.join(cls.work.name, "random-port.json")
        with open(cls.config, "w") as f:
            json.dump({"options": {"http": {"port": 0}}}, f)

    @classmethod
    def tearDownClass(cls):
        cls.work.cleanup()

    def run_with(self, compiler):
        if sanitized_build():
            # The library and every service it builds carry GCC's -fsanitize runtime; Clang's
            # instrumentation needs Clang's runtime, so the two cannot link into one process.
            self.skipTest("a sanitized build (TOMODACHI_SANITIZE) links services with GCC's sanitizer runtime")
        if shutil.which(compiler) is None:
            self.skipTest("%s is not installed (apt-get install %s; scripts/install-deps.sh test)"
                          % (compiler, compiler.replace("clang++", "clang")))
        # Debug: the build records of a compile that takes under 2 s (a warm compiler cache)
        # are debug records.
        env = {"TOMODACHI_CXX": compiler, "TOMODACHI_CACHE_DIR": os.path.join(self.work.name, "cache"),
               "TOMODACHI_LOG_LEVEL": "debug"}
        service = ServiceProcess(self.source, env=env, args=("-c", self.config))
        self.addCleanup(lambda: self.assertEqual(service.stop(), 0, service.output()))
        port = service.port(timeout=300)
        reply = request(port, get("/hello/world"))
        self.assertEqual(reply.status, 200, service.output())
        self.assertTrue(reply.body.startswith(b"hello, world! ("), reply.body)
        self.assertIn(b"Clang", reply.body)  # __VERSION__ of the compiler that built the handler
        self.assertEqual(reply.header("X-Compiled-By"), "clang")
        reply = request(port, get("/json"))
        self.assertEqual(reply.status, 200)
        self.assertEqual(json.loads(reply.body)["a"], 1)
        reply = request(port, get("/missing"))
        self.assertEqual(reply.status, 404, service.output())
        # The precompiled header was built by that compiler, for that compiler.
        build = service.find(lambda r: r.get("message") == "compiled precompiled header")
        self.assertEqual(len(build), 1, service.output())

    def test_clang_15(self):
        self.run_with("clang++-15")

    def test_clang_16(self):
        self.run_with("clang++-16")

    def test_a_missing_compiler_is_named(self):
        r = subprocess.run([BIN, "build", self.source, "-o", os.path.join(self.work.name, "x.so")],
                           capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, NO_COLOR="1", TOMODACHI_CXX="no-such-clang++",
                                    TOMODACHI_CACHE_DIR=os.path.join(self.work.name, "cache-missing")))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("cannot execute the compiler 'no-such-clang++'", r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
