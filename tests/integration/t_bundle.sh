#!/usr/bin/env bash
# bundle export (the export gate, against SoftHSM), bundle fallback ->
# a CA signs -> bundle assemble, and key decrypt.
. "$(dirname "$0")/lib.sh"
new_token ci
TOK=pkcs11:token=ci
cd "$T"
q() { "$@" >/dev/null 2>&1; }

# a CA made by openssl
q openssl req -x509 -newkey rsa:2048 -nodes -keyout root.key -out root.pem -subj "/CN=Test Root" -days 3650 \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
printf "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n" >ca.ext
q openssl req -new -newkey rsa:2048 -nodes -keyout int.key -out int.csr -subj "/CN=Test Intermediate"
q openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -CAcreateserial -out int.pem -days 1825 -extfile ca.ext
cat int.pem root.pem >chain.pem
printf "subjectAltName=DNS:api.example.com\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\nauthorityKeyIdentifier=keyid\n" >leaf.ext
sign() { q openssl x509 -req -in "$1" -CA int.pem -CAkey int.key -CAcreateserial -out "$2" -days 365 -extfile leaf.ext; }

# ---- the export gate ----------------------------------------------------
for l in locked:rsa:2048: open:rsa:2048:--exportable openec:ec:p256:--exportable; do
	IFS=: read -r label a b flag <<<"$l"
	expect 0 "" key gen --token $TOK --label "$label" --type "$a:$b" $flag
	expect 0 "" csr create --key "$TOK;object=$label" --subject CN=api.example.com --out "$label.csr"
	sign "$label.csr" "$label.pem"
done

# a default (sensitive, non-extractable) key is refused; nothing written
expect 1 "bundle fallback" --json bundle export --key "$TOK;object=locked" --cert locked.pem --chain chain.pem --out out-locked
equal "refused key: codes" "$(jq -r '[.findings[].code] | join(",")' "$T/out")" "key-not-exportable"
check "refusal names the fallback" jq -e '.findings[0].hint | test("bundle fallback")' "$T/out"
check "refused: no directory written" test ! -e out-locked/private_key.pem

# refused for its chain, not its key: the findings say what to fix, and
# the software fallback (a new key) is not offered
expect 1 "fix what is listed and run it again" bundle export --key "$TOK;object=open" --cert open.pem --out out-nochain
check "a chain finding does not send to the fallback" bash -c "! grep -q 'bundle fallback' '$T/err'"
check "refused for the chain: nothing written" test ! -e out-nochain/private_key.pem

# an exportable RSA-2048 key exports, and the key is the certificate's
expect 0 "" bundle export --key "$TOK;object=open" --cert open.pem --chain chain.pem --out out-open
for f in certificate.pem private_key.pem certificate_chain.pem; do
	check "export wrote $f" test -s "out-open/$f"
done
equal "private key mode" "$(stat -c %a out-open/private_key.pem)" 600
check "an unencrypted PKCS#8 key" grep -q "^-----BEGIN PRIVATE KEY-----$" out-open/private_key.pem
equal "the key matches the certificate" \
	"$(openssl pkey -in out-open/private_key.pem -pubout | sha256sum)" \
	"$(openssl x509 -in out-open/certificate.pem -pubkey -noout | sha256sum)"
equal "the modulus matches" "$(openssl rsa -in out-open/private_key.pem -noout -modulus 2>/dev/null)" \
	"$(openssl x509 -in out-open/certificate.pem -noout -modulus)"
expect 0 "" bundle check --cert out-open/certificate.pem --key out-open/private_key.pem --chain out-open/certificate_chain.pem

# a token that refuses the read-out although the key's flags read as
# exportable (NSS's softokn does): the gate's finding, exit 1, nothing
# written -- not a token failure. The fault module refuses the read-out's
# first C_GetAttributeValue (the second-to-last of a good export's).
SHIM=${KG_BUILD:-$(dirname "$KEYGATE")}/tests/p11/libfaultp11.so
FENV="KEYGATE_MODULE=$SHIM KG_FAULT_TARGET=$KEYGATE_MODULE"
KG_ENV="$FENV KG_FAULT_LOG=$T/flog" expect 0 "" bundle export --key "$TOK;object=open" --cert open.pem --chain chain.pem --out out-probe
at=$(awk '$2 == "C_GetAttributeValue" { n[++c] = $1 } END { print n[c - 1] }' "$T/flog")
KG_ENV="$FENV KG_FAULT_AT=$at KG_FAULT_RV=0x11" expect 1 "" --json bundle export --key "$TOK;object=open" --cert open.pem --chain chain.pem --out out-refused
equal "read-out refused: the gate's code" "$(jq -r '[.findings[].code] | join(",")' "$T/out")" "key-not-exportable"
check "read-out refused: names CKR_ATTRIBUTE_SENSITIVE" jq -e '.findings[0].message | test("CKR_ATTRIBUTE_SENSITIVE")' "$T/out"
check "read-out refused: nothing written" test ! -e out-refused/private_key.pem
expect 4 "exists; use --force" bundle export --key "$TOK;object=open" --cert open.pem --chain chain.pem --out out-open
: >not-a-dir
expect 4 "'not-a-dir' is not a directory" bundle export --key "$TOK;object=open" --cert open.pem --chain chain.pem --out not-a-dir
expect 0 "" bundle export --key "$TOK;object=open" --cert open.pem --chain chain.pem --out out-open --force

