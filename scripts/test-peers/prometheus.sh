#!/usr/bin/env bash
# A throw-away Prometheus (Debian's `prometheus`, 2.42) for the test suite, isolated from
# anything on the machine: its own loopback port, config, TSDB and log under
# <dir>/prometheus; never the system daemon (/etc/prometheus, /var/lib/prometheus unused).
# It scrapes every second whatever targets the tests write as file_sd files into
# <dir>/prometheus/targets/*.json (re-read every second), with honor_labels, so the
# services' own job/instance labels are kept. Exemplar storage is on.
#   prometheus.sh start <dir>   start, wait until /-/ready answers, write <dir>/prometheus/env
#   prometheus.sh stop <dir>    stop it and remove its data
#   prometheus.sh target <dir> <name> <host:port>...
#                               write targets/<name>.json (scraped from the next second)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
command=${1:?usage: prometheus.sh start|stop|target <dir>}
root=${2:?usage: prometheus.sh start|stop|target <dir>}/prometheus

ready() {  # ready <port>
  python3 - "$1" <<'PY'
import sys, urllib.request
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/-/ready", timeout=2) as r:
        sys.exit(0 if r.status == 200 else 1)
except Exception:
    sys.exit(1)
PY
}

stop_server() {
  [[ -f "$root/server.pid" ]] || return 0
  local pid
  pid=$(cat "$root/server.pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$root/server.pid"
}

case "$command" in
start)
  command -v prometheus >/dev/null || { echo "prometheus.sh: 'prometheus' is not installed (scripts/install-deps.sh test)" >&2; exit 1; }
  if [[ -f "$root/env" ]]; then "$0" stop "$(dirname "$root")" || true; fi
  # The port is picked free, then bound by the server a moment later: another process may
  # take it in between (parallel test runs). Such a start fails fast; try another port.
  for attempt in 1 2 3; do
    rm -rf "$root"; mkdir -p "$root"/{tsdb,targets}
    port=$(free_port)
    cat >"$root/prometheus.yml" <<CONF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: tomodachi-test
    honor_labels: true
    file_sd_configs:
      - files: ['$root/targets/*.json']
        refresh_interval: 1s
CONF
    prometheus --config.file="$root/prometheus.yml" --storage.tsdb.path="$root/tsdb" \
      --web.listen-address="127.0.0.1:$port" --web.enable-lifecycle \
      --enable-feature=exemplar-storage --log.level=warn >>"$root/prometheus.log" 2>&1 &
    echo $! >"$root/server.pid"
    started=""
    for _ in $(seq 1 150); do
      if ready "$port"; then started=1; break; fi
      kill -0 "$(cat "$root/server.pid")" 2>/dev/null || break
      sleep 0.2
    done
    if [[ -n "$started" ]]; then break; fi
    stop_server
    if ((attempt == 3)); then
      echo "prometheus.sh: Prometheus did not start; see $root/prometheus.log" >&2
      tail -n 30 "$root/prometheus.log" >&2 || true
      exit 1
    fi
    echo "prometheus.sh: start attempt $attempt failed; trying again with another port" >&2
  done
  cat >"$root/env" <<ENV
TOMODACHI_TEST_PROMETHEUS_URL=http://127.0.0.1:$port
TOMODACHI_TEST_PROMETHEUS_PORT=$port
TOMODACHI_TEST_PROMETHEUS_TARGETS_DIR=$root/targets
TOMODACHI_TEST_PROMETHEUS_DIR=$root
ENV
  echo "prometheus: 127.0.0.1:$port (data in $root)"
  ;;
stop)
  [[ -d "$root" ]] || exit 0
  stop_server
  rm -rf "$root"
  echo "prometheus: stopped"
  ;;
target)
  [[ -f "$root/env" ]] || { echo "prometheus.sh: no Prometheus started in $root" >&2; exit 1; }
  name=${3:?usage: prometheus.sh target <dir> <name> <host:port>...}
  shift 3
  targets=$(printf '"%s",' "$@")
  printf '[{"targets": [%s]}]\n' "${targets%,}" >"$root/targets/.$name.tmp"
  mv "$root/targets/.$name.tmp" "$root/targets/$name.json"  # atomic for the file watcher
  ;;
*) echo "usage: prometheus.sh start|stop|target <dir>" >&2; exit 2 ;;
esac
