#!/usr/bin/env bash
# make bench / scripts/bench.sh amqp: the AMQP throughput benchmark (bench/amqp/run.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
exec /usr/bin/python3 bench/amqp/run.py --build "${TOMODACHI_BUILD_DIR:-build}" "$@"
