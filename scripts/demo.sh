#!/usr/bin/env bash
# scripts/demo.sh — the main job on its built-in default: install what is
# needed, build, start the built-in SMTP server (`smtpkit serve` on
# 127.0.0.1, port 0, mail discarded), probe it with the server suite
# (`smtpkit probe server`, conformance/server/: RFC 5321 and its
# extensions, STARTTLS injection, SMTP smuggling) and print the report;
# then check the bundled corpus of recorded dialogues (RFC 5321 Appendix D
# and sessions recorded from real clients and servers).
#
# Extra arguments go to the probe (e.g. --format json, --only security).
# Exit status: the probe's (0: no MUST-level failure). Bounded: the server
# must say where it listens within 10 s and is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${SMTPKIT_SKIP_SETUP:-0}" = 1 ] || ./scripts/setup.sh
cmake --preset default >/dev/null
cmake --build --preset default --target smtpkit
bin=./build/default/cli/smtpkit

work=$(mktemp -d "${TMPDIR:-/tmp}/smtpkit-demo-XXXXXX")
server=""
cleanup() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
    kill "$server" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$server" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# The built-in server: a self-signed certificate for STARTTLS, one user for
# AUTH, messages accepted and forgotten.
"$bin" serve --listen 127.0.0.1:0 --discard --hostname mx.smtpkit.test \
  --user demo:demo-password 2>"$work/serve.log" &
server=$!
port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$work/serve.log" | head -n 1)
  [ -n "$port" ] && break
  kill -0 "$server" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$port" ]; then
  echo "demo: smtpkit serve did not start:" >&2
  cat "$work/serve.log" >&2
  exit 2
fi

status=0
"$bin" probe server "127.0.0.1:$port" --insecure --auth demo:demo-password "$@" || status=$?

echo
echo "== The corpus of recorded dialogues: smtpkit check corpus/dialogues"
echo "   (real sessions: the findings are real — Exim 4.96 advertises the unregistered"
echo "   PIPECONNECT keyword, and one curl recording sends bare LF in its mail data)"
"$bin" check corpus/dialogues || true
exit "$status"
