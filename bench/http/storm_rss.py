#!/usr/bin/env python3
"""Memory after a connection storm (issue #11 item 8): the tomodachi bench service and nginx
(one worker) side by side, one after the other; each gets N idle keep-alive connections
(default 10,000) that send one request, read the answer and stay open. The resident set
(VmRSS; nginx: master + workers) is read before the storm, at its peak, and 10 s after the
connections were closed. Prints a table and the ratios to nginx. Loopback only, bounded in
connections and time; it measures, it sets no bar (exit 0 unless a server failed).

  bench/http/storm_rss.py [--connections 10000] [--settle 10] [--build build] [--service-so path]
"""

import argparse
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
REQUEST = b"GET /plaintext HTTP/1.1\r\nHost: storm\r\n\r\n"
ANSWER_END = b"Hello, World!"
NGINX_CONF = """
worker_processes 1;
worker_rlimit_nofile {nofile};
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log error;
events {{ worker_connections {worker_connections}; multi_accept on; }}
http {{
  access_log off;
  keepalive_timeout 75;
  keepalive_requests 1000000;
  server_tokens off;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    location = /plaintext {{ default_type "text/plain; charset=utf-8"; return 200 "Hello, World!"; }}
  }}
}}
"""


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_listening(port, proc, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("server on port {} exited with {}".format(port, proc.returncode))
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("server on port {} did not start".format(port))


def children(pid):
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/{}/stat".format(entry)) as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


def tree(pid):
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo.extend(children(current))
    return pids


def rss_mb(pid):
    """VmRSS of `pid` and its descendants, MiB."""
    total_kb = 0
    for member in tree(pid):
        try:
            with open("/proc/{}/status".format(member)) as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total_kb += int(line.split()[1])
        except OSError:
            pass
    return total_kb / 1024.0


def raise_nofile(needed):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard == resource.RLIM_INFINITY else max(soft, min(hard, needed))
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    if target != resource.RLIM_INFINITY and target < needed:
        raise SystemExit("RLIMIT_NOFILE hard limit {} is below the {} descriptors needed".format(hard, needed))
    return target


def storm(port, count, deadline):
    """Opens `count` keep-alive connections, one request each, all left open. Connections come
    from several loopback source addresses so the ephemeral ports of one pair never run out."""
    sockets = []
    batch = 250
    while len(sockets) < count:
        if time.monotonic() > deadline:
            raise SystemExit("storm did not finish in time ({} of {} connections)".format(len(sockets), count))
        opened = []
        for _ in range(min(batch, count - len(sockets))):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.{}".format(2 + (len(sockets) + len(opened)) % 200), 0))
            sock.settimeout(10)
            sock.connect(("127.0.0.1", port))
            sock.sendall(REQUEST)
            opened.append(sock)
        for sock in opened:
            data = b""
            while ANSWER_END not in data:
                chunk = sock.recv(4096)
                if not chunk:
                    raise SystemExit("the server closed a storm connection after {} were open".format(len(sockets)))
                data += chunk
        sockets.extend(opened)
    return sockets


def measure(name, pid, port, args):
    one = socket.create_connection(("127.0.0.1", port), timeout=5)  # warm: one request answered
    one.sendall(REQUEST)
    while ANSWER_END not in one.recv(4096):
        pass
    one.close()
    time.sleep(1.0)
    before = rss_mb(pid)
    started = time.monotonic()
    sockets = storm(port, args.connections, started + args.timeout)
    opened_in = time.monotonic() - started
    time.sleep(1.0)  # let the server settle with every connection idle
    peak = 0.0
    for _ in range(3):
        peak = max(peak, rss_mb(pid))
        time.sleep(0.2)
    for sock in sockets:
        sock.close()
    time.sleep(args.settle)
    after = rss_mb(pid)
    print("  {}: {} connections opened in {:.1f} s".format(name, len(sockets), opened_in), flush=True)
    return before, peak, after


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=10000)
    parser.add_argument("--settle", type=float, default=10.0, help="seconds after the close before the last reading")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds at most to open the connections")
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--service-so", help="a built bench_service.so (default: tomodachi build it)")
    args = parser.parse_args()
    if args.connections < 1 or args.connections > 15000:
        raise SystemExit("--connections must be in 1..15000")
    nofile = raise_nofile(args.connections + 512)  # inherited by both servers

    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(nginx):
        raise SystemExit("nginx is not installed (scripts/install-deps.sh test)")
    tomodachi = os.path.join(args.build, "bin", "tomodachi")
    work = tempfile.mkdtemp(prefix="tomodachi-storm-rss-")
    results = {}
    try:
        service_so = args.service_so
        if not service_so:
            service_so = os.path.join(work, "bench_service.so")
            subprocess.run([tomodachi, "build", os.path.join(ROOT, "bench", "http", "bench_service.cpp"), "-o",
                            service_so], check=True, stdout=subprocess.DEVNULL)
        # tomodachi
        port = free_port()
        env = dict(os.environ, BENCH_PORT=str(port), BENCH_KEEPALIVE="75")
        service = subprocess.Popen([tomodachi, "run", "--production", "--logger", "disabled", service_so], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_listening(port, service)
            results["tomodachi"] = measure("tomodachi", service.pid, port, args)
        finally:
            service.send_signal(signal.SIGTERM)
            service.wait(60)
        # nginx
        nginx_port = free_port()
        nginx_dir = os.path.join(work, "nginx")
        os.makedirs(nginx_dir)
        with open(os.path.join(nginx_dir, "nginx.conf"), "w") as conf:
            conf.write(NGINX_CONF.format(dir=nginx_dir, port=nginx_port, nofile=nofile,
                                         worker_connections=args.connections + 256))
        nginx_proc = subprocess.Popen([nginx, "-p", nginx_dir, "-c", os.path.join(nginx_dir, "nginx.conf")],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_listening(nginx_port, nginx_proc)
            results["nginx"] = measure("nginx (master + worker)", nginx_proc.pid, nginx_port, args)
        finally:
            nginx_proc.send_signal(signal.SIGQUIT)
            nginx_proc.wait(60)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print("RSS after a storm of {} idle keep-alive connections (one request each), {} s after they closed".format(
        args.connections, args.settle))
    print("{:<12} {:>10} {:>10} {:>12} {:>12} {:>14}".format("server", "before MB", "peak MB", "after MB",
                                                          "peak-before", "after-before"))
    for name, (before, peak, after) in results.items():
        print("{:<12} {:>10.1f} {:>10.1f} {:>12.1f} {:>12.1f} {:>14.1f}".format(name, before, peak, after,
                                                                             peak - before, after - before))
    ours, theirs = results["tomodachi"], results["nginx"]
    print("ratios tomodachi/nginx: before {:.2f}, peak {:.2f}, after {:.2f}; tomodachi kept {:.0f} % of its "
          "growth after the close (nginx {:.0f} %)".format(
              ours[0] / theirs[0], ours[1] / theirs[1], ours[2] / theirs[2],
              100.0 * (ours[2] - ours[0]) / max(ours[1] - ours[0], 0.001),
              100.0 * (theirs[2] - theirs[0]) / max(theirs[1] - theirs[0], 0.001)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
