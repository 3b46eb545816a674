#!/usr/bin/env bash
# scripts/test.sh — install what is needed, build, and run every test.
# Used as-is by CI (.ci/run). Set SMTPKIT_SKIP_SETUP=1 to skip apt.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${SMTPKIT_SKIP_SETUP:-0}" = 1 ] || ./scripts/setup.sh
cmake --preset default >/dev/null
cmake --build --preset default
ctest --preset default "$@"
