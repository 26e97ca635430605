#!/usr/bin/env bash
# CSRs and self-signed certificates from token keys and software keys,
# verified by openssl and certtool; libp11's engine signs with our keys.
. "$(dirname "$0")/lib.sh"
new_token ci
TOK=pkcs11:token=ci

for t in rsa:2048 ec:p256 ec:p384 rsa:3072; do
	l=${t/:/-}
	expect 0 "" key gen --token $TOK --label "$l" --type $t
	KEY="$TOK;object=$l"

	# a CSR, to stdout; the CN is copied into the SAN
	expect 0 "" csr create --key "$KEY" --subject "CN=$l.example.com,O=Example"
	cp "$T/out" "$T/$l.csr"
	check "$t CSR verifies (openssl)" openssl req -in "$T/$l.csr" -verify -noout
	check "$t CSR readable by certtool" certtool --crq-info --infile "$T/$l.csr"
	openssl req -in "$T/$l.csr" -noout -subject -nameopt RFC2253 >"$T/subj"
	equal "$t subject" "$(cat "$T/subj")" "subject=CN=$l.example.com,O=Example"
	check "$t CN copied into SAN" grep -q "DNS:$l.example.com" <(openssl req -in "$T/$l.csr" -noout -text)
	check "$t CSR public key = token's" cmp <(openssl req -in "$T/$l.csr" -noout -pubkey) \
		<("$KEYGATE" cert selfsign --key "$KEY" --subject CN=x | openssl x509 -noout -pubkey)

	# explicit SAN and digest, to a file
	expect 0 "" csr create --key "$KEY" --subject "/O=Example/CN=multi" \
		--san "DNS:a.example.com,DNS:b.example.com,IP:10.0.0.1,email:ops@example.com,URI:spiffe://example/x" \
		--digest sha384 --out "$T/$l-2.csr"
	check "$t CSR 2 verifies" openssl req -in "$T/$l-2.csr" -verify -noout
	openssl req -in "$T/$l-2.csr" -noout -text >"$T/txt"
	for n in "DNS:a.example.com" "DNS:b.example.com" "IP Address:10.0.0.1" "email:ops@example.com" "URI:spiffe://example/x"; do
		check "$t SAN $n" grep -q "$n" "$T/txt"
	done
	check "$t sha384" grep -Eq "Signature Algorithm: (sha384WithRSAEncryption|ecdsa-with-SHA384)" "$T/txt"
	check "$t no CN copy when --san given" bash -c "! grep -q 'DNS:multi' '$T/txt'"
	check "$t certtool verifies the signature" bash -c "certtool --crq-info --infile '$T/$l-2.csr' | grep -qi 'Self signature: verified'"

	# self-signed client certificate: 365 days, clientAuth, verifies
	expect 0 "" cert selfsign --key "$KEY" --subject "CN=client-$l,O=Example" --profile client --out "$T/$l.pem"
	check "$t cert verifies (openssl)" openssl verify -CAfile "$T/$l.pem" "$T/$l.pem"
	# GnuTLS takes no non-CA certificate as an anchor: check a CA one
	expect 0 "" cert selfsign --key "$KEY" --subject "CN=CA $l" --profile ca --out "$T/$l-ca.pem"
	check "$t CA cert verifies (certtool)" certtool --verify --load-ca-certificate "$T/$l-ca.pem" --infile "$T/$l-ca.pem"
	openssl x509 -in "$T/$l.pem" -noout -text >"$T/txt"
	check "$t v3" grep -q "Version: 3" "$T/txt"
	check "$t clientAuth" grep -q "TLS Web Client Authentication" "$T/txt"
	check "$t CA:FALSE" grep -q "CA:FALSE" "$T/txt"
	nb=$(date -d "$(openssl x509 -in "$T/$l.pem" -noout -startdate | cut -d= -f2)" +%s)
	na=$(date -d "$(openssl x509 -in "$T/$l.pem" -noout -enddate | cut -d= -f2)" +%s)
	equal "$t 365 days" $(( (na - nb) / 86400 )) 365
	serial=$(openssl x509 -in "$T/$l.pem" -noout -serial | cut -d= -f2)
	[ ${#serial} -ge 31 ] && ok || bad "$t serial has 128 bits: $serial"
done

# the ca and server profiles
expect 0 "" cert selfsign --key "$TOK;object=ec-p256" --subject "CN=Example Root CA" --profile ca --out "$T/ca.pem"
check "ca: CA:TRUE" grep -q "CA:TRUE" <(openssl x509 -in "$T/ca.pem" -noout -text)
check "ca: keyCertSign" grep -q "Certificate Sign" <(openssl x509 -in "$T/ca.pem" -noout -text)
nb=$(date -d "$(openssl x509 -in "$T/ca.pem" -noout -startdate | cut -d= -f2)" +%s)
na=$(date -d "$(openssl x509 -in "$T/ca.pem" -noout -enddate | cut -d= -f2)" +%s)
equal "ca default 3650 days" $(( (na - nb) / 86400 )) 3650
expect 0 "" cert selfsign --key "$TOK;object=rsa-2048" --subject "CN=www.example.com" --days 30 --out "$T/srv.pem"
check "server: serverAuth" grep -q "TLS Web Server Authentication" <(openssl x509 -in "$T/srv.pem" -noout -text)
check "server: SAN from CN" grep -q "DNS:www.example.com" <(openssl x509 -in "$T/srv.pem" -noout -text)
check "server cert verifies for its name" openssl verify -CAfile "$T/srv.pem" -verify_hostname www.example.com "$T/srv.pem"

# software keys take the same path: PKCS#8, PKCS#1, SEC1, encrypted
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/sw8.pem" 2>/dev/null
openssl rsa -in "$T/sw8.pem" -traditional -out "$T/sw1.pem" 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out "$T/swec.pem"
openssl pkey -in "$T/sw8.pem" -outform DER -out "$T/sw8.der"
for k in sw8.pem sw1.pem swec.pem sw8.der; do
	expect 0 "" csr create --key "$T/$k" --subject "CN=soft.example.com"
	check "software key $k: CSR verifies" openssl req -verify -noout -in "$T/out"
done
openssl pkcs8 -topk8 -in "$T/sw8.pem" -passout pass:hunter2 -out "$T/enc.pem" 2>/dev/null
openssl rsa -in "$T/sw8.pem" -aes256 -passout pass:hunter2 -traditional -out "$T/enc1.pem" 2>/dev/null
expect 2 "is encrypted" csr create --key "$T/enc.pem" --subject CN=x
expect 2 "is encrypted" csr create --key "$T/enc1.pem" --subject CN=x
echo hunter2 >"$T/pass"
expect 0 "" csr create --key "$T/enc.pem" --subject CN=x --passphrase-source "file:$T/pass"
check "encrypted key, with passphrase: CSR verifies" openssl req -verify -noout -in "$T/out"
echo wrong >"$T/wrong"
expect 1 "wrong passphrase" csr create --key "$T/enc.pem" --subject CN=x --passphrase-source "file:$T/wrong"

# libp11's engine signs with a key keygate generated (independent proof)
if [ -r /usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so ] || [ -r /usr/lib/aarch64-linux-gnu/engines-3/pkcs11.so ]; then
	PKCS11_MODULE_PATH=$KEYGATE_MODULE openssl req -new -engine pkcs11 -keyform engine \
		-key "pkcs11:token=ci;object=rsa-2048;type=private;pin-value=$KEYGATE_PIN" \
		-subj /CN=engine.example -out "$T/engine.csr" >/dev/null 2>&1 && ok || bad "libp11 engine could not sign with keygate's RSA key"
	check "engine CSR verifies" openssl req -verify -noout -in "$T/engine.csr"
	check "engine CSR has keygate's key" cmp <(openssl req -in "$T/engine.csr" -noout -pubkey) <(openssl req -in "$T/rsa-2048.csr" -noout -pubkey)
	PKCS11_MODULE_PATH=$KEYGATE_MODULE openssl req -new -engine pkcs11 -keyform engine \
		-key "pkcs11:token=ci;object=ec-p256;type=private;pin-value=$KEYGATE_PIN" \
		-subj /CN=engine.example -out "$T/engine-ec.csr" >/dev/null 2>&1 && ok || bad "libp11 engine could not sign with keygate's EC key"
	check "engine EC CSR verifies" openssl req -verify -noout -in "$T/engine-ec.csr"
fi

# cert show: PEM and DER, certificates, requests, keys; fingerprints agree
openssl x509 -in "$T/rsa-2048.pem" -outform DER -out "$T/c.der"
for f in "$T/rsa-2048.pem" "$T/c.der"; do
	expect 0 "" cert show "$f"
	want=$(openssl x509 -in "$T/rsa-2048.pem" -noout -fingerprint -sha256 | cut -d= -f2)
	check "cert show fingerprint of $(basename "$f")" grep -q "SHA256 Fingerprint=$want" "$T/out"
done
expect 0 "" --json cert show "$T/rsa-2048.csr" "$T/sw8.pem" "$T/enc.pem"
equal "kinds" "$(jq -r '[.files[].objects[].kind] | join(",")' "$T/out")" "certificate request,private key,encrypted private key"
check "a private key's text never holds private values" bash -c "! grep -Eqi 'privateExponent|prime1|priv:' '$T/out'"
equal "CSR SAN in JSON" "$(jq -r '.files[0].objects[0].san[0]' "$T/out")" "DNS:rsa-2048.example.com"
expect 0 "" --json cert show "$T/ca.pem"
spki=$(openssl x509 -in "$T/ca.pem" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -c1-64)
equal "SPKI fingerprint" "$(jq -r '.files[0].objects[0].spki_sha256' "$T/out")" "$spki"
equal "ca flag" "$(jq -r '.files[0].objects[0].ca' "$T/out")" true
head -c 3000 /dev/urandom >"$T/garbage"
: >"$T/empty"
expect 1 "is neither PEM nor" cert show "$T/garbage"
expect 1 "is empty" cert show "$T/empty"
expect 2 "cannot read" cert show "$T/nonexistent"

# --json for the signing commands: one JSON document on stdout
expect 0 "" --json csr create --key "$TOK;object=ec-p256" --subject CN=j.example.com
check "csr --json carries the PEM" jq -e '.pem | startswith("-----BEGIN CERTIFICATE REQUEST-----")' "$T/out"
check "csr --json names the key URI" jq -e '.key | startswith("pkcs11:")' "$T/out"
expect 0 "" --json cert selfsign --key "$TOK;object=ec-p256" --subject CN=j.example.com --profile client
check "cert --json: profile and days" jq -e '.profile == "client" and .days == 365' "$T/out"

# key types keygate does not sign with: refused as usage, not as a token error
openssl genpkey -algorithm ED25519 -out "$T/ed.pem" 2>/dev/null
expect 2 "unsupported key type 'ED25519'" csr create --key "$T/ed.pem" --subject CN=x
expect 2 "unsupported key type" cert selfsign --key "$T/ed.pem" --subject CN=x
