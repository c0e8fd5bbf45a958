#!/usr/bin/env bash
# fauxqs@1.9.2 (SNS/SQS emulator, pinned by tests/peers/package-lock.json) on its own
# loopback port for the test suite. Every request is logged to <dir>/fauxqs/requests.log
# (one JSON line each), which the AWS benchmark counts.
#   fauxqs.sh start <dir>   install (npm ci, cached), start, write <dir>/fauxqs/env
#   fauxqs.sh stop <dir>
#   fauxqs.sh restart <dir> [seconds-down]
#                           stop, stay down for the given seconds, start again on the same
#                           port (fault tests; fauxqs is in-memory: queues and topics are gone)
#   fauxqs.sh down <dir> / fauxqs.sh up <dir>
#                           the same in two steps: stop (keeping the env), start on the same port
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
command=${1:?usage: fauxqs.sh start|stop|restart|down|up <dir>}
root=${2:?usage: fauxqs.sh start|stop|restart|down|up <dir>}/fauxqs
lock_source="$here/../../tests/peers"

install() {
  local npm_dir="$root/../npm"
  if ! cmp -s "$lock_source/package-lock.json" "$npm_dir/package-lock.json" 2>/dev/null ||
     [[ ! -f "$npm_dir/node_modules/fauxqs/dist/cli.js" ]]; then
    mkdir -p "$npm_dir"
    cp "$lock_source/package.json" "$lock_source/package-lock.json" "$npm_dir/"
    (cd "$npm_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>"$npm_dir/npm.log") || {
      echo "fauxqs.sh: npm ci failed:" >&2; cat "$npm_dir/npm.log" >&2; exit 1; }
  fi
  echo "$npm_dir/node_modules/fauxqs/dist/cli.js"
}

launch() {  # launch <port>
  local cli; cli=$(install)
  FAUXQS_PORT=$1 FAUXQS_HOST=127.0.0.1 FAUXQS_DEFAULT_REGION=eu-west-1 FAUXQS_LOGGER=true \
    node --import "$here/fauxqs-loopback.mjs" "$cli" >>"$root/requests.log" 2>>"$root/stderr.log" &
  echo $! >"$root/pid"
  if ! wait_for_port "$1" 60; then
    echo "fauxqs.sh: fauxqs did not start on port $1" >&2; cat "$root/stderr.log" >&2; exit 1
  fi
}

stop_process() {
  [[ -f "$root/pid" ]] || return 0
  local pid; pid=$(cat "$root/pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$root/pid"
}

case "$command" in
start)
  command -v node >/dev/null || { echo "fauxqs.sh: Node.js >= 20 is required (node not found)" >&2; exit 1; }
  if [[ -f "$root/pid" ]]; then stop_process; fi
  rm -rf "$root"; mkdir -p "$root"
  port=$(free_port)
  cat >"$root/env" <<ENV
TOMODACHI_TEST_AWS_ENDPOINT=http://127.0.0.1:$port
TOMODACHI_TEST_AWS_PORT=$port
TOMODACHI_TEST_AWS_REGION=eu-west-1
TOMODACHI_TEST_FAUXQS_DIR=$root
ENV
  launch "$port"
  echo "fauxqs: http://127.0.0.1:$port (log in $root)"
  ;;
restart)
  source "$root/env"
  stop_process
  sleep "${3:-0}"
  launch "$TOMODACHI_TEST_AWS_PORT"
  ;;
down)
  source "$root/env"
  stop_process
  ;;
up)
  source "$root/env"
  launch "$TOMODACHI_TEST_AWS_PORT"
  ;;
stop)
  stop_process
  rm -rf "$root"
  echo "fauxqs: stopped"
  ;;
*) echo "usage: fauxqs.sh start|stop|restart|down|up <dir>" >&2; exit 2 ;;
esac
