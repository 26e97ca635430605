#!/usr/bin/env bash
# Batches on parallel token sessions: cert sign --csr-dir --jobs N and
# csr create --manifest. Outputs and audit records in input order whatever
# the number of workers, bad items named, Ctrl-C leaves whole files only.
. "$(dirname "$0")/lib.sh"
new_token ca
cd "$T"
CA="pkcs11:token=ca;object=ca"
export KEYGATE_AUDIT=$T/audit.jsonl

expect 0 "" key gen --token pkcs11:token=ca --label ca --type ec:p256
expect 0 "" cert selfsign --key "$CA" --subject "CN=Batch CA" --profile ca --out ca.pem
mkdir in
for i in $(seq -w 1 40); do
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
		-out in/r$i.csr -subj "/CN=dev-$i.example.com" 2>/dev/null
done
echo garbage >in/r20x.csr

# ---- cert sign --jobs -----------------------------------------------------
for j in 1 4; do
	: >audit.jsonl
	expect 1 "r20x.csr" --json cert sign --jobs $j --ca-key "$CA" --ca-cert ca.pem \
		--csr-dir in --out-dir out$j
	equal "jobs $j: issued" "$(jq .issued "$T/out")" 40
	equal "jobs $j: the bad one named" "$(jq -r '.failed[0].file' "$T/out")" "in/r20x.csr"
	equal "jobs $j: workers used" "$(jq .jobs "$T/out")" $j
	check "jobs $j: every certificate verifies" openssl verify -CAfile ca.pem out$j/*.pem
	equal "jobs $j: no temporaries" "$(find out$j -name '*.kgtmp.*' | wc -l)" 0
	check "jobs $j: the chain holds" "$KEYGATE" audit verify audit.jsonl
	# audit records and JSON list in request order, not finishing order
	equal "jobs $j: records in request order" \
		"$(jq -r 'select(.op=="cert-issue" and .result=="ok") | .out' audit.jsonl | tr '\n' ,)" \
		"$(ls out$j/*.pem | tr '\n' ,)"
	equal "jobs $j: JSON in request order" "$(jq -r '.certificates | join(",")' "$T/out")," \
		"$(ls out$j/*.pem | tr '\n' ,)"
	equal "jobs $j: each record's hash is its file's" \
		"$(jq -r 'select(.op=="cert-issue" and .result=="ok") | .sha256' audit.jsonl | head -1)" \
		"$(sha256sum out$j/r01.pem | cut -c1-64)"
done
equal "the same subjects either way" "$(for f in out1/*.pem; do openssl x509 -in $f -noout -subject; done | md5sum)" \
	"$(for f in out4/*.pem; do openssl x509 -in $f -noout -subject; done | md5sum)"
expect 2 "bad --jobs '0'" cert sign --jobs 0 --ca-key "$CA" --ca-cert ca.pem --csr-dir in --out-dir x
expect 2 "bad --jobs '65'" cert sign --jobs 65 --ca-key "$CA" --ca-cert ca.pem --csr-dir in --out-dir x
expect 2 "bad --jobs 'two'" cert sign --jobs two --ca-key "$CA" --ca-cert ca.pem --csr-dir in --out-dir x
# a CA that cannot issue fails once, before any request is read
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other.key \
	-out other.pem -subj /CN=other -days 2 2>/dev/null
expect 1 "not the CA certificate's key" cert sign --ca-key "$CA" --ca-cert other.pem --csr-dir in --out-dir y
equal "nothing issued for a wrong CA" "$(ls y 2>/dev/null | wc -l)" 0
# an --out-dir that is a file: one line before anything is signed
: >afile
: >audit.jsonl
expect 4 "'afile' is not a directory" cert sign --ca-key "$CA" --ca-cert ca.pem --csr-dir in --out-dir afile
equal "out-dir a file: one line" "$(wc -l <"$T/err")" 1
equal "out-dir a file: nothing signed" "$(wc -c <audit.jsonl)" 0

# ---- Ctrl-C: whole certificates, each on record --------------------------
mkdir many
for i in $(seq -w 1 3000); do ln in/r$(printf %02d $(( (10#$i % 40) + 1 ))).csr many/m$i.csr; done
: >audit.jsonl
set +e
"$KEYGATE" --quiet cert sign --jobs 2 --ca-key "$CA" --ca-cert ca.pem --csr-dir many \
	--out-dir cut >cut.out 2>cut.err </dev/null &
pid=$!
# the signal must arrive while the batch runs: once its first certificate
# is in place, and long before its last
for _ in $(seq 200); do
	[ -n "$(ls cut 2>/dev/null | grep -m1 '\.pem$')" ] && break
	sleep 0.05
done
kill -INT $pid 2>/dev/null
wait $pid
rc=$?
set -e
equal "interrupted: exit status of SIGINT" "$rc" 130
check "interrupted: says so" grep -q "interrupted" cut.out
check "interrupted: not every request was signed" test "$(ls cut | wc -l)" -lt 3000
equal "interrupted: no temporaries" "$(find cut -name '*.kgtmp.*' | wc -l)" 0
n=$(ls cut | wc -l)
check "interrupted: every file is a whole certificate" bash -c \
	"for f in cut/*.pem; do openssl x509 -in \$f -noout || exit 1; done"
equal "interrupted: each certificate on record" \
	"$(jq -r 'select(.op=="cert-issue") | .out' audit.jsonl | wc -l)" "$n"
check "interrupted: the chain holds" "$KEYGATE" audit verify audit.jsonl

# ---- csr create --manifest ------------------------------------------------
: >audit.jsonl
cat >fleet.jsonl <<'EOF'
{"label": "dev-01", "type": "ec:p256", "subject": "CN=dev-01.example.com"}
{"label": "dev-02", "type": "rsa:2048", "subject": "CN=dev-02.example.com,O=Example", "san": ["DNS:dev-02.example.com", "IP:10.0.0.2"]}

{"label": "dev-03", "subject": "CN=dev-03.example.com", "san": "DNS:dev-03.example.com,DNS:alt.example.com"}
{"label": "dev-01", "type": "ec:p256", "subject": "CN=again"}
not json at all
{"label": "x/y", "subject": "CN=x"}
{"label": "weak", "type": "rsa:512", "subject": "CN=weak"}
{"label": "typo", "subject": "CN=typo", "sna": "DNS:typo.example"}
{"label": "badsan", "subject": "CN=badsan", "san": "DNS:-bad-"}
{"label": "nodn", "type": "ec:p256"}
{"label": "dev-04", "type": "ec:p384", "subject": "/O=Example/CN=dev-04.example.com"}
EOF
expect 1 "line 5 ('dev-01'): the label is on line 1 already" --json csr create --jobs 3 \
	--token pkcs11:token=ca --manifest fleet.jsonl --out-dir reqs
equal "manifest: made" "$(jq .generated "$T/out")" 4
equal "manifest: failed lines" "$(jq -r '[.failed[].line] | join(",")' "$T/out")" "5,6,7,8,9,10,11"
equal "manifest: keys in order" "$(jq -r '[.keys[].label] | join(",")' "$T/out")" "dev-01,dev-02,dev-03,dev-04"
check "manifest: not JSON, said so" grep -q "line 6: not a JSON object" "$T/err"
check "manifest: unknown member named" grep -q 'unknown member "sna"' "$T/err"
check "manifest: bad key type named" grep -q "unsupported key type 'rsa:512'" "$T/err"
check "manifest: a line without subject" grep -q "line 11 ('nodn'): no subject" "$T/err"
for l in dev-01 dev-02 dev-03 dev-04; do
	check "manifest: $l.csr verifies" openssl req -in reqs/$l.csr -noout -verify
done
check "manifest: SAN from an array" bash -c "openssl req -in reqs/dev-02.csr -noout -text | grep -q 'IP Address:10.0.0.2'"
check "manifest: RSA by default" bash -c "openssl req -in reqs/dev-03.csr -noout -text | grep -q 'Public-Key: (2048 bit)'"
check "manifest: P-384 as asked" bash -c "openssl req -in reqs/dev-04.csr -noout -text | grep -q 'NIST CURVE: P-384'"
expect 0 "" --json key list --token pkcs11:token=ca
equal "manifest: keys on the token" "$(jq -r '[.keys[].label] | sort | join(",")' "$T/out")" "ca,dev-01,dev-02,dev-03,dev-04"
# each CSR's key is the token key: the request's public key is the key's
expect 0 "" cert sign --ca-key "$CA" --ca-cert ca.pem --csr reqs/dev-01.csr --out dev-01.pem
equal "manifest: records" "$(jq -r .op audit.jsonl | sort | uniq -c | tr -s ' ' | tr '\n' ,)" \
	" 1 cert-issue, 4 csr, 4 key-gen,"
check "manifest: the chain holds" "$KEYGATE" audit verify audit.jsonl
equal "manifest: a CSR's record hashes the file" \
	"$(jq -r 'select(.op=="csr" and .out=="reqs/dev-02.csr") | .sha256' audit.jsonl)" \
	"$(sha256sum reqs/dev-02.csr | cut -c1-64)"

# again: the labels exist now, each line says so; --force replaces
head -1 fleet.jsonl >one.jsonl
expect 1 "a key labelled 'dev-01' exists" csr create --token pkcs11:token=ca --manifest one.jsonl --out-dir reqs2
equal "existing label: no file" "$(ls reqs2 | wc -l)" 0
old=$(openssl req -in reqs/dev-01.csr -noout -pubkey | md5sum)
expect 0 "" csr create --force --token pkcs11:token=ca --manifest one.jsonl --out-dir reqs
check "--force: a new key" test "$(openssl req -in reqs/dev-01.csr -noout -pubkey | md5sum)" != "$old"
# --force replaced the key: the label names one key again, so key show
# (which refuses a URI matching two keys) finds it
expect 0 "" key show "pkcs11:token=ca;object=dev-01"

# an --out-dir that is a file: refused before any key is made
expect 4 "'afile' is not a directory" csr create --token pkcs11:token=ca --manifest fleet.jsonl --out-dir afile
expect 0 "" --json key list --token pkcs11:token=ca
equal "out-dir a file: no key made" "$(jq '.keys | length' "$T/out")" 5

# usage
expect 2 "needs --token URI and --out-dir DIR" csr create --manifest one.jsonl --token pkcs11:token=ca
expect 2 "takes no --key" csr create --manifest one.jsonl --token pkcs11:token=ca --out-dir r --key "$CA"
expect 2 "go with --manifest" csr create --token pkcs11:token=ca --key "$CA" --subject CN=x
: >empty.jsonl
expect 2 "holds no manifest line" csr create --manifest empty.jsonl --token pkcs11:token=ca --out-dir r
expect 2 "cannot read" csr create --manifest nosuch.jsonl --token pkcs11:token=ca --out-dir r
expect 3 "no token matches" csr create --manifest one.jsonl --token pkcs11:token=nosuch --out-dir r
