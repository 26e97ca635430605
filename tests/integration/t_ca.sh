#!/usr/bin/env bash
# cert sign: a three-tier PKI on SoftHSM tokens (root token, issuing
# token), leaves from openssl-made requests, every certificate verified by
# openssl and certtool; and each refusal cert sign owes.
. "$(dirname "$0")/lib.sh"
new_token root
expect 0 "" token init --label issuing
cd "$T"
q() { "$@" >/dev/null 2>&1; }
ROOT="pkcs11:token=root;object=root-ca"
ISS="pkcs11:token=issuing;object=issuing-ca"

# root: key on the root token, self-signed CA certificate
expect 0 "" key gen --token pkcs11:token=root --label root-ca --type ec:p384
expect 0 "" cert selfsign --key "$ROOT" --subject "CN=Example Root CA,O=Example" --profile ca --days 3650 --out root.pem
# intermediate: key on another token, its CSR signed by the root
expect 0 "" key gen --token pkcs11:token=issuing --label issuing-ca --type rsa:2048
expect 0 "" csr create --key "$ISS" --subject "CN=Example Issuing CA,O=Example" --out int.csr
expect 0 "" cert sign --ca-key "$ROOT" --ca-cert root.pem --csr int.csr --profile intermediate --out int.pem
openssl x509 -in int.pem -noout -text >int.txt
check "intermediate: CA with path length 0" grep -q "CA:TRUE, pathlen:0" int.txt
check "intermediate: keyCertSign" grep -q "Certificate Sign" int.txt
check "intermediate: AKI = root's SKI" test "$(openssl x509 -in int.pem -noout -ext authorityKeyIdentifier | tail -1 | tr -d ' ')" = \
	"$(openssl x509 -in root.pem -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' ')"
