#!/usr/bin/env bash
# Regenerates the seed corpora of tests/fuzz/corpus/ with openssl: small
# valid inputs and edge cases for each target (fresh keys every time, so
# the files change but not what they cover). Inputs that stand for several
# files join them with a line "@@@@" (FZ_SEP in fz.h). Keep it small: the
# whole corpus stays well under 1 MB.
#   bash tests/fuzz/mkcorpus.sh
set -euo pipefail
cd "$(dirname "$0")"
out=$PWD/corpus
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
cd "$w"
sep() { printf '@@@@\n'; }
ossl() { openssl "$@" 2>>"$w/openssl.log" || { cat "$w/openssl.log" >&2; return 1; }; }

# ---- a small PKI: root -> intermediate -> leaves (EC P-256, RSA 1024) ----
cat >ext.cnf <<'EOF'
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[int]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth,clientAuth
subjectAltName = DNS:api.example.com,DNS:*.api.example.com,IP:10.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[codesign]
extendedKeyUsage = codeSigning
subjectAltName = email:dev@example.com,URI:https://example.com/x
[req]
subjectAltName = DNS:api.example.com,IP:10.0.0.1,email:ops@example.com
basicConstraints = CA:FALSE
[reqca]
basicConstraints = critical,CA:TRUE
EOF
ec() { ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }
ec root.key
ec int.key
ec leaf.key
ec client.key
ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out rsa.key
ossl req -new -x509 -key root.key -subj "/O=Example/CN=Example Root" \
	-days 3650 -addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" -out root.pem
sign() { # sign CSRKEY SUBJ ISSUER-CERT ISSUER-KEY EXT DAYS OUT [MD]
	ossl req -new -key "$1" -subj "$2" -out "$w/tmp.csr"
	ossl x509 -req -in "$w/tmp.csr" -CA "$3" -CAkey "$4" -CAcreateserial \
		-days "$6" -extfile ext.cnf -extensions "$5" -"${8:-sha256}" \
		-out "$7"
}
sign int.key "/O=Example/CN=Example Issuing CA" root.pem root.key int 3650 int.pem
sign leaf.key "/O=Example/CN=api.example.com" int.pem int.key server 3000 leaf.pem
sign client.key "/O=Example/CN=client-01" int.pem int.key client 3000 client.pem
sign rsa.key "/O=Example/CN=rsa.example.com" int.pem int.key server 3000 rsaleaf.pem
sign rsa.key "/CN=old.example.com" int.pem int.key server 30 expired.pem
sign rsa.key "/CN=sha1.example.com" root.pem root.key server 3000 sha1.pem sha1
sign client.key "/CN=dev" root.pem root.key codesign 3000 codesign.pem
ossl req -new -x509 -key leaf.key -subj "/CN=self.example.com" -days 3000 \
	-addext "subjectAltName=DNS:self.example.com" -out self.pem
# an X.509 v1 certificate: no extensions at all
ossl req -new -key client.key -subj "/CN=v1" -out v1.csr
ossl x509 -req -in v1.csr -signkey client.key -days 3000 -out v1.pem
# a CRL from the issuing CA that revokes client.pem
cat >ca.cnf <<EOF
[ca]
default_ca = d
[d]
database = $w/index.txt
crlnumber = $w/crlnumber
default_md = sha256
default_crl_days = 3000
EOF
: >index.txt
echo 01 >crlnumber
ossl ca -config ca.cnf -cert int.pem -keyfile int.key -revoke client.pem
ossl ca -config ca.cnf -cert int.pem -keyfile int.key -gencrl -out int.crl
# requests
ossl req -new -key leaf.key -subj "/C=DE/O=Example/CN=api.example.com" \
	-addext "subjectAltName=DNS:api.example.com,IP:10.0.0.1,email:o@example.com" \
	-addext "basicConstraints=CA:FALSE" -out ec.csr
ossl req -new -key rsa.key -subj "/CN=rsa.example.com" -out rsa.csr
ossl req -new -key client.key -subj "/CN=sub CA" \
	-addext "basicConstraints=critical,CA:TRUE" -out ca.csr
ossl req -in ec.csr -outform DER -out ec.csr.der
# keys in every form
ossl pkey -in leaf.key -out leaf.pk8
ossl ec -in leaf.key -out leaf.sec1
ossl rsa -in rsa.key -traditional -out rsa.pkcs1
ossl pkey -in rsa.key -outform DER -out rsa.key.der
ossl pkey -in leaf.key -pubout -out leaf.pub
ossl pkcs8 -topk8 -in leaf.key -v2 aes-128-cbc -iter 1 -passout pass:x \
	-out leaf.enc.pk8
