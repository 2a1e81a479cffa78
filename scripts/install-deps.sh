#!/usr/bin/env bash
# Installs what Switchboard needs to build and test, from Debian 12's packages only.
# Idempotent: installs nothing when everything is present. Needs root (or sudo) for apt-get.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git curl openssl
  libboost-dev libboost-filesystem-dev libpoco-dev nlohmann-json3-dev libyaml-cpp-dev
  libcurl4-openssl-dev libssl-dev libsqlite3-dev sqlite3 libphonenumber-dev libre2-dev libabsl-dev tzdata
  libgtest-dev libgmock-dev libbenchmark-dev
  postgresql libpq-dev
  kannel kannel-extras
  clang-14 libc++-14-dev libc++abi-14-dev
  dovecot-imapd dovecot-lmtpd exim4-daemon-light libgmime-3.0-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
# Keep package scripts from starting system daemons on this machine.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
