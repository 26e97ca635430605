#!/usr/bin/env bash
# The module matrix (issue 11): keygate's core workflow on every PKCS#11
# implementation ci/modules/ brings up from Debian packages -- SoftHSM2,
# NSS softokn (a p11-kit module file with init arguments), opencryptoki's
# soft token, tpm2-pkcs11 on swtpm, SoftHSM2 behind p11-kit server -- each
# output checked by openssl, attributes read back with pkcs11-tool, every
# URI keygate printed pasted back in. What a module cannot do must be one
# line saying so (exit 3), never a crash or a half-made key.
#   KG_MATRIX="nss tpm2"   only these modules
#   KG_MATRIX_OUT=FILE     the matrix (module, operation, result) as TSV
. "$(dirname "$0")/lib.sh"
command -v pkcs11-tool >/dev/null || { echo "SKIP: no pkcs11-tool"; exit 77; }
MODS=${KG_MATRIX:-softhsm nss opencryptoki tpm2 p11kit-server}
CI=${KG_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}/ci/modules
LIBDIR=/usr/lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
ALL_TYPES="rsa:1024 rsa:2048 rsa:3072 rsa:4096 ec:p256 ec:p384 ec:p521 ed25519 ed448"
RSA_EC="rsa:1024 rsa:2048 rsa:3072 rsa:4096 ec:p256 ec:p384 ec:p521"
# what each module must make; the rest must be refused in one line (only
# SoftHSM2 has EdDSA here; p11-kit's RPC does not carry it)
declare -A MAKES=(
	[softhsm]="$ALL_TYPES"
	[nss]="$RSA_EC"
	[opencryptoki]="rsa:1024 rsa:2048 rsa:3072 rsa:4096"
	[tpm2]="rsa:1024 rsa:2048 rsa:3072 ec:p256 ec:p384"
	[p11kit-server]="$RSA_EC"
)
# exportable keys: tpm2-pkcs11 refuses sensitive=false with extractable
declare -A EXPORTS=([softhsm]=1 [nss]=0 [opencryptoki]=1 [tpm2]=0 [p11kit-server]=1)
MATRIX=$T/matrix.tsv
: >"$MATRIX"
UP=""
KG_CLEANUP='[ -n "$UP" ] && bash "$CI/$UP.sh" down "$T/mod-$UP" >/dev/null 2>&1'
export TSS2_LOG=all+none # tpm2-tss: its own logging, not keygate's

# keygate's own lines of stderr but its warnings (a module may print to
# it too: tpm2-tss logs; a registered module that cannot start is one
# warning of keygate's)
kglines() { grep '^keygate:' "$T/err" | grep -vc '^keygate: warning:' || true; }
kgerr() { grep '^keygate:' "$T/err" | grep -v '^keygate: warning:' | head -c 200 | tr '\n' ' '; }
row() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$MATRIX"; }
# step MODULE OP WANT ARGS...: expect, and the outcome into the matrix
step() {
	local m=$1 op=$2 want=$3
	shift 3
	local before=$KG_FAIL
	expect "$want" "" "$@"
	if [ "$KG_FAIL" -gt "$before" ]; then
		row "$m" "$op" "FAIL (exit $RC)"
	elif [ "$RC" -eq 0 ]; then
		row "$m" "$op" ok
	else
		row "$m" "$op" "refused: $(kgerr)"
	fi
}

# pkcs11-tool on the module (NSS: through p11-kit's proxy)
p11() {
	pkcs11-tool --module "${KG_MODULE:-$LIBDIR/p11-kit-proxy.so}" \
		--token-label "${KG_TOKEN_URI#pkcs11:token=}" --login --pin "$KG_PIN" "$@" 2>/dev/null
}

up() {
	local m=$1 rc=0
	if [ "$m" = softhsm ]; then
		needs_softhsm
		eval "$("$KEYGATE" token init --softhsm "$T/mod-softhsm" --label kg-softhsm)"
		KG_MODULE=$KEYGATE_MODULE KG_TOKEN_URI=pkcs11:token=kg-softhsm KG_PIN=$KEYGATE_PIN
		export SOFTHSM2_CONF
		return 0
	fi
	bash "$CI/$m.sh" up "$T/mod-$m" >"$T/env-$m" 2>"$T/up-$m" || rc=$?
	if [ "$rc" -eq 77 ]; then
		row "$m" "*" "skipped: $(head -1 "$T/up-$m")"
		return 77
	fi
	if [ "$rc" -ne 0 ]; then
		bad "$m: up failed: $(tail -3 "$T/up-$m")"
		row "$m" "*" "FAIL: the token did not come up"
		return 1
	fi
	UP=$m
	eval "$(cat "$T/env-$m")"
}

down() {
	if [ "$1" = softhsm ]; then
		unset SOFTHSM2_CONF
		return 0
	fi
	bash "$CI/$1.sh" down "$T/mod-$1" >/dev/null 2>&1 || bad "$1: down failed"
	UP=""
}

