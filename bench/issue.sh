#!/usr/bin/env bash
# Issuance at HSM speed: N certificates (default 2000) from CSRs with an
# RSA-2048 and a P-256 CA key on SoftHSM, side by side in one run:
#   keygate cert sign --csr-dir, --jobs 1 and the default (2 per processor)
#   the raw C_Sign rate of the same key on the same token (bench/p11floor)
#   openssl x509 -req -engine pkcs11, one process per certificate (50 of them)
# and batch keygen + CSR (csr create --manifest, K keys, default 200 EC and
# 20 RSA) against the raw C_GenerateKeyPair rate of one session, each on a
# fresh token.
#   bench/issue.sh [N] [K]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-2000}
K=${2:-200}
bash ci/install-deps.sh >/dev/null
bash ci/build.sh plain >/dev/null
KG=$PWD/build/keygate
W=$(mktemp -d /tmp/kgissue.XXXXXX)
trap 'rm -rf "$W"' EXIT
export KEYGATE_SO_PIN=87654321 KEYGATE_PIN=1234
eval "$("$KG" token init --softhsm "$W/hsm" --label ca 2>/dev/null)"
export SOFTHSM2_CONF KEYGATE_MODULE
mkdir -p "$W/in"
for i in $(seq -w 1 "$N"); do
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
		-out "$W/in/r$i.csr" -subj "/CN=dev-$i.example.com" 2>/dev/null
done
now() { date +%s.%N; }
printf '%-8s %-34s %12s %10s\n' key what "certs/s" "x C_Sign"
for t in rsa:2048 ec:p256; do
	l=ca-${t/:/-}
	"$KG" key gen --token pkcs11:token=ca --label "$l" --type "$t" >/dev/null 2>&1
	"$KG" cert selfsign --key "pkcs11:token=ca;object=$l" --subject "CN=Bench CA $t" --profile ca --out "$W/$l.pem" 2>/dev/null
	floor=$("$PWD/build/p11floor" "$KEYGATE_MODULE" ca "$l" 3000)
	t0=$(now)
	"$KG" --quiet cert sign --jobs 1 --ca-key "pkcs11:token=ca;object=$l" --ca-cert "$W/$l.pem" \
		--csr-dir "$W/in" --out-dir "$W/out1-$l" >/dev/null
	t1=$(now)
	kg1=$(echo "$N / ($t1 - $t0)" | bc -l)
	t0=$(now)
	"$KG" --quiet cert sign --ca-key "pkcs11:token=ca;object=$l" --ca-cert "$W/$l.pem" \
		--csr-dir "$W/in" --out-dir "$W/out-$l" >/dev/null
	t1=$(now)
	kgrate=$(echo "$N / ($t1 - $t0)" | bc -l)
	t0=$(now)
	for i in $(seq -w 1 50); do
		PKCS11_MODULE_PATH=$KEYGATE_MODULE openssl x509 -req -engine pkcs11 -CAkeyform engine \
			-CAkey "pkcs11:token=ca;object=$l;type=private;pin-value=$KEYGATE_PIN" \
			-CA "$W/$l.pem" -CAcreateserial -CAserial "$W/serial" -in "$W/in/r00$i.csr" -days 365 \
			-out "$W/o.pem" >/dev/null 2>&1
	done
	t1=$(now)
	osrate=$(echo "50 / ($t1 - $t0)" | bc -l)
	printf '%-8s %-34s %12.1f %10s\n' "$t" "raw C_Sign, one session" "$floor" "1.00"
	printf '%-8s %-34s %12.1f %10.2f\n' "$t" "keygate cert sign --jobs 1" "$kg1" "$(echo "$kg1 / $floor" | bc -l)"
	printf '%-8s %-34s %12.1f %10.2f\n' "$t" "keygate cert sign (default jobs)" "$kgrate" "$(echo "$kgrate / $floor" | bc -l)"
	printf '%-8s %-34s %12.1f %10.2f\n' "$t" "openssl x509 -req -engine (loop)" "$osrate" "$(echo "$osrate / $floor" | bc -l)"
done

# batch keygen + CSR against the raw C_GenerateKeyPair rate, fresh tokens
printf '\n%-8s %-34s %12s %10s\n' key what "keys/s" "x keygen"
for t in ec:p256 rsa:2048; do
	k=$K
	[ "$t" = rsa:2048 ] && k=$((K / 10))
	d=$W/gen-${t/:/-}
	mkdir -p "$d/floor" "$d/kg"
	eval "$("$KG" token init --softhsm "$d/floor" --label gen 2>/dev/null)"
	floor=$("$PWD/build/p11floor" "$KEYGATE_MODULE" gen "keygen:$t" "$k")
	eval "$("$KG" token init --softhsm "$d/kg" --label gen 2>/dev/null)"
	for i in $(seq 1 "$k"); do
		printf '{"label":"k%d","type":"%s","subject":"CN=k%d.example.com"}\n' "$i" "$t" "$i"
	done >"$d/m.jsonl"
	t0=$(now)
	"$KG" --quiet csr create --token pkcs11:token=gen --manifest "$d/m.jsonl" --out-dir "$d/csr" >/dev/null
	t1=$(now)
	kgrate=$(echo "$k / ($t1 - $t0)" | bc -l)
	printf '%-8s %-34s %12.1f %10s\n' "$t" "raw C_GenerateKeyPair, one session" "$floor" "1.00"
	printf '%-8s %-34s %12.1f %10.2f\n' "$t" "keygate csr create --manifest" "$kgrate" "$(echo "$kgrate / $floor" | bc -l)"
done
