#!/usr/bin/env bash
# Installs the Debian 12 packages tomodachi needs (DESIGN.md §5) that are missing.
# Idempotent: does nothing when everything is present; at most one `apt-get update`.
#   scripts/install-deps.sh          build + run dependencies (make build / make run)
#   scripts/install-deps.sh test     also what the test suite and benchmarks need
#   scripts/install-deps.sh fuzz     also clang-14 and its libFuzzer runtime (make fuzz)
#   scripts/install-deps.sh image    also podman, runc and debootstrap (make image)
set -euo pipefail

build_packages=(
  g++ cmake ninja-build ccache pkg-config make
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libre2-dev librabbitmq-dev libssl-dev libpugixml-dev libhowardhinnant-date-dev
  libprotobuf-dev protobuf-compiler zlib1g-dev tzdata ca-certificates
)
test_packages=(
  clang-15  # e2e.service_compiler: services built with TOMODACHI_CXX=clang++-15
  libgtest-dev libgmock-dev libbenchmark-dev
  rabbitmq-server python3 python3-botocore wrk nginx-light openssl
  clang-14 libclang-rt-14-dev
  prometheus  # run by scripts/test-peers/prometheus.sh on its own port; the packaged daemon is never used
)

fuzz_packages=(clang-14 libclang-rt-14-dev)
image_packages=(podman runc debootstrap)

packages=("${build_packages[@]}")
case "${1:-}" in
  test) packages+=("${test_packages[@]}") ;;
  fuzz) packages+=("${fuzz_packages[@]}") ;;
  image) packages+=("${image_packages[@]}") ;;
  "") ;;
  *) echo "usage: install-deps.sh [test|fuzz|image]" >&2; exit 2 ;;
esac

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} > 0)); then
  echo "install-deps: installing ${missing[*]}"
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "install-deps: not root and no sudo; install as root: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  # Services installed by apt must not start on the machine's default ports:
  # the test suite starts its own brokers (scripts/test-peers/).
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod +x /usr/sbin/policy-rc.d
    # Removed however apt ends, so later installs on this machine start their services.
    trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [[ "${1:-}" == "test" ]]; then
  # fauxqs (SNS/SQS emulator) runs on Node.js >= 20, which Debian 12's own nodejs (18)
  # does not provide: the machine must bring it.
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "install-deps: Node.js >= 20 with npm is required for the SNS/SQS tests (fauxqs); 'node' or 'npm' is not on PATH" >&2
    exit 1
  fi
  node_major=$(node -p 'process.versions.node.split(".")[0]')
  if ((node_major < 20)); then
    echo "install-deps: Node.js >= 20 is required for fauxqs, found $(node --version)" >&2
    exit 1
  fi
fi
