#!/usr/bin/env bash
# scripts/fuzz_smoke.sh — build the libFuzzer targets (the `fuzz` preset:
# clang-14, ASan + UBSan) and run each for a bounded time from a copy of its
# seed corpus, with the shared dictionary. Fails on any crash, leak,
# timeout or out-of-memory; prints exec/s per target. Always stops by itself.
#
# Environment:
#   FUZZ_SECONDS   run time per target (default 30)
#   FUZZ_TARGETS   space-separated target names (default: every fuzz_* built)
#   FUZZ_JOBS      targets run at once (default 1)
#   FUZZ_TIMEOUT   per-input timeout in seconds (default 10)
#   FUZZ_RSS_MB    memory limit per target (default 2048)
#   FUZZ_OUT       keep corpora, logs and crash files here (default: a
#                  temporary directory, removed when everything passed)
#   FUZZ_NO_BUILD  set to 1 to use the existing build/fuzz
#   FUZZ_MORE_SEEDS  another run's FUZZ_OUT (or any root of <target>/
#                  directories) whose inputs are copied in with the seeds
#   JOBS           build parallelism (default 2)
# Limits: the seed corpus is only read; inputs found during the run stay in
# $FUZZ_OUT/<target>/corpus (merge them into corpus/<target> by hand, with
# -merge=1, if they add coverage).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

seconds=${FUZZ_SECONDS:-30}
jobs=${FUZZ_JOBS:-1}
timeout_s=${FUZZ_TIMEOUT:-10}
rss=${FUZZ_RSS_MB:-2048}
bin=build/fuzz/fuzz

if [ "${FUZZ_NO_BUILD:-0}" != 1 ]; then
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz --target fuzz_all -j "${JOBS:-2}"
fi

if [ -n "${FUZZ_TARGETS:-}" ]; then
  read -r -a targets <<<"$FUZZ_TARGETS"
else
  targets=()
  for f in "$bin"/fuzz_*; do
    [ -x "$f" ] && [ -f "$f" ] && targets+=("${f##*/fuzz_}")
  done
fi
[ "${#targets[@]}" -gt 0 ] || { echo "fuzz_smoke: no fuzz targets in $bin" >&2; exit 2; }

keep=1
out=${FUZZ_OUT:-}
if [ -z "$out" ]; then
  out=$(mktemp -d "${TMPDIR:-/tmp}/smtpkit-fuzz.XXXXXX")
  keep=0
fi
mkdir -p "$out"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

# One target: its own corpus copy, bounded by libFuzzer and by a hard stop.
run_one() {
  local t=$1 dir="$out/$1"
  rm -rf "$dir"
  mkdir -p "$dir/corpus" "$dir/crashes"
  if [ -d "corpus/$t" ]; then cp -R "corpus/$t/." "$dir/corpus/"; fi
  local more=${FUZZ_MORE_SEEDS:-}
  if [ -n "$more" ] && [ -d "$more/$t/corpus" ]; then cp -R "$more/$t/corpus/." "$dir/corpus/"
  elif [ -n "$more" ] && [ -d "$more/$t" ]; then cp -R "$more/$t/." "$dir/corpus/"; fi
  local rc=0
  # CPU seconds as well as wall time: on a busy machine exec/s per CPU
  # second is the figure that compares.
  local TIMEFORMAT='%U %S'
  { time timeout --kill-after=10 $((seconds + 60)) \
      "$root/$bin/fuzz_$t" "$dir/corpus" \
      -max_total_time="$seconds" -timeout="$timeout_s" -rss_limit_mb="$rss" \
      -dict="$root/fuzz/smtp.dict" -max_len=4096 -print_final_stats=1 \
      -artifact_prefix="$dir/crashes/" >"$dir/log.txt" 2>&1 || rc=$?; } 2>"$dir/cpu"
  echo "$rc" >"$dir/rc"
}

running=0
for t in "${targets[@]}"; do
  [ -x "$bin/fuzz_$t" ] || { echo "fuzz_smoke: no target fuzz_$t" >&2; exit 2; }
  echo "fuzz_smoke: $t for ${seconds}s"
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait || true

failed=0
printf '\n%-14s %12s %10s %12s  %s\n' target runs exec/s exec/cpu-s result
for t in "${targets[@]}"; do
  dir="$out/$t"
  rc=$(cat "$dir/rc" 2>/dev/null || echo 1)
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log.txt" | tail -1 || true)
  rate=$(grep -o 'exec/s: [0-9]*' "$dir/log.txt" | tail -1 | awk '{print $2}' || true)
  cpu=$(awk '{ s = $1 + $2; if (s > 0) printf "%d", RUNS / s }' RUNS="${runs:-0}" "$dir/cpu" 2>/dev/null || true)
  result=ok
  if [ "$rc" != 0 ] || [ -n "$(ls -A "$dir/crashes")" ]; then
    result="FAILED (exit $rc; see $dir/log.txt, $dir/crashes/)"
    failed=1
  fi
  printf '%-14s %12s %10s %12s  %s\n' "$t" "${runs:-?}" "${rate:-?}" "${cpu:-?}" "$result"
done

if [ "$failed" = 0 ] && [ "$keep" = 0 ]; then rm -rf "$out"; else echo "fuzz_smoke: output in $out"; fi
exit "$failed"
