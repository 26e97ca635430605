#!/usr/bin/env bash
# Install everything keygate needs to build, test and benchmark on Debian 12.
# Idempotent; run as root (CI and the quick start do).
set -euo pipefail

pkgs=(
	# build
	build-essential cmake pkg-config clang clang-format
	# libFuzzer's runtime (tests/fuzz, ci/fuzz.sh)
	libclang-rt-14-dev
	libssl-dev libp11-kit-dev libjansson-dev libcmocka-dev
	# tokens: SoftHSM2, the p11-kit tool/server, libp11 and its engine
	softhsm2 p11-kit p11-kit-modules libp11-dev libengine-pkcs11-openssl
	# the real clients the tests drive
	openssl opensc gnutls-bin curl nodejs jq bc
	# benchmarks
	hyperfine time
)
# the module matrix (tests/integration/t_matrix.sh, ci/modules/): NSS,
# opencryptoki, tpm2-pkcs11 on swtpm, p11-kit server
while read -r p; do
	case $p in '' | '#'*) ;; *) pkgs+=("$p") ;; esac
done <"$(dirname "$0")/modules/packages.txt"

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
	echo "install-deps: all ${#pkgs[@]} packages present"
	exit 0
fi
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
