#!/usr/bin/env python3
"""Start-up, memory and edit-to-answer of examples/http_service.cpp (issue 2 bars).

Measures, in one run:
  * VmRSS of `tomodachi run --production <cached .so>` after start and after its first request;
  * time from process start to the first answered request, with the shared object cached
    (the cache check reads the files; it never runs the preprocessor);
  * in development mode with a warm precompiled header, the time from saving a one-line
    change to examples/http_service.cpp to the new answer;
and the same start-up/RSS figures for a reference HTTP server measured in the same run
(`python3 -m http.server`, lighter than Python tomodachi) to print ratios.

Usage: bench/core/startup.py [--runs N] [--edits N]
"""

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("TOMODACHI_BUILD_DIR", os.path.join(ROOT, "build"))
TOMODACHI = os.path.join(BUILD, "bin", "tomodachi")
EXAMPLE = os.path.join(ROOT, "examples", "http_service.cpp")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def get(port, path, timeout=2.0):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=timeout) as r:
        return r.read().decode()


def first_answer(argv, port, path, env, cwd=None):
    """Starts argv, polls until `path` answers; returns (seconds, process)."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd)
    while True:
        try:
            get(port, path, timeout=0.5)
            return time.perf_counter() - started, process
        except OSError:
            if process.poll() is not None:
                raise RuntimeError("process exited: %s" % argv)
            time.sleep(0.0005)


def stop(process):
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--edits", type=int, default=5)
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="tomodachi-bench-")
    env = dict(os.environ, NO_COLOR="1", TOMODACHI_CACHE_DIR=os.path.join(work, "cache"))
    try:
        source = os.path.join(work, "http_service.cpp")
        shutil.copy(EXAMPLE, source)
        config = os.path.join(work, "config.json")

        # Warm the cache (compile once), then measure runs of the cached shared object.
        subprocess.run([TOMODACHI, "build", source, "-o", os.path.join(work, "http_service.so")], env=env,
                       check=True, stdout=subprocess.DEVNULL)
        starts, rss_start, rss_first = [], [], []
        for _ in range(args.runs):
            port = free_port()
            with open(config, "w") as f:
                f.write('{"options": {"http": {"port": %d}}}' % port)
            # Start from the .cpp: the cached production build is found without compiling.
            seconds, process = first_answer([TOMODACHI, "run", "--production", "--logger", "disabled", source,
                                             "-c", config], port, "/health", env)
            starts.append(seconds)
            time.sleep(0.2)
            rss_first.append(rss_kib(process.pid))
            stop(process)
        # RSS right after start, before any request: wait for the listener, don't connect.
        for _ in range(3):
            port = free_port()
            with open(config, "w") as f:
                f.write('{"options": {"http": {"port": %d}}}' % port)
            process = subprocess.Popen([TOMODACHI, "run", "--production", source, "-c", config],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True)
            for line in process.stderr:
                if "started service successfully" in line:
                    break
            time.sleep(0.2)
            rss_start.append(rss_kib(process.pid))
            stop(process)

        # Reference: python3 -m http.server, started and measured the same way.
        ref_starts, ref_rss = [], []
        for _ in range(args.runs):
            port = free_port()
            seconds, process = first_answer([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                                            port, "/", env, cwd=work)
            ref_starts.append(seconds)
            time.sleep(0.2)
            ref_rss.append(rss_kib(process.pid))
            stop(process)

        # Edit-to-answer in development mode (warm precompiled header).
        port = free_port()
        with open(config, "w") as f:
            f.write('{"options": {"http": {"port": %d}}}' % port)
        process = subprocess.Popen([TOMODACHI, "run", source, "-c", config], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, env=env, cwd=work)
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                get(port, "/health")
                break
            except OSError:
                time.sleep(0.05)
        edits = []
        for i in range(args.edits):
            with open(source) as f:
                text = f.read()
            answer = "Healthy %d" % i
            text = re.sub(r'Response\{200, "[^"]*"\}', 'Response{200, "%s"}' % answer, text)
            with open(source, "w") as f:
                f.write(text)
            saved = time.perf_counter()
            while True:
                try:
                    if get(port, "/health", timeout=0.5) == answer:
                        break
                except OSError:
                    pass
                if time.perf_counter() - saved > 60:
                    raise RuntimeError("no new answer within 60 s")
                time.sleep(0.005)
            edits.append(time.perf_counter() - saved)
            time.sleep(0.5)
        stop(process)
    finally:
        shutil.rmtree(work, True)

    med = statistics.median
    print("start to first answered request (cached .so, %d runs): median %.1f ms, max %.1f ms  [bar <= 100 ms]"
          % (args.runs, med(starts) * 1000, max(starts) * 1000))
    print("  reference python3 -m http.server: median %.1f ms  -> ratio %.2f"
          % (med(ref_starts) * 1000, med(starts) / med(ref_starts)))
    print("VmRSS after start: median %.1f MiB; after first request: median %.1f MiB  [bar <= 10 MiB]"
          % (med(rss_start) / 1024, med(rss_first) / 1024))
    print("  reference python3 -m http.server: %.1f MiB  -> ratio %.2f"
          % (med(ref_rss) / 1024, med(rss_first) / med(ref_rss)))
    print("edit to new answer (development mode, warm precompiled header, %d edits): median %.2f s, max %.2f s"
          "  [bar <= 5 s]" % (args.edits, med(edits), max(edits)))


if __name__ == "__main__":
    main()