# privkey objects with label $1, as pkcs11-tool counts them
nkeys() { p11 --list-objects --type privkey | grep -c "label: *$1\$" || true; }

run() {
	local m=$1 t0 key="" rsa="" u dir=$T/w-$1 n f ty l ku first
	t0=$(date +%s.%N)
	up "$m" || return 0
	mkdir -p "$dir"
	cd "$dir"
	export KEYGATE_PIN=$KG_PIN
	if [ -n "$KG_MODULE" ]; then export KEYGATE_MODULE=$KG_MODULE; else unset KEYGATE_MODULE; fi
	# Under ASan: NSS, opencryptoki and tpm2-pkcs11 leak memory of their
	# own (in C_GenerateKeyPair, C_Finalize, ...), and once p11-kit has
	# unloaded them LeakSanitizer cannot even name them. Leak checking is
	# off for these three only; keygate's leaks are caught by every other
	# test and by this one's SoftHSM2 runs; ASan's other checks stay on.
	local asan_was=${ASAN_OPTIONS-}
	case $m in nss | opencryptoki | tpm2)
		export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 ;;
	esac
	TOK=$KG_TOKEN_URI
	step "$m" "token list" 0 --json token list
	check "$m: token list has the token" jq -e --arg l "${TOK#pkcs11:token=}" \
		'[.slots[] | select(.token.label == $l)] | length == 1' "$T/out"
	# every key type: made, or refused in one line before anything is made
	for ty in $ALL_TYPES; do
		l=k-${ty/:/-}
		if [[ " ${MAKES[$m]} " == *" $ty "* ]]; then
			step "$m" "key gen $ty" 0 key gen --token "$TOK" --label "$l" --type "$ty"
			u=$(cat "$T/out")
			case $ty in ec:p256) key=$u ;; rsa:2048) rsa=$u ;; esac
			# the printed URI, pasted back
			step "$m" "key show (printed URI) $ty" 0 key show "$u"
		else
			step "$m" "key gen $ty" 3 key gen --token "$TOK" --label "$l" --type "$ty"
			equal "$m: refused $ty in one line" "$(kglines)" 1
			equal "$m: refused $ty: nothing left" "$(nkeys "$l")" 0
		fi
	done
	key=${key:-$rsa}
	if [ -z "$key" ]; then
		bad "$m: no key to go on with"
	else
		step "$m" "key list" 0 --json key list --token "$TOK"
		# what pkcs11-tool reads: sign, and nothing the SPEC does not say
		ku=$(p11 --list-objects --type privkey | awk -v L="${key##*object=}" '
			/label:/ { hit = ($2 == substr(L, 1, index(L, ";") - 1)) }
			hit && /Usage:/ { sub(/^ *Usage: */, ""); print; exit }' || true)
		if [ "$key" = "$rsa" ]; then
			equal "$m: pkcs11-tool: the RSA key's usage" "$ku" "decrypt, sign"
		else
			equal "$m: pkcs11-tool: the EC key may only sign" "$ku" "sign"
		fi
		step "$m" "csr create" 0 csr create --key "$key" --subject "CN=$m.example.com" --san "DNS:$m.example.com" --out leaf.csr
		check "$m: CSR verifies" openssl req -in leaf.csr -verify -noout
		step "$m" "cert selfsign" 0 cert selfsign --key "$key" --subject "CN=$m CA" --profile ca --out ca.pem
		check "$m: self-signed verifies" openssl verify -CAfile ca.pem ca.pem
		step "$m" "cert sign" 0 cert sign --ca-key "$key" --ca-cert ca.pem --csr leaf.csr --out leaf.pem
		check "$m: issued verifies" openssl verify -CAfile ca.pem leaf.pem
		mkdir -p reqs
		for i in 1 2 3 4 5 6; do
			openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
				-subj "/CN=d$i.$m.example.com" -out "reqs/d$i.csr" 2>/dev/null
		done
		for j in 1 4; do
			step "$m" "cert sign --csr-dir --jobs $j" 0 cert sign --ca-key "$key" --ca-cert ca.pem --csr-dir reqs --out-dir "out$j" --jobs $j
			n=0
			for f in "out$j"/*.pem; do openssl verify -CAfile ca.pem "$f" >/dev/null 2>&1 && n=$((n + 1)); done
			equal "$m: --jobs $j: all six issued and verified" "$n" 6
		done
		first=${MAKES[$m]%% *}
		printf '{"label": "m1", "type": "%s", "subject": "CN=m1.%s.example.com", "san": "DNS:m1.%s.example.com"}\n{"label": "m2", "type": "%s", "subject": "CN=m2.%s.example.com"}\n' \
			"$first" "$m" "$m" "$first" "$m" >fleet.jsonl
		step "$m" "csr create --manifest" 0 csr create --token "$TOK" --manifest fleet.jsonl --out-dir mreqs --jobs 2
		for f in mreqs/m1.csr mreqs/m2.csr; do check "$m: manifest $f verifies" openssl req -in "$f" -verify -noout; done
		if [ "${EXPORTS[$m]}" = 1 ]; then
			step "$m" "key gen --exportable" 0 key gen --token "$TOK" --label exp --type rsa:2048 --exportable
		else
			# the module refuses it in one line, or makes it and keeps
			# it to itself: never exported
			kg key gen --token "$TOK" --label exp --type rsa:2048 --exportable
			if [ "$RC" -eq 0 ]; then
				row "$m" "key gen --exportable" ok
				ok
			elif [ "$RC" -eq 3 ] && [ "$(kglines)" -eq 1 ]; then
				row "$m" "key gen --exportable" "refused: $(kgerr)"
				ok
			else
				bad "$m: key gen --exportable: exit $RC: $(cat "$T/err")"
			fi
		fi
		if [ "$(nkeys exp)" = 1 ]; then
			step "$m" "csr create (exportable)" 0 csr create --key "$TOK;object=exp" --subject "CN=exp.$m.example.com" --san "DNS:exp.$m.example.com" --out exp.csr
			step "$m" "cert sign (exportable)" 0 cert sign --ca-key "$key" --ca-cert ca.pem --csr exp.csr --out exp.pem
			step "$m" "bundle export" $((1 - ${EXPORTS[$m]})) bundle export --key "$TOK;object=exp" --cert exp.pem --chain ca.pem --out bx --for acm
			if [ "${EXPORTS[$m]}" = 1 ]; then
				equal "$m: exported key is the certificate's" \
					"$(openssl pkey -in bx/private_key.pem -pubout 2>/dev/null | sha256sum)" \
					"$(openssl x509 -in bx/certificate.pem -pubkey -noout | sha256sum)"
			else
				check "$m: nothing exported" test ! -e bx/private_key.pem
			fi
		fi
		step "$m" "cert expiry (token URI)" 0 cert expiry "$TOK"
		# the token's whole life (issue 12): the certificate beside its
		# key, read from the token, the public key, a pair deleted, PINs
		step "$m" "cert import" 0 cert import leaf.pem --token "$TOK"
		step "$m" "object list" 0 --json object list --token "$TOK"
		equal "$m: the key pairs with its certificate" \
			"$(jq -r --arg k "$key" '.objects[] | select(.uri == $k) | .pair | test("type=cert")' "$T/out")" true
		step "$m" "cert show (token URI)" 0 cert show "${key%%;type=private*};type=cert"
		step "$m" "key pubkey" 0 key pubkey "$key" --out key.pub
		equal "$m: key pubkey is the certificate's key" \
			"$(openssl pkey -pubin -in key.pub -outform DER 2>/dev/null | sha256sum)" \
			"$(openssl x509 -in leaf.pem -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum)"
		step "$m" "key gen (to delete)" 0 key gen --token "$TOK" --label gone --type "$first"
		step "$m" "cert selfsign (to delete)" 0 cert selfsign --key "$TOK;object=gone" --subject "CN=gone" --out gone.pem
		step "$m" "cert import (to delete)" 0 cert import gone.pem --token "$TOK"
		step "$m" "key delete --with-cert" 0 key delete "$TOK;object=gone" --with-cert --yes
		equal "$m: deleted: no key 'gone'" "$(nkeys gone)" 0
		equal "$m: deleted: no certificate 'gone'" \
			"$(p11 --list-objects --type cert | grep -c 'label: *gone$' || true)" 0
		# a PIN changed and changed back, or refused in one line
		for pins in "$KG_PIN:${KG_PIN}9" "${KG_PIN}9:$KG_PIN"; do
			KG_ENV="KEYGATE_PIN=${pins%%:*} KEYGATE_NEW_PIN=${pins#*:}" kg token pin change --token "$TOK"
			if [ "$RC" -eq 0 ]; then
				row "$m" "token pin change" ok
				ok
			elif [ "$RC" -eq 3 ] && [ "$(kglines)" -eq 1 ]; then
				row "$m" "token pin change" "refused: $(kgerr)"
				ok
				break
			else
				bad "$m: token pin change: exit $RC: $(cat "$T/err")"
				break
			fi
		done
		KEYGATE_PIN=$KG_PIN step "$m" "login after the PIN changed back" 0 key list --token "$TOK"
		# every URI key list printed, pasted back
		"$KEYGATE" --json key list --token "$TOK" 2>/dev/null </dev/null | jq -r '.keys[].uri' >uris || true
		n=0
		while read -r u; do
			"$KEYGATE" key show "$u" >/dev/null 2>&1 </dev/null && n=$((n + 1))
		done <uris
		equal "$m: every listed URI pastes back" "$n" "$(grep -c . uris)"
	fi
	cd "$T"
	unset KEYGATE_MODULE
	export ASAN_OPTIONS=$asan_was
	down "$m"
	row "$m" "(seconds, up to down)" "$(echo "$(date +%s.%N) - $t0" | bc | cut -c1-5)"
}

for m in $MODS; do
	run "$m"
done
column -t -s $'\t' "$MATRIX" || cat "$MATRIX"
[ -z "${KG_MATRIX_OUT:-}" ] || cp "$MATRIX" "$KG_MATRIX_OUT"
