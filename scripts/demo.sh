#!/usr/bin/env bash
# Builds Veil and runs a demo program inside a fresh instance, then a host program in dev mode.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release
veil=target/x86_64-unknown-linux-gnu/release/veil
demo=$(mktemp -d)/demo
"$veil" new "$demo"
gcc -static -O2 -o "$demo/image/bin/hello" examples/hello.c
"$veil" build -C "$demo"
echo "--- veil run -C $demo /bin/hello 7"
set +e
"$veil" run -C "$demo" /bin/hello 7
echo "(exit code $?)"
set -e
if [ -x /usr/bin/python3 ]; then
    echo "--- veil run --rootfs / /usr/bin/python3 -c 'print(6*7)'"
    "$veil" run --rootfs / /usr/bin/python3 -c 'print(6*7)'
fi
