#!/usr/bin/env bash
# The token's whole life (issue 12): certificates on the token beside
# their keys, token certificate URIs wherever a certificate is read, every
# object listed, public keys exported, objects deleted (asked for, audited),
# key gen --force retiring the old key's certificate. Read back with
# pkcs11-tool and checked with openssl.
. "$(dirname "$0")/lib.sh"
command -v pkcs11-tool >/dev/null || { echo "SKIP: no pkcs11-tool"; exit 77; }
new_token ci
TOK=pkcs11:token=ci
AUD=$T/audit.jsonl
cd "$T"
P11() { pkcs11-tool --module "$KEYGATE_MODULE" --token-label ci --login --pin "$KEYGATE_PIN" "$@" 2>/dev/null; }
# count CLASS LABEL: objects pkcs11-tool lists of that class and label
count() {
	P11 --list-objects --type "$1" | awk -v L="$2" '/label:/ { if ($2 == L) n++ } END { print n + 0 }'
}

# ---- keys, a CA, certificates ----------------------------------------------
expect 0 "" --audit "$AUD" key gen --token "$TOK" --label ca --type ec:p256
expect 0 "" --audit "$AUD" cert selfsign --key "$TOK;object=ca" --subject "CN=Life CA" --profile ca --out ca.pem
for k in web:ec:p256 api:rsa:2048 ed:ed25519; do
	IFS=: read -r l t1 t2 <<<"$k"
	expect 0 "" --audit "$AUD" key gen --token "$TOK" --label "$l" --type "$t1${t2:+:$t2}"
	expect 0 "" csr create --key "$TOK;object=$l" --subject "CN=$l.example.com" --out "$l.csr"
	expect 0 "" --audit "$AUD" cert sign --ca-key "$TOK;object=ca" --ca-cert ca.pem --csr "$l.csr" --profile server --out "$l.pem"
done

# ---- cert import -------------------------------------------------------------
expect 0 "" --audit "$AUD" cert import web.pem --token "$TOK"
check "import prints the certificate's URI" grep -q '^pkcs11:.*object=web;type=cert' out
equal "web: one certificate, the key's label" "$(count cert web)" 1
kid=$(P11 --list-objects --type privkey | awk '/label:/ { l = $2 } /ID:/ { if (l == "web") print $2 }')
cid=$(P11 --list-objects --type cert | awk '/label:/ { l = $2 } /ID:/ { if (l == "web") print $2 }')
equal "web: the certificate has the key's CKA_ID" "$cid" "$kid"
check "the certificate on the token is the file's" bash -c "pkcs11-tool --module '$KEYGATE_MODULE' --token-label ci --read-object --type cert --label web 2>/dev/null | openssl x509 -inform DER | cmp -s - <(openssl x509 -in web.pem)"
expect 0 "" --json cert import api.pem --token "$TOK" --label api-cert
equal "--label names it" "$(jq -r '.uri | test("object=api-cert")' out)" true
check "--json names the key it pairs with" jq -e '.key | test("object=api;type=private")' out
expect 0 "" cert import ed.pem --token "$TOK"
# refused: the same certificate again, a label taken, a file of two, a
# certificate no key on the token carries (unless --label: a CA's)
expect 1 "is on token 'ci' already" cert import web.pem --token "$TOK"
equal "refused duplicate: still one" "$(count cert web)" 1
expect 0 "" cert sign --ca-key "$TOK;object=ca" --ca-cert ca.pem --csr api.csr --profile server --out api2.pem
expect 1 "another certificate on token 'ci' has the label 'web'" cert import api2.pem --token "$TOK" --label web
cat web.pem api.pem >two.pem
expect 2 "holds 2 certificates; import one at a time" cert import two.pem --token "$TOK"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other.key -subj /CN=other -days 30 -out other.pem 2>/dev/null
expect 3 "no key on token 'ci' carries the public key of 'other.pem'" cert import other.pem --token "$TOK"
equal "no orphan certificate made" "$(count cert other)" 0
expect 0 "" cert import other.pem --token "$TOK" --label other
check "--label: kept without a key" grep -q "(no key)" err
expect 0 "" cert import ca.pem --token "$TOK" --label life-ca
expect 2 "" cert import missing.pem --token "$TOK"
expect 2 "cert import needs FILE and --token URI" cert import web.pem