# an exportable EC key: refused for integrated services, fine for ACM
expect 1 "" --json bundle export --key "$TOK;object=openec" --cert openec.pem --chain chain.pem --out out-ec
equal "EC under acm-integrated" "$(jq -r '[.findings[].code] | join(",")' "$T/out")" "key-algorithm"
check "EC refused: nothing written" test ! -e out-ec/private_key.pem
expect 0 "" bundle export --for acm --key "$TOK;object=openec" --cert openec.pem --chain chain.pem --out out-ec
equal "EC key matches" "$(openssl pkey -in out-ec/private_key.pem -pubout | sha256sum)" \
	"$(openssl x509 -in out-ec/certificate.pem -pubkey -noout | sha256sum)"

# the certificate checks run for token keys too: the wrong certificate
expect 1 "" --json bundle export --key "$TOK;object=open" --cert locked.pem --chain chain.pem --out out-wrong
equal "wrong certificate" "$(jq -r '[.findings[].code] | join(",")' "$T/out")" "key-mismatch"
expect 2 "needs --key pkcs11:URI" bundle export --key open.key --cert open.pem --out x
expect 3 "no private key matches" bundle export --key "$TOK;object=nosuch" --cert open.pem --out x

# ---- the software fallback -> CA -> assemble ------------------------------
expect 0 "" bundle fallback --subject "CN=api.example.com,O=Example" --out fb
equal "fallback key mode" "$(stat -c %a fb/private_key.pem)" 600
check "fallback key is unencrypted PKCS#8" grep -q "^-----BEGIN PRIVATE KEY-----$" fb/private_key.pem
check "fallback key is RSA 2048" bash -c "openssl pkey -in fb/private_key.pem -noout -text | grep -q '2048 bit'"
check "fallback CSR verifies" openssl req -in fb/request.csr -verify -noout
sign fb/request.csr fb-signed.pem
# what a CA hands out: root first, blank lines, text, the leaf in the chain
{ echo "Your certificate is below."; echo; cat root.pem; echo; cat fb-signed.pem; echo "  "; cat int.pem; } >ca-bundle.txt
expect 0 "" bundle assemble --cert ca-bundle.txt --key fb/private_key.pem --out assembled
check "assembled: leaf" cmp <(openssl x509 -in assembled/certificate.pem -noout -fingerprint) <(openssl x509 -in fb-signed.pem -noout -fingerprint)
equal "assembled chain: intermediate then root" \
	"$(openssl crl2pkcs7 -nocrl -certfile assembled/certificate_chain.pem | openssl pkcs7 -print_certs -noout | grep subject= | tr '\n' '|')" \
	"subject=CN = Test Intermediate|subject=CN = Test Root|"
equal "assembled key mode" "$(stat -c %a assembled/private_key.pem)" 600
expect 0 "" bundle check --cert assembled/certificate.pem --key assembled/private_key.pem --chain assembled/certificate_chain.pem
check "assembled chain verifies (openssl)" openssl verify -CAfile root.pem -untrusted int.pem assembled/certificate.pem

# assemble refuses what would not import, and writes nothing
expect 1 "" --json bundle assemble --cert fb-signed.pem --key fb/private_key.pem --out refused
equal "no chain: chain-missing" "$(jq -r '[.findings[].code] | join(",")' "$T/out")" "chain-missing"
check "refused: nothing written" test ! -e refused/certificate.pem
openssl pkcs8 -topk8 -in fb/private_key.pem -passout pass:x -out fb-enc.pem 2>/dev/null
expect 1 "" --json bundle assemble --cert ca-bundle.txt --key fb-enc.pem --out refused
equal "encrypted key: key-encrypted" "$(jq -r '[.findings[].code] | join(",")' "$T/out")" "key-encrypted"
check "refused: nothing written" test ! -e refused/private_key.pem

# fallback refuses what the target refuses
expect 2 "not accepted for acm-integrated" bundle fallback --subject CN=x.example.com --type ec:p256 --out fb2
check "refused fallback wrote nothing" test ! -e fb2/private_key.pem
expect 0 "" bundle fallback --for acm --subject CN=x.example.com --type ec:p256 --out fb2
expect 2 "needs --subject DN and --out DIR" bundle fallback --subject CN=x
expect 4 "exists" bundle fallback --subject CN=x.example.com --out fb

# ---- key decrypt ----------------------------------------------------------
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out plain.pem 2>/dev/null
openssl pkcs8 -topk8 -in plain.pem -passout pass:hunter2 -out enc8.pem 2>/dev/null
openssl rsa -in plain.pem -aes256 -traditional -passout pass:hunter2 -out enc1.pem 2>/dev/null
echo hunter2 >pass.txt
for k in enc8 enc1; do
	expect 0 "" key decrypt $k.pem --out $k-plain.pem --passphrase-source file:pass.txt
	equal "$k decrypted = openssl pkcs8 -nocrypt" "$(cat $k-plain.pem)" \
		"$(openssl pkcs8 -topk8 -nocrypt -in $k.pem -passin pass:hunter2)"
	equal "$k mode" "$(stat -c %a $k-plain.pem)" 600
done
echo wrong >wrong.txt
expect 1 "wrong passphrase" key decrypt enc8.pem --out w.pem --passphrase-source file:wrong.txt
check "wrong passphrase: nothing written" test ! -e w.pem
expect 2 "is encrypted" key decrypt enc8.pem --out w.pem
expect 2 "needs --out FILE" key decrypt enc8.pem
KG_ENV="KPASS=hunter2" expect 0 "" key decrypt enc8.pem --out e.pem --passphrase-source env:KPASS
