#!/usr/bin/env bash
# The ACM import gate (bundle check) over a corpus made by the openssl CLI,
# never by keygate: one case per SPEC code and the passing cases, each
# asserting the verdict and the exact codes. Then hostile inputs.
. "$(dirname "$0")/lib.sh"
cd "$T"
q() { "$@" >/dev/null 2>&1; }

# ---- a PKI: root -> intermediate -> leaves ------------------------------
printf "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n" >ca.ext
q openssl req -x509 -newkey rsa:2048 -nodes -keyout root.key -out root.pem -subj "/CN=Test Root" -days 3650 \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
q openssl req -new -newkey rsa:2048 -nodes -keyout int.key -out int.csr -subj "/CN=Test Intermediate"
q openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -CAcreateserial -out int.pem -days 1825 -extfile ca.ext
q openssl req -x509 -newkey rsa:2048 -nodes -keyout otherroot.key -out otherroot.pem -subj "/CN=Other Root" -days 3650 \
	-addext basicConstraints=critical,CA:TRUE

# leaf NAME KEYALG SUBJ EXT... : NAME.key, NAME.pem signed by the intermediate
leaf() {
	local name=$1 alg=$2 subj=$3
	shift 3
	printf "%s\n" "$@" >"$name.ext"
	case $alg in
	ec:*) q openssl req -new -newkey ec -pkeyopt "ec_paramgen_curve:${alg#ec:}" -nodes -keyout "$name.key" -out "$name.csr" -subj "$subj" ;;
	*) q openssl req -new -newkey "$alg" -nodes -keyout "$name.key" -out "$name.csr" -subj "$subj" ;;
	esac
	if [ $# -gt 0 ]; then
		q openssl x509 -req -in "$name.csr" -CA int.pem -CAkey int.key -CAcreateserial -out "$name.pem" -days 365 -extfile "$name.ext"
	else
		q openssl x509 -req -in "$name.csr" -CA int.pem -CAkey int.key -CAcreateserial -out "$name.pem" -days 365
	fi
}
STD=("subjectAltName=DNS:www.example.com" "extendedKeyUsage=serverAuth"
	"keyUsage=critical,digitalSignature,keyEncipherment"
	"subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid")
leaf good rsa:2048 "/CN=www.example.com" "${STD[@]}"
leaf r1024 rsa:1024 "/CN=www.example.com" "${STD[@]}"
leaf r4096 rsa:4096 "/CN=www.example.com" "${STD[@]}"
leaf ec ec:P-256 "/CN=www.example.com" "${STD[@]}"
leaf v1 rsa:2048 "/CN=www.example.com"
leaf codesign rsa:2048 "/CN=www.example.com" "subjectAltName=DNS:www.example.com" "extendedKeyUsage=codeSigning" "authorityKeyIdentifier=keyid"
leaf nodomain rsa:2048 "/CN=Just A Name" "extendedKeyUsage=serverAuth" "authorityKeyIdentifier=keyid"
leaf cnonly rsa:2048 "/CN=cn-only.example.com" "extendedKeyUsage=serverAuth" "authorityKeyIdentifier=keyid"
leaf other rsa:2048 "/CN=www.example.com" "subjectAltName=DNS:other.example.org" "extendedKeyUsage=serverAuth" "keyUsage=critical,digitalSignature,keyEncipherment" "authorityKeyIdentifier=keyid"
leaf lessku rsa:2048 "/CN=www.example.com" "subjectAltName=DNS:www.example.com" "extendedKeyUsage=serverAuth" "keyUsage=critical,digitalSignature" "authorityKeyIdentifier=keyid"
# a self-signed certificate, RSA-1024 and RSA-2048
q openssl req -x509 -newkey rsa:2048 -nodes -keyout self.key -out self.pem -subj "/CN=self.example.com" -days 365 -addext subjectAltName=DNS:self.example.com
q openssl req -x509 -newkey rsa:1024 -nodes -keyout self1024.key -out self1024.pem -subj "/CN=self1024.example.com" -days 365
# a leaf whose issuer name is the intermediate's but signed by another key,
# with no authority key id: the name chains, the signature does not
q openssl req -new -newkey rsa:2048 -nodes -keyout fakeint.key -out fakeint.csr -subj "/CN=Test Intermediate"
q openssl req -x509 -key fakeint.key -in fakeint.csr -out fakeint.pem -days 30
leafx() { printf "subjectAltName=DNS:www.example.com\nauthorityKeyIdentifier=none\n" >forged.ext
	q openssl req -new -newkey rsa:2048 -nodes -keyout forged.key -out forged.csr -subj "/CN=www.example.com"
	q openssl x509 -req -in forged.csr -CA fakeint.pem -CAkey fakeint.key -CAcreateserial -out forged.pem -days 365 -extfile forged.ext; }