ossl ec -in leaf.key -aes128 -passout pass:x -out leaf.enc.sec1
ossl x509 -in leaf.pem -outform DER -out leaf.der
# three CAs that issued each other: a -> b -> c -> a, no root
for k in a b c; do
	ec x$k.key
	ossl req -new -x509 -key x$k.key -subj "/CN=X$k" -days 3000 -out x$k.root
done
for p in a:b b:c c:a; do
	s=${p%:*} i=${p#*:}
	ossl req -new -key x$s.key -subj "/CN=X$s" -out "$w/tmp.csr"
	ossl x509 -req -in "$w/tmp.csr" -CA x$i.root -CAkey x$i.key \
		-CAcreateserial -days 3000 -extfile ext.cnf -extensions ca \
		-out x$s.pem
done
cat xa.pem xb.pem xc.pem >cycle.pem

rm -rf "$out"
mkdir -p "$out"
c() { mkdir -p "$out/$1"; cat >"$out/$1/$2"; }

# ---- PEM lexer and cert show: files as they come ----------------------
for t in pem_scan cert_show; do
	c $t cert.pem <leaf.pem
	cat leaf.pem int.pem | c $t chain.pem
	sed 's/$/\r/' leaf.pem | c $t crlf.pem
	c $t key-enc-proc.pem <leaf.enc.sec1
	c $t key-enc-pk8.pem <leaf.enc.pk8
	c $t der.bin <leaf.der
	c $t empty </dev/null
	printf -- '-----BEGIN CERTIFICATE-----\nnot base64 !\n-----END CERTIFICATE-----\n' | c $t bad-b64.pem
done
{ echo "Subject: CN=api.example.com"; cat leaf.pem; echo; cat int.pem; } |
	c pem_scan outside-blank.pem
sed '2s/$/  /' leaf.pem | c pem_scan trailing-ws.pem
{ head -3 leaf.pem; cat int.pem; tail -2 leaf.pem; } | c pem_scan nested.pem
sed 's/END CERTIFICATE/END X509 CRL/' leaf.pem | c pem_scan end-mismatch.pem
head -5 leaf.pem | c pem_scan unterminated.pem
printf -- '-----BEGIN -----\nAAAA\n-----END -----\n' | c pem_scan empty-label.pem
c cert_show csr.pem <ec.csr
c cert_show csr.der <ec.csr.der
c cert_show key-pk8.pem <leaf.pk8
c cert_show key-sec1.pem <leaf.sec1
c cert_show key-pkcs1.pem <rsa.pkcs1
c cert_show key.der <rsa.key.der
c cert_show pub.pem <leaf.pub
c cert_show crl.pem <int.crl
c cert_show v1.pem <v1.pem
cat leaf.pem ec.csr leaf.pk8 leaf.pub | c cert_show mixed.pem

# ---- software keys ----------------------------------------------------
c key_load pk8.pem <leaf.pk8
c key_load sec1.pem <leaf.sec1
c key_load pkcs1.pem <rsa.pkcs1
c key_load rsa.der <rsa.key.der
ossl pkey -in leaf.key -outform DER | c key_load ec.der
c key_load enc-pk8.pem <leaf.enc.pk8
c key_load enc-sec1.pem <leaf.enc.sec1
ossl pkcs8 -topk8 -in leaf.key -v2 aes-128-cbc -iter 1 -passout pass:x \
	-outform DER | c key_load enc-pk8.der
c key_load pub.pem <leaf.pub
ossl pkcs8 -topk8 -in leaf.key -scrypt -passout pass:x | c key_load enc-scrypt.pem
# a key that asks for 2^31 PBKDF2 iterations (eng_key_kdf_check)
printf '%s\n' 'asn1=SEQUENCE:e' '[e]' 'a=SEQUENCE:a' 'd=FORMAT:HEX,OCTETSTRING:00' \
	'[a]' 'o=OID:1.2.840.113549.1.5.13' 'p=SEQUENCE:p' '[p]' 'k=SEQUENCE:k' 'c=SEQUENCE:c' \
	'[k]' 'o=OID:1.2.840.113549.1.5.12' 'p=SEQUENCE:kp' '[kp]' 's=FORMAT:HEX,OCTETSTRING:0011' \
	'i=INTEGER:2147483647' '[c]' 'o=OID:aes-256-cbc' 'v=FORMAT:HEX,OCTETSTRING:00' >"$w/kdf.cnf"
ossl asn1parse -genconf "$w/kdf.cnf" -out "$w/kdf.der" -noout
c key_load kdf-2e31.der <"$w/kdf.der"
{ echo "a key:"; cat leaf.pk8; cat rsa.pkcs1; } | c key_load two.pem

# ---- the ACM gate: cert @@@@ key @@@@ chain [@@@@ old] -----------------
{ cat leaf.pem; sep; cat leaf.pk8; sep; cat int.pem root.pem; } | c acm_check ok-ec
{ cat rsaleaf.pem; sep; cat rsa.pkcs1; sep; cat int.pem; } | c acm_check ok-rsa
{ cat leaf.pem; sep; cat leaf.sec1; sep; cat int.pem; sep; cat leaf.pem; } | c acm_check reimport
# ... [@@@@ ownership cert @@@@ mTLS domain] (bundle check --mtls-domain)
{ cat leaf.pem; sep; cat leaf.sec1; sep; cat int.pem; sep; cat leaf.pem; sep; cat leaf.pem; sep; echo api.example.com; } | c acm_check mtls-reused
{ cat leaf.pem; sep; cat leaf.pk8; sep; cat int.pem root.pem; sep; cat rsaleaf.pem; sep; cat int.pem; sep; echo x.api.example.com; } | c acm_check mtls-wild
{ cat leaf.pem; sep; cat leaf.pk8; sep; cat int.pem; sep; sep; sep; echo '*.example.com'; } | c acm_check mtls-no-ownership
{ cat self.pem; sep; cat leaf.pk8; } | c acm_check self-signed
{ cat leaf.pem int.pem; sep; cat leaf.enc.pk8; sep; cat root.pem; echo; cat int.pem; } | c acm_check bad-order
{ cat expired.pem; sep; cat leaf.pk8; sep; sed 's/$/ /' int.pem; } | c acm_check mismatch
{ cat leaf.der; sep; cat rsa.key.der; sep; cat ec.csr; } | c acm_check der
{ cat codesign.pem; sep; cat leaf.enc.sec1; sep; } | c acm_check purpose
{ cat leaf.pem; sep; cat leaf.pk8; sep; cat root.pem self.pem int.pem; } | c acm_assemble reversed
{ cat leaf.pem int.pem root.pem; sep; cat leaf.sec1; } | c acm_assemble all-in-cert
{ echo "issued by Example"; cat rsaleaf.pem; echo; sep; cat rsa.pkcs1; sep; cat int.pem; } | c acm_assemble rsa-text
{ cat int.pem; sep; cat leaf.pk8; sep; cat leaf.pem; } | c acm_assemble leaf-in-chain
{ cat self.pem; sep; cat leaf.enc.pk8; } | c acm_assemble encrypted
{ cat xa.pem; sep; cat xa.key; sep; cat xb.pem xc.pem xa.pem; } | c acm_assemble cycle
{ cat xa.pem; sep; cat xa.key; sep; cat xc.pem xb.pem; } | c acm_check cycle

# ---- truststores ------------------------------------------------------
cat root.pem int.pem | c truststore_lint ok.pem
cat root.pem v1.pem sha1.pem expired.pem root.pem | c truststore_lint rules.pem
cat root.pem leaf.pem self.pem | c truststore_lint leaf-in-store.pem
{ cat root.pem; cat leaf.pk8; printf -- '-----BEGIN TRUSTED CERTIFICATE-----\nAAAA\n-----END TRUSTED CERTIFICATE-----\n'; } |
	c truststore_lint bad-block.pem
ossl x509 -in root.pem -outform DER | c truststore_lint root.der
head -5 root.pem | c truststore_lint truncated.pem
c truststore_lint cycle.pem <cycle.pem

# ---- mtls check: truststore @@@@ client certificate [+ chain] ----------
{ cat root.pem; sep; cat client.pem int.pem; } | c mtls_check allow
{ cat root.pem int.pem; sep; cat client.pem; } | c mtls_check store-int
{ cat root.pem; sep; cat client.pem; } | c mtls_check no-int
{ cat self.pem; sep; cat self.pem; } | c mtls_check self
{ cat root.pem; sep; cat expired.pem int.pem; } | c mtls_check expired
{ cat root.pem; sep; cat v1.pem; } | c mtls_check untrusted
{ cat xa.pem; sep; cat xb.pem xc.pem; } | c mtls_check cycle
# the first bad block refuses the file (regressions: a truncated last
# block, an empty label)
{ cat root.pem; sep; cat client.pem; head -5 int.pem; } | c mtls_check truncated
{ printf -- '-----BEGIN -----\nAAAA\n-----END -----\n'; sep; cat client.pem; } |
	c mtls_check empty-label

# ---- chain verify: store @@@@ cert @@@@ untrusted @@@@ crl @@@@ options --
{ cat root.pem; sep; cat leaf.pem; sep; cat int.pem; sep; cat int.crl; sep; printf 's-api.example.com\n'; } |
	c chain_verify server-crl
{ cat root.pem; sep; cat client.pem int.pem; sep; sep; cat int.crl; sep; printf 'c1\n'; } |
	c chain_verify revoked
{ cat root.pem; sep; cat leaf.pem; sep; cat int.pem; sep; sep; printf 'a0x.api.example.com\n'; } |
	c chain_verify depth-wildcard
{ cat root.pem; sep; cat rsaleaf.pem int.pem; sep; sep; sep; printf 's-10.0.0.1\n'; } |
	c chain_verify ip-host
{ cat root.pem; sep; cat sha1.pem; } | c chain_verify sha1
{ cat xa.pem; sep; cat xb.pem; sep; cat cycle.pem; } | c chain_verify cycle
{ cat self.pem; sep; cat self.pem; sep; sep; sep; printf 's-self.example.com\n'; } |
	c chain_verify self

# ---- requests ---------------------------------------------------------
c csr_parse ec.csr <ec.csr
c csr_parse rsa.csr <rsa.csr
c csr_parse ca.csr <ca.csr
c csr_parse ec.csr.der <ec.csr.der
sed 's/CERTIFICATE REQUEST/NEW CERTIFICATE REQUEST/' rsa.csr | c csr_parse new.csr
{ echo "text before"; cat ec.csr; } | c csr_parse text.csr

# ---- audit logs -------------------------------------------------------
python3 - "$out/audit_verify" <<'EOF'
import hashlib, json, os, sys
d = sys.argv[1]
os.makedirs(d, exist_ok=True)
def log(recs):
    prev, lines = "0" * 64, []
    for r in recs:
        r = dict(r, prev=prev)
        line = json.dumps(r, separators=(",", ":"))
        lines.append(line)
        prev = hashlib.sha256(line.encode()).hexdigest()
    return lines
rec = lambda op, res: {"time": "2026-11-29T12:00:00Z", "op": op,
    "result": res, "token": {"serial": "1a2b3c4d", "label": "ci"},
    "key_id": "0a0b", "key": "pkcs11:token=ci;object=web",
    "subject": "CN=api.example.com", "serial": None, "sha256": None,
    "out": "api.csr", "detail": None}
good = log([rec("key-gen", "ok"), rec("csr", "ok"), rec("export", "refused")])
def w(name, s):
    open(os.path.join(d, name), "w").write(s)
w("good", "\n".join(good) + "\n")
w("cut", "\n".join(good))
w("changed", "\n".join([good[0], good[1].replace("csr", "cert-issue"), good[2]]) + "\n")
w("reordered", "\n".join([good[1], good[0], good[2]]) + "\n")
w("not-json", good[0] + "\nhello\n")
w("empty", "")
EOF

# ---- the CA database in an audit log (audit_show) ---------------------
python3 - "$out/audit_show" <<'EOF'
import hashlib, json, os, sys
d = sys.argv[1]
os.makedirs(d, exist_ok=True)
def log(recs):
    prev, lines = "0" * 64, []
    for r in recs:
        r = dict(r, prev=prev)
        line = json.dumps(r, separators=(",", ":"))
        lines.append(line)
        prev = hashlib.sha256(line.encode()).hexdigest()
    return "\n".join(lines) + "\n"
ca = {"issuer": "CN=Test CA", "issuer_spki_sha256": "aa"}
base = lambda op, **kw: dict({"time": "2026-11-29T12:00:00Z", "op": op,
    "result": "ok", "token": {"serial": "1a2b3c4d", "label": "ci"},
    "key_id": "0a0b", "subject": None, "serial": None}, **kw)
issue = lambda s, **kw: base("cert-issue", subject="CN=a.example.com",
    serial=s, **dict(ca, **kw))
revoke = lambda s, r: base("cert-revoke", serial=s, reason=r,
    revoked_at="2026-11-30T00:00:00Z", **ca)
crl = lambda n, res="ok": base("crl", result=res, crl_number=n, **ca)
def w(name, s):
    open(os.path.join(d, name), "w").write(s)
w("ca", log([issue("0A1B"), issue("9A8AE0D451E848A0AF88971AD1AC236E"),
    revoke("0A1B", "keyCompromise"), crl("1"), crl("2", "not-written")]))
w("old", log([base("cert-issue", serial="0C"), revoke("0C", "superseded")]))
w("other-ca", log([issue("0D", issuer="CN=Other", issuer_spki_sha256="bb"),
    revoke("0D", "cACompromise")]))
w("bad-fields", log([issue("zz"), crl("0x10"), revoke("0A", "x")]))
EOF

# ---- strings: DN, SAN, URIs, secret sources, manifests ----------------
n=0
s() { n=$((n + 1)); printf '%s' "$2" | c "$1" "$(printf '%02d' $n)"; }
for v in "CN=api.example.com,O=Example" "/C=DE/O=Example/CN=api.example.com" \
	"CN=a+OU=b,O=Example Inc.,C=US" 'CN=a\,b,O=\2C\41' 'CN=x\ ,O=\"q\"' \
	"emailAddress=ops@example.com,CN=ops" "DC=example,DC=com,UID=jdoe" \
	"2.5.4.3=oid,1.2.3.4=dotted" "cn=lower,st=Bayern,l=Munich" \
	"CN=Jos\C3\A9,serialNumber=42" "CN=" "CN=a,,O=b" "/CN=a/+OU=b"; do
	s dn_parse "$v"
done
n=0
for v in "DNS:api.example.com,IP:10.0.0.1" "*.example.com" "10.0.0.1,::1" \
	"dns:a.example,ip:fe80::1%eth0,EMAIL:x@y.example" \
	"URI:https://example.com/path?q=1,email:a@b.example" \
	"DNS:xn--bcher-kva.example,IP:2001:db8::1" "DNS:-bad-.example" \
	"DNS:a..b" "IP:300.1.1.1" "a.example, b.example" "RID:1.2.3"; do
	s san_parse "$v"
done
n=0
for v in "pkcs11:token=ci;object=web" "pkcs11:" \
	"pkcs11:model=SoftHSM%20v2;manufacturer=SoftHSM%20project;serial=1a2b3c4d;token=ci;id=%01%02;object=web;type=private" \
	"pkcs11:token=ci?pin-source=file:/tmp/pin&module-path=/usr/lib/softhsm/libsofthsm2.so" \
	"pkcs11:slot-id=1;slot-description=x;slot-manufacturer=y;library-description=z;library-manufacturer=w;library-version=2.6" \
	"pkcs11:token=a%3Bb;object=c%2Fd?pin-value=1234&module-name=softhsm2" \
	"PKCS11:token=ci;type=cert" "pkcs11:id=%zz" "pkcs11:unknown=1;x-vendor=y" \
	"pkcs11:token=ci;token=other"; do
	s pkcs11_uri "$v"
done
n=0
for v in "file:/tmp/pin" "file:///tmp/pin" "env:KEYGATE_PIN" "fd:3" \
	"/abs/pin" "./rel:pin" "fd:" "fd:-1" "fd:99999999999" "env:" \
	"bogus:x" "pin.txt"; do
	s secret_source "$v"
done
mkdir -p "$out/manifest"
cat >"$out/manifest/ok.jsonl" <<'EOF'
{"label": "dev-001", "type": "ec:p256", "subject": "CN=dev-001.example", "san": "DNS:dev-001.example"}
{"label": "dev-002", "subject": "CN=dev-002.example,O=Example", "san": ["DNS:dev-002.example", "IP:10.0.0.2"]}

{"label": "dev-003", "type": "rsa:3072", "subject": "/O=Example/CN=dev-003"}
EOF
cat >"$out/manifest/bad.jsonl" <<'EOF'
{"label": "dev-001", "subject": "CN=a"}
{"label": "dev-001", "subject": "CN=b"}
{"label": ".hidden", "subject": "CN=c"}
{"label": "a/b", "subject": "CN=d"}
{"label": "x", "type": "dsa:1024", "subject": "CN=e"}
{"label": "y", "subject": 5}
{"label": "z", "subject": "CN=f", "san": [1]}
{"label": "w", "subject": "CN=g", "extra": 1}
[1, 2]
not json
{"label": "v", "label": "dup", "subject": "CN=h"}
EOF
printf '{"label":"crlf","subject":"CN=x"}\r\n\t \n{"label":"last","subject":"CN=y","san":"bad san"}' \
	>"$out/manifest/crlf.jsonl"

du -sh --apparent-size "$out"
find "$out" -type f | wc -l
