#!/usr/bin/env bash
# bench/aws (scripts/bench.sh aws): SNS/SQS calls per message and drain throughput through
# fauxqs, against a reference with upstream's call pattern. Arguments go to bench_aws.py.
set -euo pipefail
cd "$(dirname "$0")/../.."
export TOMODACHI_BUILD_DIR=${TOMODACHI_BUILD_DIR:-build}
exec /usr/bin/python3 bench/aws/bench_aws.py "$@"