leafx

cat int.pem root.pem >chain.pem
cat int.pem >chain-noroot.pem
cat root.pem int.pem >chain-reversed.pem
cat root.pem >chain-gap.pem
cat int.pem otherroot.pem root.pem >chain-unrelated.pem
cat good.pem int.pem root.pem >chain-leaf.pem
{ cat int.pem; echo; cat root.pem; } >chain-blank.pem
cat good.pem int.pem >multi.pem
openssl x509 -in good.pem -outform DER -out good.der
openssl rsa -in good.key -traditional -out good-pkcs1.key 2>/dev/null
openssl pkcs8 -topk8 -in good.key -passout pass:hunter2 -out good-enc8.key 2>/dev/null
openssl rsa -in good.key -aes256 -passout pass:hunter2 -traditional -out good-enc1.key 2>/dev/null
sed 's/$/\r/' good.pem >good-crlf.pem
sed 's/$/\r/' good.key >good-crlf.key
sed 's/$/\r/' chain.pem >chain-crlf.pem
sed '2s/$/ /' good.pem >trailing.pem
{ echo "subject=/CN=www.example.com"; cat good.pem; } >outside.pem
: >empty.pem
head -c 2000 /dev/urandom >garbage.pem

# case NAME WANT_RC "codes,sorted" bundle-check-args...
case_() {
	local name=$1 want=$2 codes=$3
	shift 3
	kg --json bundle check "$@"
	local got
	got=$(jq -r '[.findings[].code] | unique | join(",")' "$T/out" 2>/dev/null || echo "not-json")
	if [ "$RC" -eq "$want" ] && [ "$got" = "$codes" ]; then ok; else
		bad "$name: rc $RC (want $want), codes '$got' (want '$codes'); stderr $(head -c 300 "$T/err")"; fi
}

# passing
case_ "RSA-2048 leaf + chain with root" 0 "" --cert good.pem --key good.key --chain chain.pem
case_ "chain without root" 0 "" --cert good.pem --key good.key --chain chain-noroot.pem
case_ "RSA-1024 leaf" 0 "" --cert r1024.pem --key r1024.key --chain chain.pem
case_ "PKCS#1 key" 0 "" --cert good.pem --key good-pkcs1.key --chain chain.pem
case_ "CRLF line endings" 0 "" --cert good-crlf.pem --key good-crlf.key --chain chain-crlf.pem
case_ "self-signed, no chain" 0 "" --cert self.pem --key self.key
case_ "self-signed RSA-1024 (CN as the domain)" 0 "" --cert self1024.pem --key self1024.key
case_ "CN that is a domain, no SAN" 0 "" --cert cnonly.pem --key cnonly.key --chain chain.pem
case_ "EC P-256 under acm" 0 "" --for acm --cert ec.pem --key ec.key --chain chain.pem
case_ "RSA-4096 under acm" 0 "" --for acm --cert r4096.pem --key r4096.key --chain chain.pem
case_ "reimport keeping everything" 0 "" --cert good.pem --key good.key --chain chain.pem --replaces good.pem

