#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for SECONDS.
#
#   tests/fuzz/run.sh [SECONDS]          (default 60)
#
# Environment:
#   FUZZ_TARGETS  which targets to run (default "bin json wsapi wsframe")
#   FUZZ_JOBS     ninja parallelism (default 1)
#   FUZZ_ARGS     extra libFuzzer flags, e.g. "-max_len=4096 -jobs=2"
#
# Layout under build/fuzz: seeds/<codec> (regenerated from tests/golden on
# every run), corpus/<codec> (grows across runs, delete it to start over),
# artifacts/ (crash-*, leak-*, timeout-* reproducers). Exits non-zero if any
# target found a crash, leak, timeout or sanitizer report.
set -euo pipefail

seconds=${1:-60}
root=$(cd "$(dirname "$0")/../.." && pwd)
build="$root/build/fuzz"
targets=${FUZZ_TARGETS:-bin json wsapi wsframe}

cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_CXX_FLAGS="-O1 -g" \
  -DBROKER_FUZZ=ON -DBROKER_ENABLE_PYTHON=OFF -DBUILD_TESTING=OFF \
  -DBROKER_WERROR=ON >/dev/null
build_list=()
for t in $targets; do build_list+=("fuzz_${t}_decoder"); done
ninja -j"${FUZZ_JOBS:-1}" -C "$build" "${build_list[@]}"

python3 "$root/tests/fuzz/make_seeds.py" "$build/seeds"
mkdir -p "$build/artifacts"

status=0
for t in $targets; do
  exe="$build/tests/fuzz/fuzz_${t}_decoder"
  corpus="$build/corpus/$t"
  mkdir -p "$corpus"
  extra=()
  if [[ -f "$root/tests/fuzz/$t.dict" ]]; then
    extra+=("-dict=$root/tests/fuzz/$t.dict")
  fi
  echo "== fuzz_${t}_decoder for ${seconds}s"
  # shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
  if ! "$exe" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=5 \
      -print_final_stats=1 -artifact_prefix="$build/artifacts/${t}-" \
      "${extra[@]}" ${FUZZ_ARGS:-} "$corpus" "$build/seeds/$t" \
      2>"$build/fuzz_${t}.log"; then
    status=1
    echo "!! fuzz_${t}_decoder failed; log: $build/fuzz_${t}.log"
    grep -E "ERROR|fuzz check failed|SUMMARY|Test unit written" \
      "$build/fuzz_${t}.log" | head -20 || true
  else
    grep -E "^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb)" \
      "$build/fuzz_${t}.log" || true
  fi
done
exit $status