# leaves from requests made by openssl (software keys), signed on the issuing token
q openssl req -new -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj "/CN=api.example.com" -addext subjectAltName=DNS:api.example.com,DNS:www.example.com
q openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout cli.key -out cli.csr -subj "/CN=device-0001"
expect 0 "" cert sign --ca-key "$ISS" --ca-cert int.pem --csr srv.csr --out srv.pem
expect 0 "" cert sign --ca-key "$ISS" --ca-cert int.pem --csr cli.csr --profile client --days 90 --out cli.pem
for l in srv cli; do
	check "$l: openssl verify" openssl verify -CAfile root.pem -untrusted int.pem $l.pem
	cat $l.pem int.pem root.pem >$l-chain.pem
	check "$l: certtool --verify-chain" certtool --verify-chain --infile $l-chain.pem
	serial=$(openssl x509 -in $l.pem -noout -serial | cut -d= -f2)
	[ ${#serial} -ge 31 ] && ok || bad "$l: 128-bit serial ($serial)"
done
check "server leaf keeps the request's SANs" grep -q "DNS:www.example.com" <(openssl x509 -in srv.pem -noout -text)
check "server leaf: serverAuth" grep -q "TLS Web Server Authentication" <(openssl x509 -in srv.pem -noout -text)
check "client leaf: clientAuth" grep -q "TLS Web Client Authentication" <(openssl x509 -in cli.pem -noout -text)
expect 0 "" chain verify --truststore root.pem --untrusted int.pem --cert srv.pem --purpose server --host api.example.com
cat int.pem root.pem >ts.pem
expect 0 "" mtls check --truststore ts.pem --cert cli.pem
# API Gateway wants the truststore to reach the root
expect 1 "untrusted" mtls check --truststore int.pem --cert cli.pem

# overrides; other request extensions only with --copy-extensions
q openssl req -new -newkey rsa:2048 -nodes -keyout x.key -out x.csr -subj "/CN=asked.example.com" -addext "nsComment=from the request"
expect 0 "" cert sign --ca-key "$ISS" --ca-cert int.pem --csr x.csr --subject CN=given.example.com --san DNS:given.example.com --out x.pem
equal "--subject overrides" "$(openssl x509 -in x.pem -noout -subject -nameopt RFC2253)" "subject=CN=given.example.com"
check "--san overrides" grep -q "DNS:given.example.com" <(openssl x509 -in x.pem -noout -text)
check "request extensions not copied by default" bash -c "! openssl x509 -in x.pem -noout -text | grep -q 'from the request'"
expect 0 "" cert sign --ca-key "$ISS" --ca-cert int.pem --csr x.csr --copy-extensions --out x2.pem
check "--copy-extensions copies them" grep -q "from the request" <(openssl x509 -in x2.pem -noout -text)

# refusals
openssl req -in srv.csr -outform DER -out srv.der
python3 -c "import sys; b=bytearray(open('srv.der','rb').read()); b[-5]^=0x55; open('bad.der','wb').write(b)" 2>/dev/null ||
	{ cp srv.der bad.der; printf '\x00' | dd of=bad.der bs=1 seek=$(( $(stat -c %s srv.der) - 5 )) conv=notrunc 2>/dev/null; }
expect 1 "does not verify" cert sign --ca-key "$ISS" --ca-cert int.pem --csr bad.der --out bad.pem
check "broken request: nothing written" test ! -e bad.pem
q openssl req -new -newkey rsa:2048 -nodes -keyout ca.key -out wantsca.csr -subj "/CN=sneaky.example.com" -addext basicConstraints=critical,CA:TRUE
expect 1 "asks for CA:TRUE" cert sign --ca-key "$ISS" --ca-cert int.pem --csr wantsca.csr --out sneaky.pem
expect 0 "" cert sign --ca-key "$ISS" --ca-cert int.pem --csr wantsca.csr --profile intermediate --out sub.pem
expect 1 "not the CA certificate's key" cert sign --ca-key "$ROOT" --ca-cert int.pem --csr srv.csr --out y.pem
expect 1 "is not a CA" cert sign --ca-key srv.key --ca-cert srv.pem --csr cli.csr --out y.pem
expect 2 "a root is self-signed" cert sign --ca-key "$ISS" --ca-cert int.pem --csr srv.csr --profile ca --out y.pem
# --days past the issuer's notAfter: cut there, with a warning
kg --json cert sign --ca-key "$ISS" --ca-cert int.pem --csr srv.csr --days 20000 --out long.pem
equal "capped rc" "$RC" 0
check "capped: a warning" grep -q "cut there" "$T/err"
check "capped: JSON says so" jq -e '.capped == true' "$T/out"
equal "capped at the issuer's notAfter" "$(openssl x509 -in long.pem -noout -enddate)" "$(openssl x509 -in int.pem -noout -enddate)"
# an expired issuer issues nothing (a software CA made by openssl)
mkdir -p cadb && : >cadb/index.txt && echo 01 >cadb/serial
printf "[ca]\ndefault_ca=c\n[c]\ndatabase=cadb/index.txt\nnew_certs_dir=cadb\nserial=cadb/serial\ndefault_md=sha256\npolicy=p\nunique_subject=no\n[p]\ncommonName=supplied\n" >ca.cnf
printf "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n" >ca.ext
q openssl req -x509 -newkey rsa:2048 -nodes -keyout oldroot.key -out oldroot.pem -subj "/CN=Old Root" -days 3650 -addext basicConstraints=critical,CA:TRUE
q openssl req -new -newkey rsa:2048 -nodes -keyout old.key -out old.csr -subj "/CN=Old CA"
q openssl ca -batch -config ca.cnf -cert oldroot.pem -keyfile oldroot.key -in old.csr -out old.pem -startdate 20200101000000Z -enddate 20210101000000Z -extfile ca.ext -notext
expect 1 "not valid now" cert sign --ca-key old.key --ca-cert old.pem --csr srv.csr --out z.pem
check "expired issuer: nothing written" test ! -e z.pem
expect 2 "needs --ca-key KEY" cert sign --csr srv.csr
expect 1 "holds no certificate request" cert sign --ca-key "$ISS" --ca-cert int.pem --csr int.pem

# batch: 200 requests, 3 of them bad -> 197 certificates, 3 named failures
mkdir -p in
for i in $(seq -w 1 197); do
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
		-out in/dev-$i.csr -subj "/CN=dev-$i.example.com" 2>/dev/null
done
cp bad.der in/z-broken-signature.csr
cp wantsca.csr in/z-asks-for-ca.csr
echo "not a request" >in/z-garbage.csr
expect 1 "" --json cert sign --ca-key "$ISS" --ca-cert int.pem --csr-dir in --out-dir issued
equal "batch: issued" "$(jq .issued "$T/out")" 197
equal "batch: failures" "$(jq -r '[.failed[].file | split("/") | last] | join(",")' "$T/out")" \
	"z-asks-for-ca.csr,z-broken-signature.csr,z-garbage.csr"
check "each failure says why" jq -e '[.failed[].reason | length > 10] | all' "$T/out"
equal "batch: files written" "$(ls issued | wc -l)" 197
check "every issued certificate verifies" openssl verify -CAfile root.pem -untrusted int.pem issued/*.pem
check "named after the request" test -s issued/dev-001.pem
equal "no temporaries left" "$(find issued -name '*.kgtmp.*' | wc -l)" 0
# a second run does not overwrite: each certificate is a named failure
expect 1 "exists; use --force" cert sign --ca-key "$ISS" --ca-cert int.pem --csr-dir in --out-dir issued
expect 2 "either --csr FILE or --csr-dir" cert sign --ca-key "$ISS" --ca-cert int.pem --csr-dir in
