#!/usr/bin/env bash
# Build keygate. ci/build.sh [plain|asan] -> build/ or build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-plain}
case $kind in
plain) dir=build; extra=() ;;
asan) dir=build-asan; extra=(-DCMAKE_C_COMPILER=clang -DKEYGATE_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug) ;;
*) echo "usage: ci/build.sh [plain|asan]" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" "${extra[@]}" >/dev/null
cmake --build "$dir" -j "$(nproc)"
echo "build: $dir/keygate"
