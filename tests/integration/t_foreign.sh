#!/usr/bin/env bash
# Keys keygate did not make (issue 11): made by pkcs11-tool with
# --always-auth, --allowed-mechanisms, without CKA_ID; each used for a CSR,
# a self-signed certificate and certificates issued with it, which openssl
# verifies. And the keys keygate makes: every usage set, read back.
. "$(dirname "$0")/lib.sh"
command -v pkcs11-tool >/dev/null || { echo "SKIP: no pkcs11-tool"; exit 77; }
new_token ci
TOK=pkcs11:token=ci
cd "$T"
P11() { pkcs11-tool --module "$KEYGATE_MODULE" --token-label ci --login --pin "$KEYGATE_PIN" "$@" >/dev/null 2>&1; }
gen() { check "pkcs11-tool makes $1" P11 --keypairgen "${@:2}" --label "$1"; }

gen aa-ec --key-type EC:prime256v1 --id a1 --always-auth
gen aa-rsa --key-type rsa:2048 --id a2 --always-auth
gen am-rsa --key-type rsa:2048 --id a3 --allowed-mechanisms SHA256-RSA-PKCS
gen am-ec --key-type EC:prime256v1 --id a4 --allowed-mechanisms ECDSA-SHA256
gen noid-ec --key-type EC:prime256v1
gen noid-rsa --key-type rsa:2048

# what keygate reads of them
expect 0 "" --json key show "$TOK;object=aa-ec"
equal "always-auth shown" "$(jq -r .always_authenticate out)" true
expect 0 "" --json key show "$TOK;object=am-rsa"
equal "allowed mechanisms shown" "$(jq -c .allowed_mechanisms out)" '["CKM_SHA256_RSA_PKCS"]'
expect 0 "" --json key show "$TOK;object=noid-ec"
equal "a key without CKA_ID" "$(jq -r .id out)" ""

# usable: CSR, self-signed certificate, and a CA that issues with it
for k in aa-ec aa-rsa am-rsa noid-ec noid-rsa; do
	K="$TOK;object=$k"
	expect 0 "" csr create --key "$K" --subject "CN=$k" --out "$k.csr"
	check "$k: CSR verifies" openssl req -in "$k.csr" -verify -noout
	expect 0 "" cert selfsign --key "$K" --subject "CN=$k CA" --profile ca --out "$k.ca.pem"
	check "$k: self-signed verifies" openssl verify -CAfile "$k.ca.pem" "$k.ca.pem"
	expect 0 "" cert sign --ca-key "$K" --ca-cert "$k.ca.pem" --csr "$k.csr" --profile client --out "$k.pem"
	check "$k: issued verifies" openssl verify -CAfile "$k.ca.pem" "$k.pem"
done
# a batch with an always-auth CA key: one context-specific login per
# signature, also on worker sessions
mkdir -p reqs
for i in 1 2 3 4 5 6; do
	expect 0 "" csr create --key "$TOK;object=noid-ec" --subject "CN=d$i" --out "reqs/d$i.csr"