# ---- a token certificate URI wherever a certificate is read --------------------
WEBC="$TOK;object=web;type=cert"
expect 0 "" cert show "$WEBC"
check "cert show: the token certificate decoded" grep -q "Subject: CN = web.example.com" out
expect 0 "" --json cert expiry "$WEBC"
expect 0 "" chain verify --truststore ca.pem --cert "$WEBC" --purpose server
expect 0 "" chain verify --truststore "$TOK;object=life-ca;type=cert" --cert "$WEBC" --purpose server
# the CA certificate from the token for issuing
expect 0 "" cert sign --ca-key "$TOK;object=ca" --ca-cert "$TOK;object=life-ca;type=cert" --csr web.csr --profile server --out web2.pem
check "issued with a token CA certificate verifies" openssl verify -CAfile ca.pem web2.pem
# one certificate asked for, two match: an error listing both
expect 0 "" cert import web2.pem --token "$TOK" --label web-2
expect 3 "certificates match" cert sign --ca-key "$TOK;object=ca" --ca-cert "$TOK;type=cert" --csr web.csr --out web3.pem
check "ambiguous --ca-cert lists the candidates" grep -q "object=web-2;type=cert" err
check "ambiguous: no file" test ! -e web3.pem
expect 3 "no certificate on the token matches" cert show "$TOK;object=nothing;type=cert"
# a URI's pin-value= is never printed back, human or JSON
expect 0 "" cert show "$WEBC?pin-value=$KEYGATE_PIN"
check "cert show: no pin-value printed" bash -c "! grep -q pin-value '$T/out' '$T/err'"
expect 0 "" --json cert show "$WEBC?pin-value=$KEYGATE_PIN"
check "cert show --json: no pin-value" bash -c "! grep -q pin-value '$T/out'"
expect 1 "" --json bundle check --cert "$WEBC?pin-value=$KEYGATE_PIN" --key other.key --for acm
check "bundle check --json: no pin-value in findings" bash -c "! grep -q pin-value '$T/out'"
# bundle check with the certificate and chain on the token
openssl req -x509 -newkey rsa:2048 -nodes -keyout sw.key -subj /CN=sw.example.com -days 300 \
	-addext subjectAltName=DNS:sw.example.com -addext keyUsage=critical,digitalSignature,keyEncipherment \
	-addext extendedKeyUsage=serverAuth -out sw.pem 2>/dev/null
expect 1 "" --json bundle check --cert "$WEBC" --key sw.key --chain "$TOK;object=life-ca;type=cert" --for acm
check "bundle check read the token certificate (and found the key does not match)" jq -e '[.findings[].code] | index("key-mismatch") != null' out
expect 0 "" --json mtls check --truststore ca.pem --cert "$TOK;object=api-cert;type=cert"
equal "mtls check: a token client certificate judged" "$(jq -r .decision out)" allow

# ---- object list -----------------------------------------------------------------
expect 0 "" --json object list --token "$TOK"
equal "object list: every object" "$(jq '.objects | length' out)" "$(P11 --list-objects | grep -c 'Object;')"
equal "web's private key pairs with its certificate" \
	"$(jq -r '.objects[] | select(.class == "private" and .label == "web") | .pair | test("object=web(-2)?;type=cert")' out)" true
equal "the CA certificate pairs with the CA key" \
	"$(jq -r '.objects[] | select(.label == "life-ca") | .pair | test("object=ca;type=private")' out)" true
equal "a certificate without a key pairs with nothing" \
	"$(jq -r '.objects[] | select(.label == "other") | .pair' out)" null
equal "ed25519 key typed EdDSA" "$(jq -r '.objects[] | select(.class == "private" and .label == "ed") | .type' out)" EdDSA
expect 0 "" --json object list --token "$TOK" --type cert
equal "--type cert: certificates only" "$(jq -r '[.objects[].class] | unique | join(",")' out)" cert
equal "--type cert: all of them" "$(jq '.objects | length' out)" "$(P11 --list-objects --type cert | grep -c 'Object;')"
expect 0 "" object list --token "$TOK"
check "human list: the certificate under its key" grep -q "^  + cert    web " out
expect 2 "unknown --type 'keys'" object list --token "$TOK" --type keys
expect 2 "object list needs --token URI" object list

