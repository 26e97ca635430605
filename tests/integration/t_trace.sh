#!/usr/bin/env bash
# --verbose (issue 11): one stderr line per PKCS#11 call, as pkcs11-spy
# would show it. Checked against what the module itself saw (the fault
# module's call log): the same calls in the same order with the same CKR,
# never a PIN or key material, and nothing at all without --verbose.
. "$(dirname "$0")/lib.sh"
needs_softhsm
SHIM=${KG_BUILD:-$(dirname "$KEYGATE")}/tests/p11/libfaultp11.so
[ -r "$SHIM" ] || { bad "no fault module at $SHIM"; exit 1; }
# PINs that no handle, count or time could spell
export KEYGATE_PIN=73915284 KEYGATE_SO_PIN=61829437
cd "$T"

# token init: the SO PIN and user PIN hidden
out=$("$KEYGATE" --verbose token init --softhsm "$T/hsm" --label tr 2>tinit.err)
eval "$out"
export SOFTHSM2_CONF
check "token init: C_InitToken traced" grep -q 'C_InitToken(slot [0-9]*, SO PIN hidden, label) = CKR_OK' tinit.err
check "token init: C_InitPIN traced" grep -q 'C_InitPIN(session 0x[0-9a-f]*, PIN hidden) = CKR_OK' tinit.err
TOK=pkcs11:token=tr
# every call goes through the fault module, which logs what it saw
export KEYGATE_MODULE=$SHIM KG_FAULT_TARGET=$SOFTHSM_MODULE

LINE='^keygate: pkcs11: [^ :]+: C_[A-Za-z]+\(.*\) = CKR_[A-Z0-9_]+, [0-9]+\.[0-9]{3} ms$'
# traced CMD...: runs keygate --verbose with a fresh module log; then the
# trace (function and CKR per line) must be what the module saw
traced() {
	local what=$1
	shift
	rm -f flog
	KG_ENV="KG_FAULT_LOG=$T/flog" kg --verbose "$@"
	if [ "$RC" -ne 0 ]; then
		bad "$what: rc $RC: $(grep -v 'keygate: pkcs11:' err | head -3)"
		return 0
	fi
	grep '^keygate: pkcs11: ' err >trace || true
	if [ ! -s trace ]; then
		bad "$what: no trace"
		return 0
	fi
	if grep -q 'keygate: pkcs11: ' err && grep 'keygate: pkcs11: ' err | grep -qvE "$LINE"; then
		bad "$what: malformed trace line: $(grep 'keygate: pkcs11: ' err | grep -vE "$LINE" | head -1)"
		return 0
	fi
	ok
	awk '{ print $2, $3 }' flog | sort >seen
	sed -E 's/^keygate: pkcs11: [^ ]+ (C_[A-Za-z]+)\(.*\) = (CKR_[A-Z0-9_]+), .*/\1 \2/' trace |
		sed -E 's/ CKR_OK$/ 0x0/' >traced.names
	# the shim logs the CKR as hex: map ours the same way for the few
	# that occur here
	sed -E 's/ CKR_ATTRIBUTE_TYPE_INVALID$/ 0x12/; s/ CKR_ATTRIBUTE_SENSITIVE$/ 0x11/;
		s/ CKR_DEVICE_ERROR$/ 0x30/; s/ CKR_USER_ALREADY_LOGGED_IN$/ 0x100/;
		s/ CKR_BUFFER_TOO_SMALL$/ 0x150/' traced.names | sort >traced
	if diff seen traced >calls.diff; then
		ok
	else
		bad "$what: trace differs from the module's calls: $(head -6 calls.diff | tr '\n' ' ')"
	fi
	if grep -qE "$KEYGATE_PIN|$KEYGATE_SO_PIN" err; then
		bad "$what: a PIN in the trace"
	else
		ok
	fi
}
# without --verbose: not one trace line
kg key gen --token "$TOK" --label quiet --type ec:p256
equal "no trace without --verbose" "$(grep -c 'keygate: pkcs11:' err || true)" 0