done
expect 0 "" cert sign --ca-key "$TOK;object=aa-ec" --ca-cert aa-ec.ca.pem --csr-dir reqs --out-dir issued --jobs 3
n=0
for f in issued/*.pem; do openssl verify -CAfile aa-ec.ca.pem "$f" >/dev/null 2>&1 && n=$((n + 1)); done
equal "always-auth batch: all issued and verified" "$n" 6

# a hashed mechanism other than the one allowed: refused, named, no file
expect 3 "CKA_ALLOWED_MECHANISMS" csr create --key "$TOK;object=am-rsa" --subject CN=x --digest sha384 --out x384.csr
check "no partial CSR" test ! -e x384.csr
# a key allowed only ECDSA-SHA256 on a token without that mechanism
expect 3 "the key allows CKM_ECDSA_SHA256 and the token offers none" csr create --key "$TOK;object=am-ec" --subject CN=x --out xec.csr
check "no partial CSR" test ! -e xec.csr

# EdDSA: keys keygate makes (Ed25519, Ed448) and one pkcs11-tool made,
# each used for a CSR, a self-signed certificate and an issued one that
# openssl verifies; the ACM gate refuses them as ACM does
gen ed-p11 --key-type EC:edwards25519 --id e5
for t in ed25519 ed448; do
	expect 0 "" key gen --token $TOK --label "kg-$t" --type $t
done
expect 0 "" --json key show "$TOK;object=kg-ed25519"
equal "Ed25519: key show" "$(jq -r '.type + " " + .curve + " " + (.usage | join(","))' out)" "ed Ed25519 sign"
for k in kg-ed25519 kg-ed448 ed-p11; do
	K="$TOK;object=$k"
	expect 0 "" csr create --key "$K" --subject "CN=$k.example.com" --san "DNS:$k.example.com" --out "$k.csr"
	check "$k: CSR verifies" openssl req -in "$k.csr" -verify -noout
	check "$k: EdDSA signature" bash -c "openssl req -in '$k.csr' -noout -text | grep -q 'Signature Algorithm: ED'"
	expect 0 "" cert selfsign --key "$K" --subject "CN=$k CA" --profile ca --out "$k.ca.pem"
	check "$k: self-signed verifies" openssl verify -CAfile "$k.ca.pem" "$k.ca.pem"
	expect 0 "" cert sign --ca-key "$K" --ca-cert "$k.ca.pem" --csr "$k.csr" --out "$k.pem"
	check "$k: issued verifies" openssl verify -CAfile "$k.ca.pem" "$k.pem"
done
openssl genpkey -algorithm ed25519 -out edsw.key 2>/dev/null
openssl req -new -x509 -key edsw.key -subj /CN=api.example.com -addext subjectAltName=DNS:api.example.com -out edsw.pem 2>/dev/null
kg --json bundle check --cert edsw.pem --key edsw.key --for acm
equal "ACM refuses an Ed25519 key" "$RC $(jq -r '[.findings[].code] | join(",")' out)" "1 key-algorithm"
expect 2 "--usage derive is not for EdDSA keys" key gen --token $TOK --label bad --type ed25519 --usage sign,derive
expect 2 "ed25519 keys are not accepted for acm" bundle fallback --subject CN=x --out fb --type ed25519 --for acm

# keys keygate makes: every usage attribute explicit, read back
block() {
	pkcs11-tool --module "$KEYGATE_MODULE" --token-label ci --login --pin "$KEYGATE_PIN" \
		--list-objects --type "$1" 2>/dev/null | awk -v L="$2" '
		/^[A-Z][a-z]+ Key Object/ { if (hit) printf "%s", b; b = ""; hit = 0 }
		{ b = b $0 "\n" }
		/label:/ { if ($2 == L) hit = 1 }
		END { if (hit) printf "%s", b }'
}
usage() { block "$1" "$2" | sed -n 's/^ *Usage: *//p'; }
expect 0 "" key gen --token $TOK --label kg-ec --type ec:p256
equal "EC private: sign only" "$(usage privkey kg-ec)" "sign"
equal "EC public: verify only" "$(usage pubkey kg-ec)" "verify"
expect 0 "" key gen --token $TOK --label kg-rsa --type rsa:2048
equal "RSA private: decrypt, sign" "$(usage privkey kg-rsa)" "decrypt, sign"
equal "RSA public: encrypt, verify" "$(usage pubkey kg-rsa)" "encrypt, verify"
expect 0 "" key gen --token $TOK --label kg-ecd --type ec:p384 --usage sign,derive
equal "--usage sign,derive" "$(usage privkey kg-ecd)" "sign, derive"
expect 0 "" --json key show "$TOK;object=kg-ecd"
equal "key show: usage" "$(jq -c .usage out)" '["sign","derive"]'
expect 2 "--usage decrypt is not for EC keys" key gen --token $TOK --label bad --type ec:p256 --usage decrypt
expect 2 "bad --usage 'wrap'" key gen --token $TOK --label bad --usage sign,wrap
# an id another key has is refused; --force over the same key keeps it
expect 0 "" key gen --token $TOK --label id1 --id 0102
expect 2 "id 0102 is taken" key gen --token $TOK --label id2 --id 0102
expect 0 "" key gen --token $TOK --label id1 --id 0102 --force
check "nothing made for the refused id" test -z "$(block privkey id2)"

