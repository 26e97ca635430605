#!/usr/bin/env bash
# cert revoke, crl create, audit show: the audit log as the CA's
# database. Three certificates issued on a SoftHSM token, two revoked, a
# CRL signed on the token that openssl and chain verify accept and apply,
# CRL numbers that increase, and every refusal: an unknown serial, a
# second revocation, a key that is not the certificate's, an edited log,
# no log at all.
. "$(dirname "$0")/lib.sh"
new_token ca
expect 0 "" token init --label other
cd "$T"
q() { "$@" >/dev/null 2>&1; }
export KEYGATE_AUDIT=$T/audit.jsonl
CA="pkcs11:token=ca;object=ca"
OTHER="pkcs11:token=other;object=other"
serial() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }
crlnum() { openssl crl -in "$1" -noout -text | grep -A1 "CRL Number" | tail -1 | tr -d ' '; }
records() { wc -l <"$KEYGATE_AUDIT"; }

expect 0 "" key gen --token pkcs11:token=ca --label ca --type ec:p256
expect 0 "" cert selfsign --key "$CA" --subject "CN=CRL Test CA,O=Example" --profile ca --out ca.pem
expect 0 "" key gen --token pkcs11:token=other --label other --type rsa:2048
expect 0 "" cert selfsign --key "$OTHER" --subject "CN=Other CA" --profile ca --out other.pem
for i in 1 2 3; do
	q openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout l$i.key -out l$i.csr -subj /CN=l$i.example.com
	expect 0 "" cert sign --ca-key "$CA" --ca-cert ca.pem --csr l$i.csr --profile client --out l$i.pem
done
expect 0 "" cert sign --ca-key "$OTHER" --ca-cert other.pem --csr l1.csr --out o1.pem
S1=$(serial l1.pem) S2=$(serial l2.pem) S3=$(serial l3.pem) SO=$(serial o1.pem)
check "cert-issue records name the issuer and its key" jq -e -s \
	'[.[] | select(.op == "cert-issue")] | length == 4 and all(.issuer != null and (.issuer_spki_sha256 | length) == 64)' audit.jsonl
equal "the issuer recorded" "$(jq -r 'select(.op == "cert-issue") | .issuer' audit.jsonl | head -1)" "CN=CRL Test CA,O=Example"
check "other records keep their shape" jq -e -s '[.[] | select(.op == "key-gen")] | all(has("issuer") | not)' audit.jsonl
# a log kept so far, before any revocation (for the old-log case below)
cp audit.jsonl before.jsonl

# a CRL with nothing revoked yet: number 1
expect 0 "" crl create --ca-key "$CA" --ca-cert ca.pem --out crl1.pem
check "CRL 1: openssl crl -verify" openssl crl -in crl1.pem -CAfile ca.pem -verify -noout
equal "CRL 1: number 1" "$(crlnum crl1.pem)" 1
check "CRL 1: no entries" bash -c "openssl crl -in crl1.pem -noout -text | grep -q 'No Revoked Certificates'"

# revoke two, with reasons; the serial in another spelling
expect 0 "" cert revoke --ca-key "$CA" --ca-cert ca.pem --serial "$S1" --reason keyCompromise
check "revoke: says what" grep -q "^revoked $S1 (CN=l1.example.com): keyCompromise" "$T/out"
S2c=$(echo "$S2" | tr A-F a-f | sed 's/../&:/g; s/:$//')
expect 0 "" --json cert revoke --ca-key "$CA" --ca-cert ca.pem --serial "$S2c" --reason Superseded
check "revoke --json" jq -e --arg s "$S2" '.ok and .serial == $s and .reason == "superseded" and .subject == "CN=l2.example.com" and (.revoked_at | test("Z$"))' "$T/out"
check "the revocation is on record" jq -e -s --arg s "$S1" \
	'[.[] | select(.op == "cert-revoke" and .serial == $s)] | length == 1 and .[0].reason == "keyCompromise" and .[0].issuer == "CN=CRL Test CA,O=Example"' audit.jsonl
expect 0 "" audit verify audit.jsonl

