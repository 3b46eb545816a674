#!/usr/bin/env bash
# scripts/demo.sh — the main job on its built-in default: install what is
# needed, build, then check the bundled corpus of recorded SMTP dialogues
# (RFC 5321 Appendix D and sessions recorded from real clients and servers)
# and print the conformance report.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${SMTPKIT_SKIP_SETUP:-0}" = 1 ] || ./scripts/setup.sh
cmake --preset default >/dev/null
cmake --build --preset default --target smtpkit
./build/default/cli/smtpkit check corpus/dialogues "$@"
