#!/usr/bin/env bash
# The same flow against a token served by `p11-kit server`, reached through
# p11-kit-client.so and P11_KIT_SERVER_ADDRESS.
. "$(dirname "$0")/lib.sh"
command -v p11-kit >/dev/null || { echo "SKIP: no p11-kit tool"; exit 77; }
CLIENT=
for p in /usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so \
	/usr/lib/aarch64-linux-gnu/pkcs11/p11-kit-client.so \
	/usr/lib/pkcs11/p11-kit-client.so; do
	[ -r "$p" ] && CLIENT=$p && break
done
[ -n "$CLIENT" ] || { echo "SKIP: no p11-kit-client.so"; exit 77; }
new_token ci
LOCAL_MODULE=$KEYGATE_MODULE

mkdir -m 700 "$T/run"
XDG_RUNTIME_DIR="$T/run" timeout 300 p11-kit server -f --provider "$LOCAL_MODULE" \
	-n "$T/run/kg.sock" "pkcs11:token=ci" >"$T/server.out" 2>&1 &
SERVER=$!
KG_CLEANUP="kill $SERVER 2>/dev/null"
for _ in $(seq 50); do [ -S "$T/run/kg.sock" ] && break; sleep 0.1; done
check "p11-kit server is listening" test -S "$T/run/kg.sock"
export P11_KIT_SERVER_ADDRESS="unix:path=$T/run/kg.sock"
export KEYGATE_MODULE=$CLIENT

expect 0 "" --json token list
check "the remote token is listed" jq -e '[.slots[] | select(.token.label=="ci")] | length == 1' "$T/out"
check "its URI names the client module" jq -e '.slots[] | select(.token.label=="ci") | .token.uri | test("p11-kit-client")' "$T/out"
expect 0 "" key gen --token pkcs11:token=ci --label remote-rsa --type rsa:2048
expect 0 "" key gen --token pkcs11:token=ci --label remote-ec --type ec:p256
for l in remote-rsa remote-ec; do
	expect 0 "" csr create --key "pkcs11:token=ci;object=$l" --subject "CN=$l.example.com"
	check "$l: CSR made through p11-kit-client verifies" openssl req -verify -noout -in "$T/out"
	expect 0 "" cert selfsign --key "pkcs11:token=ci;object=$l" --subject "CN=$l.example.com" --profile client
	cp "$T/out" "$T/$l.pem"
	check "$l: certificate verifies" openssl verify -CAfile "$T/$l.pem" "$T/$l.pem"
done
KG_ENV="KEYGATE_PIN=0000" expect 3 "PIN incorrect for token 'ci'" csr create --key "pkcs11:token=ci;object=remote-ec" --subject CN=x

# the keys really live on the served token: read them without the server
KG_ENV="KEYGATE_MODULE=$LOCAL_MODULE" expect 0 "" --json key list --token pkcs11:token=ci
equal "keys on the local token" "$(jq -r '[.keys[].label] | sort | join(",")' "$T/out")" "remote-ec,remote-rsa"
