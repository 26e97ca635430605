#!/usr/bin/env bash
# The main job, from nothing: install, build, a throwaway SoftHSM2 token, an
# RSA-2048 key on it, a CSR for a domain, a self-signed client certificate
# (365 days), and the export gate's verdict on the key.
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

step "the export gate: may this key leave the token as an ACM bundle?"
"$KG" key show "$KEY" | grep -E "sensitive|extractable|exportable"
echo
echo "done: files in $WORK"
