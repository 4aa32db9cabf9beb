#!/usr/bin/env bash
# Installs what the test suite needs on a Debian 12 machine: C toolchains for the five compile
# variants of tests/c, and the real Debian programs the suite runs under Veil.
set -euo pipefail
packages=(gcc libc6-dev make musl-tools busybox-static sqlite3 lua5.4 python3)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi
