#!/usr/bin/env bash
# scripts/gen_docs.sh — regenerate the documents made from the code:
#   docs/rules.md   the rule catalogue, from `smtpkit rules --format markdown`
# cli/test/test_check.py fails when a generated document is out of date.
# Usage: scripts/gen_docs.sh [SMTPKIT]   (default: $SMTPKIT_BIN, else build/default/cli/smtpkit)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-${SMTPKIT_BIN:-build/default/cli/smtpkit}}"
if [ ! -x "$bin" ]; then
  echo "gen_docs: no smtpkit binary at $bin (build first, or pass its path)" >&2
  exit 2
fi
tmp="$(mktemp docs/.rules.md.XXXXXX)"
trap 'rm -f "$tmp"' EXIT
"$bin" rules --format markdown >"$tmp"
mv "$tmp" docs/rules.md
trap - EXIT
echo "gen_docs: docs/rules.md ($(grep -c '^| `' docs/rules.md) rules)"