# ---- key pubkey ---------------------------------------------------------------------
for l in web api ed; do
	expect 0 "" key pubkey "$TOK;object=$l"
	equal "$l: the public key is the certificate's" "$(openssl pkey -pubin -in out -outform DER | sha256sum)" \
		"$(openssl x509 -in "$l.pem" -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum)"
done
expect 0 "" key pubkey "$TOK;object=api" --out api.pub
check "--out: PEM SubjectPublicKeyInfo" grep -q "^-----BEGIN PUBLIC KEY-----$" api.pub
expect 4 "" key pubkey "$TOK;object=api" --out api.pub
expect 4 "" --json key pubkey "$TOK;object=api" --out /proc/kg-no-such/x.pub
equal "key pubkey --json failing: one JSON document, the error" "$(jq -s -c '[length, (.[0] | has("error"))]' out)" "[1,true]"
expect 3 "no private key matches" key pubkey "$TOK;object=nothing"
expect 2 "needs a pkcs11: key URI" key pubkey api.pub

# ---- key gen --force retires the old key's certificate ---------------------------------
expect 0 "" --audit "$AUD" key gen --token "$TOK" --label web --type ec:p256 --force
equal "--force: the old key's certificate went with it" "$(count cert web)" 0
check "--force: the retired certificate is named" grep -q "the old key's certificate was deleted with it: pkcs11:.*type=cert" err
equal "--force: the retired certificates on record" "$(grep -c '"op":"object-delete".*key gen --force' "$AUD")" 2
equal "--force: one private key 'web'" "$(count privkey web)" 1

# ---- deletion ---------------------------------------------------------------------------
# a URI of the public key or the certificate is not taken as the pair's
expect 2 "names a public object" key delete "$TOK;object=api;type=public" --yes
expect 2 "names a cert object" key delete "$TOK;object=api-cert;type=cert" --yes
equal "a public key's URI deletes nothing" "$(count privkey api)$(count pubkey api)" 11
# object delete needs an object named, not a whole token
expect 2 "names an object" object delete "$TOK" --yes
# no terminal and no --yes: nothing goes
expect 2 "give --yes" key delete "$TOK;object=api"
equal "nothing deleted without --yes" "$(count privkey api)" 1
# without --with-cert the certificate stays, and the warning says so
expect 0 "" --audit "$AUD" key delete "$TOK;object=ed" --yes
check "deletion lists what goes" grep -q "to be deleted:" err
check "the certificate staying is said" grep -q "give --with-cert" err
equal "ed: private key gone" "$(count privkey ed)" 0
equal "ed: public key gone" "$(count pubkey ed)" 0
equal "ed: certificate kept" "$(count cert ed)" 1
expect 0 "" --audit "$AUD" --json key delete "$TOK;object=api" --with-cert --yes
equal "api: three objects deleted" "$(jq '.deleted | length' out)" 3
equal "api: nothing left" "$(($(count privkey api) + $(count pubkey api) + $(count cert api-cert)))" 0
expect 3 "no private key matches" key delete "$TOK;object=api" --yes
# object delete: exactly one object
expect 3 "no object matches" object delete "$TOK;object=nothing" --yes
expect 0 "" key gen --token "$TOK" --label twin --type ec:p256
expect 3 "matches 2 objects" object delete "$TOK;object=twin" --yes
check "ambiguous: both URIs listed" bash -c "grep -q 'type=private' '$T/err' && grep -q 'type=public' '$T/err'"
expect 0 "" --audit "$AUD" object delete "$TOK;object=ed;type=cert" --yes
equal "object delete: the certificate gone" "$(count cert ed)" 0
equal "object delete: twin untouched" "$(count privkey twin)" 1
# every deletion on record, and the chain holds
equal "audit: a record per deleted object (and per retired certificate)" "$(grep -c '"op":"\(key\|object\)-delete"' "$AUD")" 8
expect 0 "" audit verify "$AUD"
equal "audit: the import recorded" "$(grep -c '"op":"cert-import"' "$AUD")" 1
