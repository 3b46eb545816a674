#!/usr/bin/env bash
# scripts/fuzz_coverage.sh — line coverage of the grammar library (parser/)
# reached by the fuzz corpora: builds every fuzz target with clang-14 source
# coverage (-fprofile-instr-generate -fcoverage-mapping) and its replay main,
# runs each over corpus/<target>/ and any extra corpus roots given, merges
# the profiles (llvm-profdata-14) and reports parser/ (llvm-cov-14).
#
# Usage: scripts/fuzz_coverage.sh [ROOT...]
#   ROOT holds <target>/ or <target>/corpus/ directories, e.g. the FUZZ_OUT
#   of a scripts/fuzz_smoke.sh run, so what a long run found can be measured
#   before it is merged into corpus/.
# Environment: COVERAGE_BUILD (default build/fuzzcov), JOBS (default 2),
#   COVERAGE_HTML=1 also writes an HTML report to $COVERAGE_BUILD/html,
#   COVERAGE_SOURCES="conformance/src mockserver/script/src/script.cpp" reports
#   other sources instead (the check and script targets reach them).
# Output: the per-file table and a last line "parser line coverage: NN.NN%"
#   ("line coverage of SOURCES: NN.NN%" with COVERAGE_SOURCES).
# Limits: counts lines of parser/src and parser/include (headers included,
# since the DATA decoder lives in one); code that only other layers call is
# not reached by design.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${COVERAGE_BUILD:-build/fuzzcov}
flags="-fprofile-instr-generate -fcoverage-mapping"

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fprofile-instr-generate" \
  -DSMTPKIT_FUZZ=OFF -DSMTPKIT_TESTS=OFF -DSMTPKIT_BENCH=OFF >/dev/null
cmake --build "$build" --target fuzz_all -j "${JOBS:-2}" >/dev/null

prof="$build/profiles"
rm -rf "$prof"
mkdir -p "$prof"
objects=()
for exe in "$build"/fuzz/fuzz_*; do
  [ -x "$exe" ] && [ -f "$exe" ] || continue
  name=${exe##*/fuzz_}
  dirs=()
  [ -d "corpus/$name" ] && dirs+=("corpus/$name")
  for root in "$@"; do
    if [ -d "$root/$name/corpus" ]; then dirs+=("$root/$name/corpus")
    elif [ -d "$root/$name" ]; then dirs+=("$root/$name"); fi
  done
  [ "${#dirs[@]}" -gt 0 ] || continue
  LLVM_PROFILE_FILE="$prof/$name.profraw" "$exe" "${dirs[@]}"
  if [ "${#objects[@]}" -eq 0 ]; then objects+=("$exe"); else objects+=(-object "$exe"); fi
done

llvm-profdata-14 merge -sparse "$prof"/*.profraw -o "$prof/all.profdata"
read -r -a sources <<<"${COVERAGE_SOURCES:-parser/src parser/include}"
llvm-cov-14 report -instr-profile="$prof/all.profdata" "${objects[@]}" "${sources[@]}" | tee "$prof/report.txt"
if [ "${COVERAGE_HTML:-0}" = 1 ]; then
  llvm-cov-14 show -format=html -output-dir="$build/html" -instr-profile="$prof/all.profdata" \
    "${objects[@]}" "${sources[@]}" >/dev/null
  echo "fuzz_coverage: HTML report in $build/html/index.html"
fi
# TOTAL row: ... Lines Missed Cover ... — the line columns are the 8th-10th.
label="parser line coverage:"
[ -z "${COVERAGE_SOURCES:-}" ] || label="line coverage of ${COVERAGE_SOURCES}:"
awk -v label="$label" '/^TOTAL/ { printf "%s %s\n", label, $10 }' "$prof/report.txt"
