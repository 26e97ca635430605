#!/usr/bin/env bash
# bundle check --mtls-domain (issue 14): API Gateway's rules for an
# imported certificate on a mutual-TLS custom domain, over certificates
# made by the openssl CLI at test time: wildcards, ownership verification
# certificates from an Amazon-named CA and from another, expired and
# short-lived ones, a reimport from another CA, the ownership certificate
# equal to the certificate, the passing case, and --json codes.
. "$(dirname "$0")/lib.sh"
cd "$T"
q() { "$@" >/dev/null 2>&1; }

# ---- CAs ----------------------------------------------------------------
ca() { # ca NAME SUBJ: a self-signed CA, NAME.key NAME.pem
	q openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.pem" -subj "$2" -days 3650 \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
}
ca root "/CN=Test Root"
ca otherroot "/CN=Other Root/O=Example"
ca amazon "/C=US/O=Amazon/CN=Amazon RSA 2048 M01"
ca notamazon "/C=US/O=Example/CN=Example RSA CA"

# cert NAME CA DAYS SUBJ SAN: NAME.key, NAME.pem (a server certificate)
cert() {
	local name=$1 ca=$2 days=$3 subj=$4 san=$5
	printf "subjectAltName=%s\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\nauthorityKeyIdentifier=keyid\n" "$san" >"$name.ext"
	q openssl req -new -newkey rsa:2048 -nodes -keyout "$name.key" -out "$name.csr" -subj "$subj"
	q openssl x509 -req -in "$name.csr" -CA "$ca.pem" -CAkey "$ca.key" -CAcreateserial -out "$name.pem" \
		-days "$days" -extfile "$name.ext"
}
# the certificates to import (365 days), from Test Root
cert api root 365 "/CN=api.example.com" "DNS:api.example.com"
cert wild root 365 "/CN=*.example.com" "DNS:*.example.com"
cert multi root 365 "/CN=api.example.com" "DNS:api.example.com,DNS:extra.example.org"
cert cnonly root 365 "/CN=api.example.com" "DNS:www.example.com"
# the same name from another CA: a reimport that changes the issuer
cert newca otherroot 365 "/CN=api.example.com" "DNS:api.example.com"
# ownership verification certificates
cert own amazon 730 "/CN=api.example.com" "DNS:api.example.com"
cert ownwild amazon 730 "/CN=*.example.com" "DNS:*.example.com,DNS:example.com"
cert ownshort amazon 30 "/CN=api.example.com" "DNS:api.example.com"
cert ownother notamazon 730 "/CN=api.example.com" "DNS:api.example.com"
cert ownshort-other notamazon 30 "/CN=api.example.com" "DNS:api.example.com"

# case NAME WANT_RC "codes,sorted" bundle-check-args...
case_() {
	local name=$1 want=$2 codes=$3
	shift 3
	kg --json bundle check "$@"
	local got
	got=$(jq -r '[.findings[].code] | unique | join(",")' "$T/out" 2>/dev/null || echo "not-json")
	if [ "$RC" -eq "$want" ] && [ "$got" = "$codes" ]; then ok; else
		bad "$name: rc $RC (want $want), codes '$got' (want '$codes'); stderr $(head -c 400 "$T/err")"; fi
}
API=(--cert api.pem --key api.key --chain root.pem)
WILD=(--cert wild.pem --key wild.key --chain root.pem)

# ---- passing ------------------------------------------------------------
case_ "api + ACM ownership certificate: pass" 0 "" "${API[@]}" --mtls-domain api.example.com --ownership-cert own.pem
check "--json names the domain" jq -e '.verdict == "pass" and .mtls_domain == "api.example.com"' out
case_ "domain name in any case" 0 "" "${API[@]}" --mtls-domain API.Example.COM --ownership-cert own.pem
case_ "wildcard certificate, wildcard ownership" 0 "" "${WILD[@]}" --mtls-domain api.example.com --ownership-cert ownwild.pem
case_ "ownership wildcard covers the certificate's name" 0 "" "${API[@]}" --mtls-domain api.example.com --ownership-cert ownwild.pem
case_ "same-issuer reimport" 0 "" "${API[@]}" --replaces api.pem --mtls-domain api.example.com --ownership-cert own.pem
case_ "without --mtls-domain: no mtls rules" 0 "" "${API[@]}" --replaces newca.pem
expect 0 "" bundle check "${API[@]}" --mtls-domain api.example.com --ownership-cert own.pem
check "human output passes" grep -q "PASS" out

# ---- the domain not covered -------------------------------------------------
case_ "wildcard does not cover the bare domain" 1 "mtls-domain-not-covered" "${WILD[@]}" --mtls-domain example.com --ownership-cert ownwild.pem
case_ "wildcard does not cover two labels" 1 "mtls-domain-not-covered" "${WILD[@]}" --mtls-domain a.b.example.com --ownership-cert ownwild.pem
case_ "another domain" 1 "mtls-domain-not-covered" "${API[@]}" --mtls-domain shop.example.com --ownership-cert own.pem
check "not-covered names the status" jq -e '.findings[0].message | test("PENDING_CERTIFICATE_REIMPORT")' out
check "not-covered names the certificate's names and the domain" jq -e '.findings[0].message | test("DNS:api.example.com") and test("shop.example.com")' out
check "not-covered is about the certificate" jq -e '.findings[0].input == "api.pem" and .findings[0].subject == "CN=api.example.com"' out
case_ "the subject CN covers the domain" 1 "mtls-ownership-not-covered" --cert cnonly.pem --key cnonly.key --chain root.pem --mtls-domain api.example.com --ownership-cert own.pem

