#!/usr/bin/env bash
# Runs every benchmark of bench/<area>/ (make bench). Each prints its figures, the ratio
# to a reference measured in the same run and the bars of its issue.
#   scripts/bench.sh            all areas
#   scripts/bench.sh http core  selected areas
set -euo pipefail
cd "$(dirname "$0")/.."
build=${TOMODACHI_BUILD_DIR:-build}
areas=("$@")
if ((${#areas[@]} == 0)); then areas=(core messaging http schedule amqp aws); fi

run_area() {
  case "$1" in
    core) /usr/bin/python3 bench/core/startup.py ;;
    messaging) "$build/bin/bench_messaging_envelope" ;;
    http) /usr/bin/python3 bench/http/run_bench.py --duration 5 --rounds 3 --connections 50 ;;
    schedule) /usr/bin/python3 bench/schedule/run.py ;;
    amqp) [[ -x bench/amqp/run.sh ]] && bench/amqp/run.sh || echo "(no AMQP benchmark yet)" ;;
    aws) [[ -x bench/aws/run.sh ]] && bench/aws/run.sh || echo "(no AWS benchmark yet)" ;;
    *) echo "unknown benchmark area: $1" >&2; return 2 ;;
  esac
}

for area in "${areas[@]}"; do
  echo "== bench: $area"
  run_area "$area"
done