# refusals of cert revoke; none of them writes a record
n=$(records)
expect 1 "already revoked" cert revoke --ca-key "$CA" --ca-cert ca.pem --serial "$S1" --reason superseded
expect 1 "no certificate with serial DEADBEEF" cert revoke --ca-key "$CA" --ca-cert ca.pem --serial deadbeef
check "unknown serial: says what to do" grep -q "audit show" "$T/err"
expect 1 "no certificate with serial" --json cert revoke --ca-key "$CA" --ca-cert ca.pem --serial "$SO"
check "unknown serial: JSON error envelope" jq -e '.error.code == 1 and (.error.message | test("issued by"))' "$T/out"
expect 1 "not the CA certificate's key" cert revoke --ca-key "$OTHER" --ca-cert ca.pem --serial "$S3"
expect 2 "bad --serial" cert revoke --ca-key "$CA" --ca-cert ca.pem --serial "xyz"
expect 2 "unknown --reason" cert revoke --ca-key "$CA" --ca-cert ca.pem --serial "$S3" --reason compromised
expect 2 "removeFromCRL" cert revoke --ca-key "$CA" --ca-cert ca.pem --serial "$S3" --reason certificateHold
expect 2 "needs --ca-key" cert revoke --ca-cert ca.pem --serial "$S3"
expect 2 "in the future" --at 2099-01-01T00:00:00Z cert revoke --ca-key "$CA" --ca-cert ca.pem --serial "$S3"
expect 2 "before serial $S3 was issued" --at 2020-01-01T00:00:00Z cert revoke --ca-key "$CA" --ca-cert ca.pem --serial "$S3"
KG_ENV="-u KEYGATE_AUDIT" expect 2 "give --audit FILE or set KEYGATE_AUDIT" cert revoke --ca-key "$CA" --ca-cert ca.pem --serial "$S3"
check "no log: one line" test "$(wc -l <"$T/err")" -eq 1
expect 2 "cannot open the audit log" --audit nosuch.jsonl cert revoke --ca-key "$CA" --ca-cert ca.pem --serial "$S3"
check "no log made" test ! -e nosuch.jsonl
q openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout soft.key -out soft.pem -subj /CN=Soft -addext basicConstraints=critical,CA:TRUE
expect 2 "is a file" cert revoke --ca-key soft.key --ca-cert soft.pem --serial "$S3"
equal "refusals record nothing" "$(records)" "$n"

# the CRL: both revocations, reasons, number 2, nextUpdate = thisUpdate + 10 days
expect 0 "" crl create --ca-key "$CA" --ca-cert ca.pem --days 10 --out crl2.pem
check "CRL 2: openssl crl -verify" openssl crl -in crl2.pem -CAfile ca.pem -verify -noout
openssl crl -in crl2.pem -noout -text >crl2.txt
equal "CRL 2: number 2" "$(crlnum crl2.pem)" 2
check "CRL 2: version 2" grep -q "Version 2" crl2.txt
equal "CRL 2: two entries" "$(grep -c 'Serial Number' crl2.txt)" 2
check "CRL 2: $S1" grep -q "Serial Number: $S1" crl2.txt
check "CRL 2: reason keyCompromise" grep -q "Key Compromise" crl2.txt
check "CRL 2: reason superseded" grep -q "Superseded" crl2.txt
check "CRL 2: the good one is not in it" bash -c "! grep -q $S3 crl2.txt"
lu=$(openssl crl -in crl2.pem -noout -lastupdate | cut -d= -f2)
nu=$(openssl crl -in crl2.pem -noout -nextupdate | cut -d= -f2)
equal "nextUpdate = thisUpdate + 10 days" "$(($(date -d "$nu" +%s) - $(date -d "$lu" +%s)))" 864000
equal "CRL AKI = the CA's SKI" "$(grep -A1 'Authority Key Identifier' crl2.txt | tail -1 | tr -d ' ')" \
	"$(openssl x509 -in ca.pem -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' ')"
check "the crl record: number and hash" jq -e -s --arg h "$(sha256sum crl2.pem | cut -c1-64)" \
	'[.[] | select(.op == "crl")] | .[-1] | .crl_number == "2" and .sha256 == $h and .out == "crl2.pem"' audit.jsonl