traced "key gen rsa" key gen --token "$TOK" --label ca --type rsa:2048
check "key gen: the template's flags shown" grep -qE 'C_GenerateKeyPair\(session 0x[0-9a-f]+, CKM_RSA_PKCS_KEY_PAIR_GEN, public \[.*CKA_MODULUS_BITS=2048.*\], private \[.*CKA_SENSITIVE=true CKA_EXTRACTABLE=false.*\] -> public 0x[0-9a-f]+, private 0x[0-9a-f]+\) = CKR_OK' trace
check "key gen: C_Login, PIN hidden" grep -q 'C_Login(session 0x[0-9a-f]*, CKU_USER, PIN hidden) = CKR_OK' trace
check "key gen: C_Initialize first" test "$(head -1 trace | grep -c 'C_Initialize()')" = 1
check "key gen: C_Finalize last" test "$(tail -1 trace | grep -c 'C_Finalize()')" = 1
traced "key gen ec" key gen --token "$TOK" --label ec --type ec:p256 --exportable
traced "cert selfsign" cert selfsign --key "$TOK;object=ca" --subject "CN=trace CA" --profile ca --out ca.pem
check "cert selfsign: the signing mechanism and key" grep -qE 'C_SignInit\(session 0x[0-9a-f]+, CKM_RSA_PKCS, key 0x[0-9a-f]+\) = CKR_OK' trace
check "cert selfsign: C_Sign with lengths only" grep -qE 'C_Sign\(session 0x[0-9a-f]+, [0-9]+ bytes in -> 256 bytes\) = CKR_OK' trace
traced "csr create" csr create --key "$TOK;object=ec" --subject CN=ec.example.com --out ec.csr
traced "cert sign" cert sign --ca-key "$TOK;object=ca" --ca-cert ca.pem --csr ec.csr --profile server --out ec.pem
check "issued certificate verifies" openssl verify -CAfile ca.pem ec.pem
# a batch on worker sessions: the same calls, in some order
mkdir -p reqs
for i in 1 2 3 4; do
	KEYGATE_MODULE=$SOFTHSM_MODULE "$KEYGATE" csr create --key "$TOK;object=ec" --subject "CN=b$i.example.com" --out "reqs/b$i.csr" 2>/dev/null
done
traced "cert sign --jobs 3" cert sign --ca-key "$TOK;object=ca" --ca-cert ca.pem --csr-dir reqs --out-dir issued --jobs 3 --profile server
equal "batch: a C_Sign per certificate" "$(grep -c 'C_Sign(' trace)" 4

# export: the key is read, never shown
traced "bundle export" bundle export --key "$TOK;object=ec" --cert ec.pem --chain ca.pem --out bundle --for acm
check "export: CKA_VALUE read" grep -qE 'C_GetAttributeValue\(.*CKA_VALUE.*\) = CKR_OK' trace
key_b64=$(grep -v -- '-----' bundle/private_key.pem | tr -d '\n')
if [ -z "$key_b64" ]; then
	bad "export wrote no private key to compare"
elif grep -qF "${key_b64:20:24}" err; then
	bad "export: key material in the trace"
else
	ok
fi
# nothing long enough to be a key, a point or an id in hex or base64
if grep -E '[0-9A-Fa-f]{16,}|[A-Za-z0-9+/]{24,}' trace | grep -v '^keygate: pkcs11: [^ ]*: C_Initialize' >long.txt; then
	bad "a value in the trace: $(head -1 long.txt)"
else
	ok
fi

# json output stays one document on stdout
traced "key list --json" --json key list --token "$TOK"
check "--json --verbose: stdout is JSON" jq -e . out

# a failing call: its CKR in its line, and the error names it too
rm -f flog
KG_ENV="KG_FAULT_LOG=$T/flog" kg csr create --key "$TOK;object=ec" --subject CN=x --out probe.csr
n=$(awk '$2 == "C_Sign" { print $1; exit }' flog)
KG_ENV="KG_FAULT_AT=$n KG_FAULT_RV=0x30 KEYGATE_RETRIES=0" kg --verbose csr create --key "$TOK;object=ec" --subject CN=x --out failed.csr
equal "failed C_Sign: exit 3" "$RC" 3
check "failed C_Sign: traced with its CKR" grep -qE 'C_Sign\(session 0x[0-9a-f]+, [0-9]+ bytes in\) = CKR_DEVICE_ERROR, ' err
check "failed C_Sign: no CSR" test ! -e failed.csr

# a key that wants its PIN per signature: the context-specific login, PIN
# hidden
if command -v pkcs11-tool >/dev/null; then
	check "pkcs11-tool makes an always-auth key" pkcs11-tool --module "$SOFTHSM_MODULE" --token-label tr --login --pin "$KEYGATE_PIN" --keypairgen --key-type EC:prime256v1 --id aa --label aa --always-auth
	traced "always-auth csr" csr create --key "$TOK;object=aa" --subject CN=aa --out aa.csr
	check "context-specific login traced" grep -qE 'C_Login\(session 0x[0-9a-f]+, CKU_CONTEXT_SPECIFIC, PIN hidden\) = CKR_OK' trace
fi
