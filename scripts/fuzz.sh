#!/usr/bin/env bash
# `make fuzz`: builds the libFuzzer targets of tests/fuzz/ with clang-14 in build-fuzz/
# and runs each for FUZZ_SECONDS (default 60) with a 2 GB RSS limit. New inputs go to
# build-fuzz/corpus/<target>/ (the checked-in corpus tests/fuzz/corpus/<target>/ is read,
# not written); crashes, ASan and UBSan findings go to build-fuzz/artifacts/<target>/ and
# fail the run.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-60}"
# UBSan findings are fatal (the build also has -fno-sanitize-recover=all) and show a stack.
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
cmake -S tests/fuzz/clang -B build-fuzz -G Ninja \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j2

status=0
for binary in build-fuzz/fuzz_*; do
  [[ -x "$binary" && -f "$binary" ]] || continue
  target="${binary#build-fuzz/fuzz_}"
  work="build-fuzz/corpus/$target"
  artifacts="build-fuzz/artifacts/$target/"
  mkdir -p "$work" "$artifacts"
  seeds=()
  [[ -d "tests/fuzz/corpus/$target" ]] && seeds+=("tests/fuzz/corpus/$target")
  echo "fuzz: $target for ${seconds}s"
  if ! "$binary" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=30 -print_final_stats=1 \
       -artifact_prefix="$artifacts" "$work" "${seeds[@]}"; then
    echo "fuzz: $target FAILED, reproducer in $artifacts" >&2
    status=1
  fi
done
exit $status
