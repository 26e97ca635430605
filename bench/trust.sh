#!/usr/bin/env bash
# truststore lint, whole process: wall time and peak memory, beside the
# loop a user would otherwise write (openssl x509 -text + openssl verify
# per certificate). On Debian's CA bundle, and on a generated truststore
# of N certificates (default 100 000).   bench/trust.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
bash ci/install-deps.sh >/dev/null
bash ci/build.sh plain >/dev/null
KG=$PWD/build/keygate
W=$(mktemp -d /tmp/kgtrust.XXXXXX)
trap 'rm -rf "$W"' EXIT
BUNDLE=/etc/ssl/certs/ca-certificates.crt

# run CMD...: prints "seconds peak_KiB"
run() { /usr/bin/time -f "%e %M" -o "$W/t" "$@" >/dev/null 2>&1 || true; tail -1 "$W/t"; }
# the per-certificate loop over FILE's first M certificates
loop() {
	local file=$1 m=$2
	rm -rf "$W/split" && mkdir "$W/split"
	awk -v d="$W/split" -v m="$m" '/BEGIN CERT/{n++} n>m{exit} {print > (d "/" n ".pem")}' "$file"
	cat >"$W/loop.sh" <<LOOP
for f in $W/split/*.pem; do openssl x509 -in "\$f" -text -noout >/dev/null; openssl verify -CAfile "$file" "\$f" >/dev/null 2>&1; done
LOOP
	run bash "$W/loop.sh"
}

printf '%-34s %10s %12s\n' "what" "seconds" "peak MiB"
line() { printf '%-34s %10s %12s\n' "$1" "$2" "$(awk -v k="$3" 'BEGIN{printf "%.1f", k/1024}')"; }
read -r s m < <(run "$KG" truststore lint "$BUNDLE"); line "keygate lint, Debian (144)" "$s" "$m"
read -r s m < <(loop "$BUNDLE" 100000); line "openssl loop, Debian (144)" "$s" "$m"
"$PWD/build/gencerts" "$N" >"$W/big.pem"
awk '/BEGIN CERT/{n++} n>1{exit} {print}' "$W/big.pem" >"$W/split1.pem"
read -r s m < <(run "$KG" truststore lint "$W/big.pem"); line "keygate lint, generated ($N)" "$s" "$m"
# one openssl verify against the whole generated store, bounded: loading
# N certificates into an X509_STORE is what makes that loop impractical
/usr/bin/time -f "%e %M" -o "$W/t" timeout 120 openssl verify -CAfile "$W/big.pem" "$W/split1.pem" >/dev/null 2>&1 && read -r s m <"$W/t" && line "openssl verify, 1 cert vs $N store" "$s" "$m" ||
	echo "openssl verify, 1 cert vs $N store: did not finish in 120 s"