# a module that refuses the full template (tpm2-pkcs11 fails an EC key
# with CKA_DECRYPT false): keygate asks again without the false usages,
# then sets them false; the key is whole and may only sign. Played here by
# the fault module refusing the first C_GenerateKeyPair.
SHIM=${KG_BUILD:-$(dirname "$KEYGATE")}/tests/p11/libfaultp11.so
if [ -r "$SHIM" ]; then
	KG_ENV="KEYGATE_MODULE=$SHIM KG_FAULT_TARGET=$KEYGATE_MODULE KG_FAULT_LOG=$T/flog" \
		expect 0 "" key gen --token $TOK --label probe --type ec:p256
	at=$(awk '$2 == "C_GenerateKeyPair" { print $1; exit }' "$T/flog")
	check "the probe saw C_GenerateKeyPair" test -n "$at"
	KG_ENV="KEYGATE_MODULE=$SHIM KG_FAULT_TARGET=$KEYGATE_MODULE KG_FAULT_AT=$at KG_FAULT_RV=0xD1" \
		expect 0 "" key gen --token $TOK --label lean --type ec:p256
	equal "lean: private may only sign" "$(usage privkey lean)" "sign"
	equal "lean: public may only verify" "$(usage pubkey lean)" "verify"
	# the same refusal for every template: one line, nothing left
	KG_ENV="KEYGATE_MODULE=$SHIM KG_FAULT_TARGET=$KEYGATE_MODULE KG_FAULT_AT=$at KG_FAULT_MODE=from KG_FAULT_RV=0xD1" \
		expect 3 "C_GenerateKeyPair on token 'ci' failed: CKR_TEMPLATE_INCONSISTENT" key gen --token $TOK --label lean2 --type ec:p256
	check "nothing made" test -z "$(block privkey lean2)"
else
	bad "no fault module at $SHIM"
fi

# RSASSA-PSS (--sig-alg rsa-pss): salt as long as the digest, MGF1 with
# it; on keygate's key, and on one allowed only SHA256-RSA-PKCS-PSS
gen pss-only --key-type rsa:2048 --id a6 --allowed-mechanisms SHA256-RSA-PKCS-PSS
for k in kg-rsa pss-only; do
	K="$TOK;object=$k"
	expect 0 "" csr create --key "$K" --subject "CN=$k.example.com" --sig-alg rsa-pss --out "$k.pss.csr"
	check "$k: PSS CSR verifies" openssl req -in "$k.pss.csr" -verify -noout
	check "$k: rsassaPss, salt 32" bash -c "openssl req -in '$k.pss.csr' -noout -text | grep -A4 'Signature Algorithm: rsassaPss' | grep -q 'Salt Length: 0x20'"
	expect 0 "" cert selfsign --key "$K" --subject "CN=$k PSS CA" --profile ca --sig-alg rsa-pss --digest sha256 --out "$k.pssca.pem"
	check "$k: PSS self-signed verifies" openssl verify -CAfile "$k.pssca.pem" "$k.pssca.pem"
	expect 0 "" cert sign --ca-key "$K" --ca-cert "$k.pssca.pem" --csr "$k.pss.csr" --sig-alg rsa-pss --out "$k.pss.pem"
	check "$k: PSS issued verifies" openssl verify -CAfile "$k.pssca.pem" "$k.pss.pem"
