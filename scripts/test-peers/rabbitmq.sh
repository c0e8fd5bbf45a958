#!/usr/bin/env bash
# A throw-away RabbitMQ for the test suite, isolated from anything on the machine:
# own node name, AMQP/distribution/epmd ports, data folder and Erlang cookie, all
# under <dir>/rabbitmq. Every rabbitmqctl call passes -n.
#   rabbitmq.sh start <dir>   start, wait until it accepts AMQP, write <dir>/rabbitmq/env
#   rabbitmq.sh stop <dir>    stop it and remove its data
#   rabbitmq.sh ctl <dir> ... run rabbitmqctl against it
#   rabbitmq.sh restart <dir> [seconds-down]
#                             stop the node (all connections die), keep it down for the
#                             given seconds, start it again identically (same ports, data)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/common.sh"
command=${1:?usage: rabbitmq.sh start|stop|restart|ctl <dir>}
root=${2:?usage: rabbitmq.sh start|stop|restart|ctl <dir>}/rabbitmq
bin=/usr/lib/rabbitmq/bin

load_env() {
  [[ -f "$root/env" ]] || { echo "rabbitmq.sh: no broker started in $root" >&2; exit 1; }
  set -a; source "$root/env"; set +a
  export HOME="$root/home" ERL_EPMD_PORT="$TOMODACHI_TEST_EPMD_PORT" RABBITMQ_NODENAME="$TOMODACHI_TEST_AMQP_NODE"
}

ctl() { "$bin/rabbitmqctl" -n "$TOMODACHI_TEST_AMQP_NODE" "$@"; }

# Starts the server in the background (environment already exported) and waits until it
# accepts AMQP connections.
launch_and_wait() {
  "$bin/rabbitmq-server" >>"$root/log/startup.log" 2>&1 &
  echo $! >"$root/server.pid"
  local started=""
  for _ in $(seq 1 120); do
    if ctl await_startup --timeout 60 >/dev/null 2>&1 && wait_for_port "$TOMODACHI_TEST_AMQP_PORT" 5; then started=1; break; fi
    kill -0 "$(cat "$root/server.pid")" 2>/dev/null || break
    sleep 0.5
  done
  if [[ -z "$started" ]]; then
    echo "rabbitmq.sh: RabbitMQ did not start; see $root/log" >&2
    tail -n 30 "$root/log/startup.log" >&2 || true
    return 1
  fi
}

# Stops the node and waits until its server process is gone.
stop_node() {
  ctl stop >/dev/null 2>&1 || true
  if [[ -f "$root/server.pid" ]]; then
    local pid
    pid=$(cat "$root/server.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  fi
}

case "$command" in
start)
  # The node is named <name>@localhost; Erlang's distribution needs that name to resolve.
  if ! getent hosts localhost >/dev/null; then
    echo "rabbitmq.sh: 'localhost' does not resolve on this machine (RabbitMQ's node name needs it);" \
      "add '127.0.0.1 localhost' to /etc/hosts" >&2
    exit 1
  fi
  if [[ -f "$root/env" ]]; then "$0" stop "$(dirname "$root")" || true; fi
  # Ports are picked free, then bound by the server a moment later: another process may
  # take one in between (parallel test runs). Such a start fails fast; try other ports.
  for attempt in 1 2 3; do
    rm -rf "$root"; mkdir -p "$root"/{mnesia,log,home}
    amqp_port=$(free_port); dist_port=$(free_port); epmd_port=$(free_port)
    node="tomodachi-test-$amqp_port@localhost"
    printf '[].\n' >"$root/enabled_plugins"
    : >"$root/rabbitmq-env.conf"  # not the machine's /etc/rabbitmq/rabbitmq-env.conf
    cat >"$root/rabbitmq.conf" <<CONF
listeners.tcp.1 = 127.0.0.1:$amqp_port
loopback_users = none
log.console = false
log.file.level = warning
CONF
    cat >"$root/env" <<ENV
TOMODACHI_TEST_AMQP_HOST=127.0.0.1
TOMODACHI_TEST_AMQP_PORT=$amqp_port
TOMODACHI_TEST_AMQP_NODE=$node
TOMODACHI_TEST_EPMD_PORT=$epmd_port
TOMODACHI_TEST_RABBITMQ_DIR=$root
ENV
    load_env
    export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$amqp_port RABBITMQ_DIST_PORT=$dist_port \
      RABBITMQ_CONFIG_FILE="$root/rabbitmq.conf" RABBITMQ_ENABLED_PLUGINS_FILE="$root/enabled_plugins" \
      RABBITMQ_MNESIA_BASE="$root/mnesia" RABBITMQ_LOG_BASE="$root/log" RABBITMQ_PID_FILE="$root/pid" \
      RABBITMQ_ADVANCED_CONFIG_FILE="$root/advanced.config" RABBITMQ_USE_LONGNAME=false \
      RABBITMQ_CONF_ENV_FILE="$root/rabbitmq-env.conf"
    # Remember how the node was started, so a fault test can restart it identically.
    env | grep -E '^(RABBITMQ_|ERL_EPMD_PORT|HOME=)' | sed 's/^/export /' >"$root/server-env"
    if launch_and_wait; then break; fi
    stop_node
    ERL_EPMD_PORT=$epmd_port epmd -kill >/dev/null 2>&1 || true
    if ((attempt == 3)); then exit 1; fi
    echo "rabbitmq.sh: start attempt $attempt failed; trying again with other ports" >&2
  done
  echo "rabbitmq: node $node on 127.0.0.1:$amqp_port (data in $root)"
  ;;
stop)
  [[ -f "$root/env" ]] || exit 0
  load_env
  stop_node
  # The epmd of this node runs on our own port; nothing else uses it.
  pkill -f "epmd.*-port $TOMODACHI_TEST_EPMD_PORT" 2>/dev/null || true
  ERL_EPMD_PORT=$TOMODACHI_TEST_EPMD_PORT epmd -kill >/dev/null 2>&1 || true
  rm -rf "$root"
  echo "rabbitmq: stopped $TOMODACHI_TEST_AMQP_NODE"
  ;;
restart)
  load_env
  stop_node
  sleep "${3:-0}"
  # shellcheck disable=SC1091
  source "$root/server-env"
  launch_and_wait || exit 1
  echo "rabbitmq: restarted $TOMODACHI_TEST_AMQP_NODE"
  ;;
ctl)
  load_env
  shift 2
  ctl "$@"
  ;;
*) echo "usage: rabbitmq.sh start|stop|restart|ctl <dir>" >&2; exit 2 ;;
esac