# openssl verify -crl_check and chain verify --crl agree
for i in 1 2; do
	if openssl verify -crl_check -CRLfile crl2.pem -CAfile ca.pem l$i.pem >v.out 2>&1; then
		bad "openssl verify -crl_check accepted revoked l$i.pem"
	else
		check "openssl: l$i certificate revoked" grep -q "certificate revoked" v.out
	fi
	expect 1 "revoked" chain verify --truststore ca.pem --cert l$i.pem --crl crl2.pem
done
check "openssl: l3 OK" openssl verify -crl_check -CRLfile crl2.pem -CAfile ca.pem l3.pem
expect 0 "" chain verify --truststore ca.pem --cert l3.pem --crl crl2.pem

# CRL numbers increase; --json without --out carries the PEM; stdout works
expect 0 "" crl create --ca-key "$CA" --ca-cert ca.pem --out crl3.pem
equal "CRL 3: number 3" "$(crlnum crl3.pem)" 3
expect 0 "" --json crl create --ca-key "$CA" --ca-cert ca.pem --days 7
check "crl create --json" jq -e '.ok and .crl_number == 4 and (.revoked | length) == 2 and .days == 7 and (.pem | startswith("-----BEGIN X509 CRL"))' "$T/out"
jq -r .pem "$T/out" >crl4.pem
equal "the JSON's CRL is number 4" "$(crlnum crl4.pem)" 4
expect 0 "" crl create --ca-key "$CA" --ca-cert ca.pem
cp "$T/out" crl5.pem
equal "CRL to stdout: number 5" "$(crlnum crl5.pem)" 5
# the CA certificate on the token, beside its key, works as --ca-cert
expect 0 "" cert import ca.pem --token pkcs11:token=ca
expect 0 "" crl create --ca-key "$CA" --ca-cert "pkcs11:token=ca;object=ca;type=cert" --out crl6.pem
equal "CRL with a token CA certificate: number 6" "$(crlnum crl6.pem)" 6
check "CRL 6 verifies" openssl crl -in crl6.pem -CAfile ca.pem -verify -noout
# the other CA's numbers are its own
expect 0 "" crl create --ca-key "$OTHER" --ca-cert other.pem --out other.crl
equal "the other CA starts at 1" "$(crlnum other.crl)" 1
check "other CA's CRL verifies" openssl crl -in other.crl -CAfile other.pem -verify -noout

# refusals of crl create: nothing signed, nothing recorded, no file
n=$(records)
expect 1 "not the CA certificate's key" crl create --ca-key "$OTHER" --ca-cert ca.pem --out mismatch.crl
check "mismatch: no CRL" test ! -e mismatch.crl
KG_ENV="-u KEYGATE_AUDIT" expect 2 "give --audit FILE or set KEYGATE_AUDIT" crl create --ca-key "$CA" --ca-cert ca.pem --out x.crl
expect 2 "--at is not taken" --at 2026-01-01T00:00:00Z crl create --ca-key "$CA" --ca-cert ca.pem --out x.crl
expect 2 "bad --days" crl create --ca-key "$CA" --ca-cert ca.pem --days 0 --out x.crl
expect 4 "exists" crl create --ca-key "$CA" --ca-cert ca.pem --out crl2.pem
equal "refusals record nothing" "$(records)" "$n"

# an edited log: refused before anything is signed or recorded
sed 's/"reason":"superseded"/"reason":"unspecified"/' audit.jsonl >edited.jsonl
cmp -s audit.jsonl edited.jsonl && bad "the edit changed nothing"
cp edited.jsonl edited.orig
KG_ENV="KEYGATE_AUDIT=$T/edited.jsonl" expect 1 "does not verify" crl create --ca-key "$CA" --ca-cert ca.pem --out edited.crl
check "edited: no CRL" test ! -e edited.crl
check "edited: the log untouched" cmp -s edited.jsonl edited.orig
KG_ENV="KEYGATE_AUDIT=$T/edited.jsonl" expect 1 "does not verify" cert revoke --ca-key "$CA" --ca-cert ca.pem --serial "$S3"
grep -v '"op":"cert-revoke"' audit.jsonl >dropped.jsonl
KG_ENV="KEYGATE_AUDIT=$T/dropped.jsonl" expect 1 "does not follow" crl create --ca-key "$CA" --ca-cert ca.pem --out dropped.crl
expect 1 "does not verify" audit show edited.jsonl