# one per code
case_ "pem-invalid: DER" 1 "pem-invalid" --cert good.der --key good.key --chain chain.pem
case_ "pem-invalid: empty" 1 "pem-invalid" --cert empty.pem --key good.key --chain chain.pem
case_ "pem-invalid: garbage key" 1 "pem-invalid" --cert good.pem --key garbage.pem --chain chain.pem
case_ "pem-whitespace: trailing blank" 1 "pem-whitespace" --cert trailing.pem --key good.key --chain chain.pem
case_ "pem-whitespace: text outside" 1 "pem-whitespace" --cert outside.pem --key good.key --chain chain.pem
case_ "cert-multiple" 1 "cert-multiple" --cert multi.pem --key good.key --chain chain.pem
case_ "cert-not-v3" 1 "cert-not-v3" --cert v1.pem --key v1.key --chain chain.pem
case_ "cert-no-domain" 1 "cert-no-domain" --cert nodomain.pem --key nodomain.key --chain chain.pem
case_ "cert-purpose" 1 "cert-purpose" --cert codesign.pem --key codesign.key --chain chain.pem
case_ "cert-expired (--at)" 1 "cert-expired" --at "$(date -u -d '+2 years' +%Y-%m-%dT%H:%M:%SZ)" --cert good.pem --key good.key --chain chain.pem
case_ "cert-not-yet-valid (--at)" 1 "cert-not-yet-valid" --at "$(date -u -d '-2 days' +%Y-%m-%dT%H:%M:%SZ)" --cert good.pem --key good.key --chain chain.pem
case_ "key-encrypted: PKCS#8" 1 "key-encrypted" --cert good.pem --key good-enc8.key --chain chain.pem
case_ "key-encrypted: Proc-Type" 1 "key-encrypted" --cert good.pem --key good-enc1.key --chain chain.pem
check "key-encrypted hints key decrypt" jq -e '.findings[0].hint | test("keygate key decrypt")' "$T/out"
case_ "key-algorithm: RSA-4096 integrated" 1 "key-algorithm" --cert r4096.pem --key r4096.key --chain chain.pem
case_ "key-algorithm: EC integrated" 1 "key-algorithm" --cert ec.pem --key ec.key --chain chain.pem
case_ "key-mismatch" 1 "key-mismatch" --cert good.pem --key r1024.key --chain chain.pem
case_ "chain-missing" 1 "chain-missing" --cert good.pem --key good.key
case_ "chain-order" 1 "chain-order" --cert good.pem --key good.key --chain chain-reversed.pem
case_ "chain-incomplete" 1 "chain-incomplete" --cert good.pem --key good.key --chain chain-gap.pem
case_ "chain-unrelated" 1 "chain-unrelated" --cert good.pem --key good.key --chain chain-unrelated.pem
check "unrelated names index 1 and its subject" jq -e '.findings[0].index == 1 and .findings[0].subject == "CN=Other Root"' "$T/out"
case_ "chain-contains-leaf" 1 "chain-contains-leaf" --cert good.pem --key good.key --chain chain-leaf.pem
case_ "chain-blank-lines" 1 "chain-blank-lines" --cert good.pem --key good.key --chain chain-blank.pem
case_ "chain-signature" 1 "chain-signature" --cert forged.pem --key forged.key --chain chain.pem
case_ "reimport-key-algorithm" 1 "reimport-key-algorithm" --for acm --cert ec.pem --key ec.key --chain chain.pem --replaces good.pem
case_ "reimport-domains" 1 "reimport-domains" --cert other.pem --key other.key --chain chain.pem --replaces good.pem
case_ "reimport-key-usage" 1 "reimport-key-usage" --cert lessku.pem --key lessku.key --chain chain.pem --replaces good.pem

