#!/usr/bin/env bash
# Hostile sizes (issue 9 items 14 and 15), whole process: wall seconds,
# CPU seconds and peak resident memory (/usr/bin/time) per command.
#   bench/hostile.sh            builds keygate and measures build/keygate
#   KG=/path/keygate bench/hostile.sh   measures that binary instead (an
#                               older build, for before/after)
# The stores come from build/gencerts (bench/gencerts.c): N self-signed
# roots with one subject (and a client certificate under the last one);
# N roots sharing a name plus N certificates naming it, signed by another
# key; one small certificate repeated. The manifest case times csr create up to
# the token (a URI naming no token: it fails right after checking every
# line). Each command gets LIMIT seconds (default 300).
set -euo pipefail
cd "$(dirname "$0")/.."
LIMIT=${LIMIT:-300}
if [ -z "${KG:-}" ]; then
	bash ci/install-deps.sh >/dev/null
	bash ci/build.sh plain >/dev/null
	KG=$PWD/build/keygate
elif [ ! -x build/gencerts ]; then
	bash ci/build.sh plain >/dev/null
fi
GEN=$PWD/build/gencerts
[ -x /usr/bin/time ] || { echo "hostile.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
W=$(mktemp -d /tmp/kghostile.XXXXXX)
trap 'rm -rf "$W"' EXIT
cd "$W"

echo "generating the stores in $W ..." >&2
"$GEN" same-subject 5000 leaf5k.pem >same5k.pem
"$GEN" same-subject 20000 leaf20k.pem >same20k.pem
"$GEN" same-subject 20000 >same20k-b.pem
"$GEN" shared-roots 250 >shared250.pem
"$GEN" shared-roots 1000 >shared1k.pem
"$GEN" same-subject 1 >one.pem # 587 bytes: many copies per MiB
awk -v size=$((60 * 1024 * 1024)) '{ l[NR] = $0; b += length($0) + 1 }
	END { for (i = 0; i < size / b; i++) for (j = 1; j <= NR; j++) print l[j] }' one.pem >rep60.pem
awk -v size=$((250 * 1024 * 1024)) '{ l[NR] = $0; b += length($0) + 1 }
	END { for (i = 0; i < size / b; i++) for (j = 1; j <= NR; j++) print l[j] }' one.pem >rep250.pem
awk 'BEGIN { for (i = 1; i <= 100000; i++)
	printf "{\"label\":\"dev-%06d\",\"type\":\"ec:p256\",\"subject\":\"CN=dev-%06d.example,O=Example\",\"san\":\"DNS:dev-%06d.example\"}\n", i, i, i }' >fleet.jsonl
# a SoftHSM2 store for the manifest case (its module is loaded, no token
# matches)
export KEYGATE_SO_PIN=87654321 KEYGATE_PIN=1234
eval "$("$KG" token init --softhsm "$W/hsm" --label bench)"
export SOFTHSM2_CONF KEYGATE_MODULE

# row NAME INPUT CMD...: one line of the table
row() {
	local name=$1 input=$2 rc=0 s u m
	shift 2
	/usr/bin/time -f "%e %U %S %M" -o t timeout "$LIMIT" "$KG" "$@" >/dev/null 2>err || rc=$?
	read -r s u sy m < <(tail -1 t)
	if [ "$rc" -eq 124 ]; then s=">$LIMIT"; fi
	printf '| %-46s | %9s | %8s | %8.1f | %8.1f | %4s |\n' "$name" "$s" \
		"$(awk -v u="$u" -v s="$sy" 'BEGIN { printf "%.2f", u + s }')" \
		"$(awk -v b="$(stat -c %s "$input")" 'BEGIN { print b / 1048576 }')" \
		"$(awk -v k="$m" 'BEGIN { print k / 1024 }')" "$rc"
}

echo "keygate: $KG"
printf '| %-46s | %9s | %8s | %8s | %8s | %4s |\n' "command" "wall s" "CPU s" "in MiB" "peak MiB" "exit"
printf '|%s|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..48})" "-----------" "----------" "----------" "----------" "------"
row "truststore lint, one subject, 5 000" same5k.pem truststore lint same5k.pem
row "truststore lint, one subject, 20 000" same20k.pem truststore lint same20k.pem
row "mtls check, one subject, 5 000" same5k.pem mtls check --truststore same5k.pem --cert leaf5k.pem
row "mtls check, one subject, 20 000" same20k.pem mtls check --truststore same20k.pem --cert leaf20k.pem
row "chain verify, one subject, 5 000" same5k.pem chain verify --truststore same5k.pem --cert leaf5k.pem
row "chain verify, one subject, 20 000" same20k.pem chain verify --truststore same20k.pem --cert leaf20k.pem
row "truststore merge, 2 x 20 000 one subject" same20k.pem truststore merge same20k.pem same20k-b.pem --out merged.pem --force
row "truststore lint, 250 + 250 shared roots" shared250.pem truststore lint shared250.pem
row "truststore lint, 1 000 + 1 000 shared roots" shared1k.pem truststore lint shared1k.pem
row "csr create --manifest, 100 000 lines, to token" fleet.jsonl csr create --token "pkcs11:token=no-such-token" --manifest fleet.jsonl --out-dir reqs
row "truststore lint, one cert repeated, 60 MiB" rep60.pem truststore lint rep60.pem
row "truststore lint, one cert repeated, 250 MiB" rep250.pem truststore lint rep250.pem
row "truststore lint /dev/zero" /dev/null truststore lint /dev/zero