# ---- the ownership certificate ------------------------------------------------
case_ "no --ownership-cert: a warning" 0 "mtls-ownership-missing" "${API[@]}" --mtls-domain api.example.com
check "missing is a warning" jq -e '.verdict == "pass" and .findings[0].severity == "warning"' out
case_ "a SAN the ownership certificate does not cover" 1 "mtls-ownership-not-covered" --cert multi.pem --key multi.key --chain root.pem --mtls-domain api.example.com --ownership-cert own.pem
check "not-covered names the SAN and the status" jq -e '.findings[0].message | test("DNS:extra.example.org") and test("PENDING_CERTIFICATE_REIMPORT")' out
case_ "a wildcard SAN a plain ownership name does not cover" 1 "mtls-ownership-not-covered" "${WILD[@]}" --mtls-domain api.example.com --ownership-cert own.pem
case_ "ownership expires before the certificate: a warning" 0 "mtls-ownership-expired" "${API[@]}" --mtls-domain api.example.com --ownership-cert ownshort.pem
check "expiring-before is a warning naming PENDING_OWNERSHIP_VERIFICATION" jq -e '.findings[0].severity == "warning" and (.findings[0].message | test("PENDING_OWNERSHIP_VERIFICATION"))' out
LATER=$(date -u -d "+60 days" +%Y-%m-%dT%H:%M:%SZ)
case_ "ownership expired at --at: an error" 1 "mtls-ownership-expired" --at "$LATER" "${API[@]}" --mtls-domain api.example.com --ownership-cert ownshort.pem
check "expired is an error about the ownership certificate" jq -e '.findings[0].severity == "error" and .findings[0].input == "ownshort.pem" and (.findings[0].message | test("PENDING_OWNERSHIP_VERIFICATION"))' out
EARLIER=$(date -u -d "-2 days" +%Y-%m-%dT%H:%M:%SZ)
kg --json --at "$EARLIER" bundle check "${API[@]}" --mtls-domain api.example.com --ownership-cert own.pem
check "not yet valid at --at: mtls-ownership-expired error" jq -e '[.findings[] | select(.code == "mtls-ownership-expired" and .severity == "error")] | length == 1' out
case_ "ownership from a non-Amazon CA: a warning" 0 "mtls-ownership-not-acm" "${API[@]}" --mtls-domain api.example.com --ownership-cert ownother.pem
check "not-acm names the issuer" jq -e '.findings[0].severity == "warning" and (.findings[0].message | test("Example RSA CA"))' out
case_ "the ownership certificate is the certificate" 1 "mtls-ownership-not-acm,mtls-ownership-reused" "${API[@]}" --mtls-domain api.example.com --ownership-cert api.pem
case_ "ownership certificate not PEM" 1 "pem-invalid" "${API[@]}" --mtls-domain api.example.com --ownership-cert api.key
# it is in ACM already, not imported: DER, or text around it, is fine
openssl x509 -in own.pem -outform DER -out own.der
case_ "ownership certificate in DER" 0 "" "${API[@]}" --mtls-domain api.example.com --ownership-cert own.der
{ echo "from ACM:"; sed 's/$/ /' own.pem; } >own-text.pem
case_ "ownership certificate with text and trailing blanks" 0 "" "${API[@]}" --mtls-domain api.example.com --ownership-cert own-text.pem

# ---- a reimport ----------------------------------------------------------------
case_ "reimport from another CA" 1 "mtls-reimport-issuer" --cert newca.pem --key newca.key --chain otherroot.pem --replaces api.pem --mtls-domain api.example.com --ownership-cert own.pem
check "reimport-issuer names both issuers" jq -e '.findings[0].message | test("Other Root") and test("Test Root")' out
case_ "every rule at once" 1 "mtls-domain-not-covered,mtls-ownership-expired,mtls-ownership-not-acm,mtls-ownership-not-covered,mtls-reimport-issuer" \
	--at "$LATER" --cert multi.pem --key multi.key --chain root.pem --replaces newca.pem --mtls-domain shop.example.com --ownership-cert ownshort-other.pem
expect 1 "" bundle check --cert newca.pem --key newca.key --chain otherroot.pem --replaces api.pem --mtls-domain api.example.com --ownership-cert own.pem
check "human output lists mtls-reimport-issuer" grep -q "error   mtls-reimport-issuer" out

# ---- usage ------------------------------------------------------------------
expect 2 "--ownership-cert goes with --mtls-domain" bundle check "${API[@]}" --ownership-cert own.pem
expect 2 "is not a domain name" bundle check "${API[@]}" --mtls-domain "not a domain"
expect 2 "is not a domain name" bundle check "${API[@]}" --mtls-domain localhost
expect 2 "is not a domain name" bundle check "${API[@]}" --mtls-domain "a..example.com"
expect 2 "is not a domain name" bundle check "${API[@]}" --mtls-domain 10.0.0.1
expect 2 "" bundle check "${API[@]}" --mtls-domain api.example.com --ownership-cert missing.pem
kg --json bundle check "${API[@]}" --mtls-domain "bad domain"
check "usage error in JSON" jq -e '.error.code == 2' out

# ---- the ownership certificate on a token ------------------------------------
if command -v softhsm2-util >/dev/null; then
	new_token ci
	expect 0 "" cert import own.pem --token pkcs11:token=ci --label own
	case_ "--ownership-cert as a token certificate URI" 0 "" "${API[@]}" --mtls-domain api.example.com \
		--ownership-cert "pkcs11:token=ci;object=own;type=cert"
	expect 3 "no certificate on the token matches" bundle check "${API[@]}" --mtls-domain api.example.com \
		--ownership-cert "pkcs11:token=ci;object=nothing;type=cert"
fi