# every problem at once, each naming its input
case_ "all at once" 1 "chain-order,key-encrypted,pem-whitespace" --cert trailing.pem --key good-enc8.key --chain chain-reversed.pem
check "findings name their inputs" jq -e '[.findings[].input] | sort == ["chain-reversed.pem","good-enc8.key","trailing.pem"]' "$T/out"
expect 1 "" bundle check --cert trailing.pem --key good-enc8.key --chain chain-reversed.pem
check "human output: FAIL with 3 errors" grep -q "FAIL - 3 errors" "$T/out"
check "human output: a fix line" grep -q "fix: keygate key decrypt" "$T/out"

# size limits
python3 - <<'PY' || true
names = ",".join(f"DNS:host-{i:05d}.a-rather-long-subdomain.example.com" for i in range(800))
open("big.ext", "w").write("subjectAltName=" + names + "\n")
PY
q openssl x509 -req -in good.csr -CA int.pem -CAkey int.key -CAcreateserial -out big.pem -days 365 -extfile big.ext
[ "$(wc -c <big.pem)" -gt 32768 ] && ok || bad "big.pem is over 32768 bytes"
case_ "size-limit: certificate" 1 "size-limit" --cert big.pem --key good.key --chain chain.pem
# a key over 5120 bytes: RSA-4096 (valid, allowed under acm) with its
# base64 one character a line, which PEM readers take as the same key
{ echo "-----BEGIN PRIVATE KEY-----"; grep -v -- ----- r4096.key | tr -d '\n' | fold -w 1
	echo; echo "-----END PRIVATE KEY-----"; } >tall.key
check "tall.key is the same key" test "$(openssl pkey -in tall.key -pubout | md5sum)" = "$(openssl pkey -in r4096.key -pubout | md5sum)"
case_ "size-limit: private key over 5120 bytes" 1 "size-limit" --for acm --cert r4096.pem --key tall.key --chain chain.pem
for _ in $(seq 2000); do cat int.pem; done >huge-chain.pem
kg --json bundle check --cert good.pem --key good.key --chain huge-chain.pem
check "size-limit: chain over 2 MiB" jq -e '[.findings[].code] | index("size-limit") != null' "$T/out"
equal "size-limit: chain rc" "$RC" 1

# hostile inputs: a named finding, exit 1, no crash
head -c 10000000 /dev/urandom >garbage10m.pem
case_ "10 MB of garbage" 1 "pem-invalid,size-limit" --cert garbage10m.pem --key good.key --chain chain.pem
{ echo "-----BEGIN CERTIFICATE-----"; head -c 300000 /dev/urandom | base64 -w0; echo; echo "-----END CERTIFICATE-----"; } >hugeline.pem
case_ "a huge base64 line" 1 "pem-invalid,size-limit" --cert hugeline.pem --key good.key --chain chain.pem
{ echo "-----BEGIN CERTIFICATE-----"; cat good.pem; echo "-----END CERTIFICATE-----"; } >nested.pem
kg --json bundle check --cert nested.pem --key good.key --chain chain.pem
check "nested PEM headers: pem-invalid" jq -e '[.findings[].code] | index("pem-invalid") != null' "$T/out"
equal "nested rc" "$RC" 1
{ echo "-----BEGIN CERTIFICATE-----"; sed -n '2,5p' good.pem; } >unterminated.pem
case_ "unterminated block" 1 "pem-invalid" --cert unterminated.pem --key good.key --chain chain.pem
python3 - <<'PY' || true
names = ",".join(f"DNS:h{i}.example.com" for i in range(1000))
open("many.ext", "w").write("subjectAltName=" + names + "\n")
PY
q openssl x509 -req -in good.csr -CA int.pem -CAkey int.key -CAcreateserial -out many.pem -days 365 -extfile many.ext
case_ "1000 SANs" 0 "" --cert many.pem --key good.key --chain chain.pem

# usage errors
expect 2 "needs --cert FILE and --key FILE" bundle check --cert good.pem
expect 2 "cannot read" bundle check --cert nosuch.pem --key good.key
expect 2 "unknown target" bundle check --cert good.pem --key good.key --for s3
