#!/usr/bin/env bash
# scripts/setup.sh — install everything smtpkit's build and tests need on
# Debian 12. Idempotent and non-interactive: when every package is present
# it does nothing; otherwise it runs apt-get update, then apt-get install.
#
# Also unpacks Postfix's smtp-sink/smtp-source into .deps/postfix without
# installing the MTA (postfix conflicts with exim4, which the tests use);
# no MTA is ever started on port 25.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  # build
  cmake ninja-build g++ pkg-config
  clang-14 libclang-rt-14-dev llvm-14
  libboost-dev libssl-dev libfmt-dev libcli11-dev nlohmann-json3-dev libre2-dev libyaml-cpp-dev
  libgmime-3.0-dev  # the web view reads MIME parts with GMime
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  # tests: the Python driver and real SMTP peers
  python3 python3-pytest python3-aiosmtpd python3-pip python3-venv python3-setuptools
  exim4-daemon-light swaks libnet-ssleay-perl msmtp curl s-nail openssl ca-certificates strace
  libxml2-utils python3-jsonschema chromium
  # benchmarks
  hyperfine
)

SUDO="env"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "setup: not root and no sudo; install these packages: ${PACKAGES[*]}" >&2
    exit 2
  fi
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  # Keep package scripts from starting daemons (exim would take port 25).
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
    created_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [ "$created_policy" = 1 ]; then $SUDO rm -f "$policy"; fi
fi

# Postfix's test tools, unpacked from the package (never installed as an MTA).
if [ ! -x .deps/postfix/usr/sbin/smtp-sink ]; then
  mkdir -p .deps/postfix-deb
  ( cd .deps/postfix-deb && rm -f postfix_*.deb && apt-get download postfix >/dev/null 2>&1 )
  dpkg-deb -x .deps/postfix-deb/postfix_*.deb .deps/postfix
fi
# Mailpit's own npm client, to test `smtpkit serve --http` with it unchanged
# (scripts/tests/test_serve_mailpit_client.py), and Nodemailer, a client of
# the client matrix (scripts/tests/test_probe_client_matrix.py); each test
# skips without its package.
if command -v npm >/dev/null && { [ ! -d .deps/npm/node_modules/mailpit-api ] || [ ! -d .deps/npm/node_modules/nodemailer ]; }; then
  mkdir -p .deps/npm
  npm install --prefix .deps/npm --no-audit --no-fund --silent mailpit-api@2.1.0 nodemailer@10.6.1 >/dev/null || echo "setup: npm could not install mailpit-api and nodemailer (their tests will skip)"
fi
echo "setup: ok"