done
check "PSS certificate: certtool agrees" bash -c "certtool --verify --load-ca-certificate kg-rsa.pssca.pem --infile kg-rsa.pss.pem >/dev/null 2>&1 || ! command -v certtool"
# the PSS-only key cannot do PKCS#1 v1.5, and the v1.5-only key not PSS
expect 3 "cannot sign with RSASSA-PSS" csr create --key "$TOK;object=am-rsa" --subject CN=x --sig-alg rsa-pss --out x.csr
expect 3 "CKA_ALLOWED_MECHANISMS" csr create --key "$TOK;object=pss-only" --subject CN=x --out x.csr
check "no partial CSR" test ! -e x.csr
expect 2 "--sig-alg rsa-pss needs an RSA key, not EC P-256" csr create --key "$TOK;object=kg-ec" --subject CN=x --sig-alg rsa-pss --out x.csr
expect 2 "unsupported --sig-alg 'pss256'" csr create --key "$TOK;object=kg-rsa" --subject CN=x --sig-alg pss256 --out x.csr
# a manifest batch signs its requests with PSS too; an EC line is refused
# before any key is made, the RSA lines go on
printf '%s\n' '{"label":"mp-1","type":"rsa:2048","subject":"CN=mp1.example.com"}' \
	'{"label":"mp-ec","type":"ec:p256","subject":"CN=mpec.example.com"}' \
	'{"label":"mp-2","type":"rsa:3072","subject":"CN=mp2.example.com"}' >pss.jsonl
expect 1 "line 2 ('mp-ec'): --sig-alg rsa-pss needs an RSA key, not ec:p256" --json csr create --token "$TOK" --manifest pss.jsonl --out-dir pssreqs --sig-alg rsa-pss
equal "manifest PSS: made" "$(jq .generated out)" 2
for k in mp-1 mp-2; do
	check "$k: manifest PSS CSR verifies" openssl req -in "pssreqs/$k.csr" -verify -noout
	check "$k: manifest CSR is rsassaPss" bash -c "openssl req -in 'pssreqs/$k.csr' -noout -text | grep -q 'Signature Algorithm: rsassaPss'"
done
check "manifest PSS: no key for the EC line" test -z "$(block privkey mp-ec)"

# a pinpad reader (CKF_PROTECTED_AUTHENTICATION_PATH, played by the fault
# module): no PIN from any source, C_Login without one -- also the
# context-specific login of an always-auth key, once per signature -- and
# keygate never hands the host's PIN to a pad that refuses it
PAD="KEYGATE_MODULE=$SHIM KG_FAULT_TARGET=$KEYGATE_MODULE KG_FAULT_PINPAD=$KEYGATE_PIN KG_FAULT_LOG=$T/padlog"
rm -f padlog
KG_ENV="-u KEYGATE_PIN $PAD" expect 0 "" key gen --token "$TOK" --label pad-ec --type ec:p256
KG_ENV="-u KEYGATE_PIN $PAD" expect 0 "" csr create --key "$TOK;object=pad-ec" --subject CN=pad.example.com --out pad.csr
check "pinpad: CSR verifies" openssl req -in pad.csr -verify -noout
rm -f padlog
KG_ENV="-u KEYGATE_PIN $PAD" expect 0 "" cert sign --ca-key "$TOK;object=aa-ec" --ca-cert aa-ec.ca.pem --csr-dir reqs --out-dir pad-issued --jobs 3
n=0
for f in pad-issued/*.pem; do openssl verify -CAfile aa-ec.ca.pem "$f" >/dev/null 2>&1 && n=$((n + 1)); done
equal "pinpad always-auth batch: all issued and verified" "$n" 6
equal "pinpad: every login went through" "$(awk '$2 == "C_Login" && $3 != "0x0" && $3 != "0x100"' padlog | wc -l)" 0
equal "pinpad always-auth: a login per signature at least" "$(awk '$2 == "C_Login"' padlog | wc -l | awk '{ print ($1 >= 6) }')" 1
# a PIN given anyway is not passed to the pad
KG_ENV="$PAD" expect 0 "" csr create --key "$TOK;object=pad-ec" --subject CN=pad2.example.com --out pad2.csr