# audit show: human and JSON
expect 0 "" audit show audit.jsonl --issued --revoked
equal "show: issued lines" "$(grep -c '^issued ' "$T/out")" 4
equal "show: revoked marks" "$(grep -c 'REVOKED$' "$T/out")" 2
equal "show: revoked lines" "$(grep -c '^revoked ' "$T/out")" 2
check "show: the summary" grep -q "4 issued, 2 revoked, 7 CRLs (last number 6)" "$T/out"
expect 0 "" --json audit show audit.jsonl --revoked --ca-cert ca.pem
check "show --revoked --json" jq -e --arg a "$S1" --arg b "$S2" \
	'.ok and .issued == null and ([.revoked[].serial] | sort) == ([$a, $b] | sort) and (.crls | length) == 6' "$T/out"
expect 0 "" --json audit show audit.jsonl --issued --ca-cert other.pem
check "show --issued for the other CA" jq -e --arg s "$SO" '(.issued | length) == 1 and .issued[0].serial == $s and .issued[0].revoked == false and .revoked == null' "$T/out"
expect 2 "cannot read" audit show nosuch.jsonl

# a log from before the issuer fields: matched by the CA key's token and id
rechain() {
	local prev l
	prev=0000000000000000000000000000000000000000000000000000000000000000
	while IFS= read -r l; do
		l=$(jq -c --arg p "$prev" 'del(.issuer, .issuer_spki_sha256) | .prev = $p' <<<"$l")
		printf '%s\n' "$l"
		prev=$(printf '%s' "$l" | sha256sum | cut -c1-64)
	done
}
rechain <before.jsonl >old.jsonl
expect 0 "" audit verify old.jsonl
check "old log: no issuer fields" bash -c "! grep -q issuer_spki old.jsonl"
KG_ENV="KEYGATE_AUDIT=$T/old.jsonl" expect 0 "" cert revoke --ca-key "$CA" --ca-cert ca.pem --serial "$S3" --reason cessationOfOperation
KG_ENV="KEYGATE_AUDIT=$T/old.jsonl" expect 1 "no certificate with serial" cert revoke --ca-key "$CA" --ca-cert ca.pem --serial "$SO"
KG_ENV="KEYGATE_AUDIT=$T/old.jsonl" expect 0 "" crl create --ca-key "$CA" --ca-cert ca.pem --out old.crl
check "old log: the CRL revokes l3" bash -c "! openssl verify -crl_check -CRLfile old.crl -CAfile ca.pem l3.pem >/dev/null 2>&1"
expect 0 "" audit verify old.jsonl

# the log's lock is not held while the CA key waits for its PIN: a
# crl create whose PIN source blocks (a FIFO nobody has written yet) must
# not stop another signer of the station appending to the same log
mkfifo pin.fifo
(
	KEYGATE_AUDIT=$T/audit.jsonl "$KEYGATE" crl create --ca-key "$CA" --ca-cert ca.pem \
		--pin-source file:pin.fifo --out fifo.crl >fifo.out 2>&1 </dev/null
	echo $? >fifo.rc
) &
sleep 1
set +e
KEYGATE_AUDIT=$T/audit.jsonl timeout -k 2 10 "$KEYGATE" cert sign --ca-key "$CA" --ca-cert ca.pem \
	--csr l1.csr --profile client --out while.pem >/dev/null 2>"$T/while.err" </dev/null
rc=$?
set -e
# (a writer with no reader would wait for ever: bounded)
timeout 10 bash -c 'printf "%s\n" "$1" >pin.fifo' _ "$KEYGATE_PIN" || true
wait
equal "another signer goes on while crl create waits for its PIN" "$rc" 0
equal "crl create, its PIN given late, succeeds" "$(cat fifo.rc)" 0
check "the late CRL verifies" openssl crl -in fifo.crl -CAfile ca.pem -verify -noout
expect 0 "" audit verify audit.jsonl
