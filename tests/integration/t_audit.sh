#!/usr/bin/env bash
# The audit log: every token operation on record, a hash chain that
# audit verify checks, and a change, deletion or swap named by line.
. "$(dirname "$0")/lib.sh"
new_token ca
cd "$T"
q() { "$@" >/dev/null 2>&1; }
export KEYGATE_AUDIT=$T/audit.jsonl
CA="pkcs11:token=ca;object=ca"

expect 0 "" key gen --token pkcs11:token=ca --label ca --type ec:p256
expect 0 "" cert selfsign --key "$CA" --subject "CN=Audit CA" --profile ca --out ca.pem
expect 0 "" csr create --key "$CA" --subject CN=self-request.example.com --out self.csr
q openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key -out leaf.csr -subj /CN=leaf.example.com
expect 0 "" cert sign --ca-key "$CA" --ca-cert ca.pem --csr leaf.csr --out leaf.pem
openssl req -in leaf.csr -outform DER -out leaf.der
cp leaf.der broken.der; printf '\x00' | dd of=broken.der bs=1 seek=$(( $(stat -c %s leaf.der) - 3 )) conv=notrunc 2>/dev/null
expect 1 "does not verify" cert sign --ca-key "$CA" --ca-cert ca.pem --csr broken.der --out broken.pem
mkdir in; for i in 1 2 3; do cp leaf.csr in/r$i.csr; done
expect 0 "" cert sign --ca-key "$CA" --ca-cert ca.pem --csr-dir in --out-dir issued
# a software key is not a token operation: not on record
expect 0 "" csr create --key leaf.key --subject CN=soft.example.com --out soft.csr

equal "records" "$(wc -l <audit.jsonl)" 8
equal "operations" "$(jq -r .op audit.jsonl | tr '\n' ,)" "key-gen,cert-selfsign,csr,cert-issue,cert-issue,cert-issue,cert-issue,cert-issue,"
equal "results" "$(jq -r .result audit.jsonl | tr '\n' ,)" "ok,ok,ok,ok,refused,ok,ok,ok,"
check "every record names the token" jq -s -e 'all(.[]; .token.label == "ca" and (.token.serial | length) > 0)' audit.jsonl
check "the refusal says why" bash -c "sed -n 5p audit.jsonl | jq -e '.detail | test(\"does not verify\")'"
equal "a CSR's hash is the file's" "$(sed -n 3p audit.jsonl | jq -r .sha256)" "$(sha256sum self.csr | cut -c1-64)"
equal "an issued certificate's serial" "$(sed -n 4p audit.jsonl | jq -r .serial)" \
	"$(openssl x509 -in leaf.pem -noout -serial | cut -d= -f2)"
check "the first record starts the chain" bash -c "head -1 audit.jsonl | jq -e '.prev | test(\"^0{64}$\")'"
check "records are 0600" test "$(stat -c %a audit.jsonl)" = 600
expect 0 "" --json audit verify audit.jsonl
check "verify: 8 records, chain holds" jq -e '.valid and .records == 8' "$T/out"

# tampering is named by line
sed '2s/Audit CA/Audit CB/' audit.jsonl >edited.jsonl
expect 1 "line 3 does not follow line 2" audit verify edited.jsonl
sed '4d' audit.jsonl >deleted.jsonl
expect 1 "line 4 does not follow line 3" audit verify deleted.jsonl
awk 'NR==5{l5=$0; next} NR==6{print; print l5; next} {print}' audit.jsonl >swapped.jsonl
expect 1 "line 5 does not follow line 4" audit verify swapped.jsonl
tail -n +2 audit.jsonl >headless.jsonl
expect 1 "line 1 is not the first record" audit verify headless.jsonl
{ head -2 audit.jsonl; echo "not json"; } >junk.jsonl
expect 1 "line 3 is not an audit record" audit verify junk.jsonl
head -c -1 audit.jsonl >cut.jsonl
expect 1 "cut short" audit verify cut.jsonl
# appending to a log whose tail is cut is refused, nothing signed
KG_ENV="KEYGATE_AUDIT=$T/cut.jsonl" expect 4 "whole line" csr create --key "$CA" --subject CN=x --out nope.csr
check "refused: no output" test ! -e nope.csr
expect 2 "cannot read" audit verify nosuch.jsonl

# a signer waiting for the log's lock still hears SIGTERM: it gives up,
# writes nothing, leaves no temporary and dies of the signal (timeout's
# 124), rather than waiting deaf until SIGKILL (137)
flock "$KEYGATE_AUDIT" sleep 30 &
holder=$!
sleep 0.5
set +e
timeout -k 10 2 "$KEYGATE" cert sign --ca-key "$CA" --ca-cert ca.pem --csr leaf.csr --out waited.pem >/dev/null 2>waited.err </dev/null
rc=$?
set -e
kill "$holder" 2>/dev/null || true
wait "$holder" 2>/dev/null || true
equal "waiting for the lock: SIGTERM ends it" "$rc" 124
check "waiting for the lock: nothing written" test ! -e waited.pem
equal "waiting for the lock: no temporary" "$(find . -maxdepth 1 -name '*.kgtmp.*' | wc -l)" 0
expect 0 "" audit verify "$KEYGATE_AUDIT"
