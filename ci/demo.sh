#!/usr/bin/env bash
# The main job, from nothing: install, build, a throwaway SoftHSM2 token, an
# RSA-2048 key on it, a CSR for a domain, a self-signed client certificate
# (365 days), the export gate refusing the token key, and the software
# fallback through the ACM gate.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/install-deps.sh
bash ci/build.sh plain >/dev/null
KG=$PWD/build/keygate
WORK=${KEYGATE_DEMO_DIR:-$(mktemp -d /tmp/keygate-demo.XXXXXX)}
mkdir -p "$WORK"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# throwaway PINs for a throwaway token; real ones come from a file or fd
export KEYGATE_SO_PIN=${KEYGATE_SO_PIN:-87654321}
export KEYGATE_PIN=${KEYGATE_PIN:-1234}

step "a throwaway SoftHSM2 token in $WORK/hsm"
eval "$("$KG" token init --softhsm "$WORK/hsm" --label demo)"
export SOFTHSM2_CONF KEYGATE_MODULE
"$KG" token list

step "an RSA-2048 key on the token (sensitive, never extractable)"
KEY=$("$KG" key gen --token pkcs11:token=demo --label web --type rsa:2048)
echo "$KEY"

step "a CSR for api.example.com, signed on the token"
"$KG" csr create --key "$KEY" --subject "CN=api.example.com,O=Example" \
	--out "$WORK/api.csr"
openssl req -in "$WORK/api.csr" -verify -noout -subject

step "a self-signed client certificate, 365 days, signed on the token"
"$KG" cert selfsign --key "$KEY" --subject "CN=client-01,O=Example" \
	--profile client --days 365 --out "$WORK/client.pem"
"$KG" cert show "$WORK/client.pem" | grep -E "Subject:|Not After|Fingerprint|Client"
openssl verify -CAfile "$WORK/client.pem" "$WORK/client.pem"

step "the export gate: may this token key leave as an ACM bundle?"
"$KG" key show "$KEY" | grep -E "sensitive|extractable|exportable"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/ca.key" -out "$WORK/ca.pem" \
	-subj "/CN=Demo CA" -days 30 -addext basicConstraints=critical,CA:TRUE 2>/dev/null
printf "subjectAltName=DNS:api.example.com\nextendedKeyUsage=serverAuth\n" >"$WORK/leaf.ext"
openssl x509 -req -in "$WORK/api.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" \
	-CAcreateserial -days 30 -extfile "$WORK/leaf.ext" -out "$WORK/api.pem" 2>/dev/null
"$KG" bundle export --key "$KEY" --cert "$WORK/api.pem" --chain "$WORK/ca.pem" \
	--out "$WORK/refused" || echo "(exit $?: refused, as it must be; nothing written)"

step "the software fallback: a software key and CSR, a CA signs, the ACM gate"
"$KG" bundle fallback --subject "CN=api.example.com,O=Example" --out "$WORK/fb"
openssl x509 -req -in "$WORK/fb/request.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" \
	-CAcreateserial -days 30 -extfile "$WORK/leaf.ext" -out "$WORK/fb-signed.pem" 2>/dev/null
"$KG" bundle assemble --cert "$WORK/fb-signed.pem" --chain "$WORK/ca.pem" \
	--key "$WORK/fb/private_key.pem" --out "$WORK/bundle"
"$KG" bundle check --cert "$WORK/bundle/certificate.pem" \
	--key "$WORK/bundle/private_key.pem" --chain "$WORK/bundle/certificate_chain.pem"
echo
echo "done: files in $WORK"
