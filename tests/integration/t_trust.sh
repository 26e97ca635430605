#!/usr/bin/env bash
# truststore lint (one case per code), mtls check (one case per reason and
# the allow cases), and real handshakes that agree with mtls check:
# openssl s_server -Verify and Node's https.createServer, curl as client.
. "$(dirname "$0")/lib.sh"
cd "$T"
q() { "$@" >/dev/null 2>&1; }

# ---- a PKI made by openssl ---------------------------------------------
mkdir -p cadb && : >cadb/index.txt && echo 01 >cadb/serial
cat >ca.cnf <<'CNF'
[ca]
default_ca = c
[c]
database = cadb/index.txt
new_certs_dir = cadb
serial = cadb/serial
default_md = sha256
policy = p
unique_subject = no
copy_extensions = none
[p]
commonName = supplied
CNF
printf "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n" >ca.ext
printf "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nauthorityKeyIdentifier=keyid\n" >client.ext
root() { q openssl req -x509 -newkey "${3:-rsa:2048}" -nodes -keyout "$1.key" -out "$1.pem" -subj "/CN=$2" -days 3650 \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -addext subjectKeyIdentifier=hash; }
# issue NAME SUBJ ISSUER EXT [KEYALG] [DIGEST] [START END]
issue() {
	local name=$1 subj=$2 ca=$3 ext=$4 alg=${5:-rsa:2048} md=${6:-sha256}
	case $alg in
	ec:*) q openssl req -new -newkey ec -pkeyopt "ec_paramgen_curve:${alg#ec:}" -nodes -keyout "$name.key" -out "$name.csr" -subj "/CN=$subj" ;;
	*) q openssl req -new -newkey "$alg" -nodes -keyout "$name.key" -out "$name.csr" -subj "/CN=$subj" ;;
	esac
	if [ $# -ge 8 ]; then
		q openssl ca -batch -config ca.cnf -cert "$ca.pem" -keyfile "$ca.key" -in "$name.csr" -out "$name.pem" \
			-startdate "$7" -enddate "$8" -extfile "$ext" -md "$md" -notext
	else
		q openssl x509 -req -in "$name.csr" -CA "$ca.pem" -CAkey "$ca.key" -CAcreateserial -out "$name.pem" \
			-days 365 -extfile "$ext" -"$md"
	fi
}
root root "Test Root"
root other "Other Root"
issue int "Test Intermediate" root ca.ext
issue client "client-01" int client.ext
issue clientec "client-ec" int client.ext ec:P-256
issue clientsha1 "client-sha1" int client.ext rsa:2048 sha1
issue clientexp "client-expired" int client.ext rsa:2048 sha256 20200101000000Z 20210101000000Z
issue clientnyv "client-future" int client.ext rsa:2048 sha256 21000101000000Z 21010101000000Z
issue stranger "stranger" other client.ext
q openssl req -x509 -newkey rsa:2048 -nodes -keyout self.key -out self.pem -subj "/CN=self-client" -days 365 \
	-addext extendedKeyUsage=clientAuth
# a long chain: root -> i1 -> i2 -> i3 -> deep client (5 on the path)
issue i1 "Level 1" root ca.ext
issue i2 "Level 2" i1 ca.ext
issue i3 "Level 3" i2 ca.ext
issue deep "client-deep" i3 client.ext
# a forged client: the intermediate's name, another key, no key id
q openssl req -new -newkey rsa:2048 -nodes -keyout fake.key -out fake.csr -subj "/CN=Test Intermediate"
q openssl req -x509 -key fake.key -in fake.csr -out fake.pem -days 30
printf "basicConstraints=CA:FALSE\nauthorityKeyIdentifier=none\nextendedKeyUsage=clientAuth\n" >forged.ext
issue forged "client-forged" fake forged.ext
# truststore certificates with weak algorithms
root weakkey "Weak Key Root" rsa:1024
q openssl req -x509 -newkey rsa:2048 -nodes -keyout sha1root.key -out sha1root.pem -subj "/CN=SHA1 Root" -days 3650 -sha1 \
	-addext basicConstraints=critical,CA:TRUE
q openssl req -x509 -newkey rsa:2048 -nodes -keyout exproot.key -out exproot.pem -subj "/CN=Old Root" -days 1 \
	-addext basicConstraints=critical,CA:TRUE

cat root.pem >ts-root.pem
cat int.pem root.pem >ts-full.pem
cat i3.pem i2.pem i1.pem root.pem >ts-deep.pem
cat client.pem int.pem >client-chain.pem
cat deep.pem >deep-sent.pem
cat forged.pem >forged-sent.pem

# ---- truststore lint: one case per code ---------------------------------
lint() {
	local name=$1 want=$2 codes=$3
	shift 3
	kg --json "$@"
	local got
	got=$(jq -r '[.findings[].code] | unique | join(",")' "$T/out" 2>/dev/null || echo not-json)
	if [ "$RC" -eq "$want" ] && [ "$got" = "$codes" ]; then ok; else
		bad "lint $name: rc $RC (want $want), codes '$got' (want '$codes')"; fi
}
lint "clean: intermediate and root" 0 "" truststore lint ts-full.pem
lint "clean: EC-free RSA root" 0 "" truststore lint ts-root.pem
: >empty.pem
lint "ts-empty + pem-invalid: empty file" 1 "pem-invalid,ts-empty" truststore lint empty.pem
lint "ts-empty: only a key" 1 "pem-invalid,ts-empty" truststore lint client.key
lint "ts-expired (--at)" 1 "ts-expired" --at "$(date -u -d '+20 years' +%FT%TZ)" truststore lint ts-root.pem
lint "ts-not-yet-valid (--at)" 1 "ts-not-yet-valid" --at "$(date -u -d '-2 days' +%FT%TZ)" truststore lint ts-root.pem
lint "ts-weak-signature" 1 "ts-weak-signature" truststore lint sha1root.pem
lint "ts-weak-key" 1 "ts-weak-key" truststore lint weakkey.pem
lint "ts-chain-incomplete" 1 "ts-chain-incomplete" truststore lint int.pem
cat i3.pem i2.pem i1.pem root.pem >ts-long.pem
issue i4 "Level 4" i3 ca.ext
cat i4.pem i3.pem i2.pem i1.pem root.pem >ts-long.pem
lint "ts-chain-too-long" 1 "ts-chain-too-long" truststore lint ts-long.pem
check "too-long names Level 4" jq -e '.findings[0].subject == "CN=Level 4" and .findings[0].index == 0' "$T/out"
cat forged.pem fake.pem int.pem root.pem >ts-sig.pem
cat fake.pem root.pem >ts-fake.pem
cp fake.pem fake-ca.pem
issue fakeleaf "Fake Leaf" fake ca.ext
printf "basicConstraints=critical,CA:TRUE\n" >plain-ca.ext
# a CA certificate whose issuer name is the intermediate's, signed by another key
issue sigbad "Sig Bad CA" fake forged.ext
cat sigbad.pem int.pem root.pem >ts-sig.pem
lint "ts-signature (+ts-not-ca)" 1 "ts-not-ca,ts-signature" truststore lint ts-sig.pem
cat client.pem int.pem root.pem >ts-notca.pem
lint "ts-not-ca is a warning" 0 "ts-not-ca" truststore lint ts-notca.pem
cat int.pem root.pem int.pem >ts-dup.pem
lint "ts-duplicate" 0 "ts-duplicate" truststore lint ts-dup.pem
issue xint "Test Intermediate" other ca.ext
cat int.pem root.pem xint.pem other.pem >ts-conflict.pem
lint "ts-subject-conflict" 0 "ts-subject-conflict" truststore lint ts-conflict.pem
if [ -r /etc/ssl/certs/ca-certificates.crt ]; then
	kg --json truststore lint /etc/ssl/certs/ca-certificates.crt
	# Debian's bundle: only SHA-1 self-signatures and expired roots, each
	# an error API Gateway would report too (tests/TRUSTSTORE-DEBIAN.md lists them)
	check "Debian bundle: only weak signatures and expiry" \
		jq -e '[.findings[].code] | unique - ["ts-weak-signature","ts-expired"] == []' "$T/out"
fi

# ---- mtls check: every reason, and the allow cases ----------------------
# mcase NAME DECISION REASON TRUSTSTORE SENT [--at TIME]
mcase() {
	local name=$1 want=$2 reason=$3 ts=$4 sent=$5
	shift 5
	kg --json "$@" mtls check --truststore "$ts" --cert "$sent"
	local got
	got=$(jq -r '"\(.decision)/\(.status)/\(.reason)"' "$T/out" 2>/dev/null || echo not-json)
	local code=$([ "$want" = allow ] && echo 200 || echo 403)
	if [ "$got" = "$want/$code/$reason" ] && [ "$RC" -eq "$([ "$want" = allow ] && echo 0 || echo 1)" ]; then ok; else
		bad "mtls $name: $got rc $RC, want $want/$code/$reason"; fi
}
mcase "leaf only, intermediate in the store" allow null ts-full.pem client.pem
check "path is leaf, intermediate, root" jq -e '.path | length == 3' "$T/out"
mcase "leaf + intermediate sent, root in the store" allow null ts-root.pem client-chain.pem
mcase "EC leaf" allow null ts-full.pem clientec.pem
mcase "self-signed client certificate in the store" allow null self.pem self.pem
check "a self-signed client is a path of one" jq -e '.path | length == 1' "$T/out"
mcase "untrusted: another CA" deny untrusted ts-full.pem stranger.pem
mcase "untrusted: intermediate not sent" deny untrusted ts-root.pem client.pem
mcase "expired" deny expired ts-full.pem clientexp.pem
mcase "not-yet-valid" deny not-yet-valid ts-full.pem clientnyv.pem
mcase "unsupported-algorithm: SHA-1 signature" deny unsupported-algorithm ts-full.pem clientsha1.pem
mcase "chain-too-long: 5 on the path" deny chain-too-long ts-deep.pem deep-sent.pem
mcase "bad-signature: forged by name" deny bad-signature ts-full.pem forged-sent.pem
mcase "expired by --at" deny expired ts-full.pem client.pem --at "$(date -u -d '+2 years' +%FT%TZ)"
expect 2 "give --truststore FILE" mtls check --cert client.pem

# ---- real handshakes agree ----------------------------------------------
q openssl req -x509 -newkey rsa:2048 -nodes -keyout srv.key -out srv.pem -subj "/CN=localhost" -days 30 \
	-addext subjectAltName=IP:127.0.0.1,DNS:localhost
PORT=$((20000 + RANDOM % 20000))
# handshake STACK TRUSTSTORE CERT KEY: 0 when the server took the client,
# 1 when it refused it; a server that never listened, or a client that
# could not connect, is a failure of the test, never a "deny"
handshake() {
	local stack=$1 ts=$2 cert=$3 key=$4 pid rc
	PORT=$((PORT + 1))
	if [ "$stack" = openssl ]; then
		openssl s_server -quiet -accept "$PORT" -cert srv.pem -key srv.key -CAfile "$ts" -Verify 10 \
			-verify_return_error -www >/dev/null 2>&1 &
	else
		node "$KG_SRC/tests/integration/mtls_server.js" "$PORT" srv.pem srv.key "$ts" >node.out 2>&1 &
	fi
	pid=$!
	local up=0
	for _ in $(seq 100); do
		if (echo >/dev/tcp/127.0.0.1/$PORT) 2>/dev/null; then up=1; break; fi
		sleep 0.1
	done
	if [ $up -eq 0 ] || ! kill -0 "$pid" 2>/dev/null; then
		bad "handshake $stack: the server on port $PORT did not start"
		kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
		return 2
	fi
	set +e
	curl -s -o /dev/null --max-time 10 --cacert srv.pem --cert "$cert" --key "$key" "https://127.0.0.1:$PORT/"
	rc=$?
	set -e
	kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
	case $rc in
	0) return 0 ;;
	7 | 28) # could not connect / timed out: the server, not the verdict
		bad "handshake $stack: curl could not talk to the server (rc $rc)"
		return 2 ;;
	*) return 1 ;;
	esac
}
# hcase NAME TRUSTSTORE SENT KEY LENIENT: LENIENT names what the stacks
# accept that API Gateway refuses ("" when they must agree exactly)
hcase() {
	local name=$1 ts=$2 sent=$3 key=$4 lenient=$5 stack hs hrc
	kg --json mtls check --truststore "$ts" --cert "$sent"
	local decision
	decision=$(jq -r .decision "$T/out")
	for stack in openssl node; do
		[ "$stack" = node ] && ! command -v node >/dev/null && continue
		hrc=0
		handshake $stack "$ts" "$sent" "$key" || hrc=$?
		case $hrc in 0) hs=allow ;; 1) hs=deny ;; *) hs=broken ;; esac
		if [ -z "$lenient" ]; then
			equal "handshake $stack agrees: $name" "$hs" "$decision"
		else
			# the stack is more lenient here; keygate keeps API Gateway's verdict
			equal "keygate stricter than $stack ($lenient): $name" "$decision" deny
		fi
	done
}
hcase "leaf only, intermediate in the store" ts-full.pem client.pem client.key ""
hcase "leaf + intermediate sent" ts-root.pem client-chain.pem client.key ""
hcase "EC leaf" ts-full.pem clientec.pem clientec.key ""
hcase "self-signed in the store" self.pem self.pem self.key ""
hcase "untrusted" ts-full.pem stranger.pem stranger.key ""
hcase "untrusted: intermediate not sent" ts-root.pem client.pem client.key ""
hcase "expired" ts-full.pem clientexp.pem clientexp.key ""
hcase "not-yet-valid" ts-full.pem clientnyv.pem clientnyv.key ""
hcase "bad-signature" ts-full.pem forged-sent.pem forged.key ""
hcase "SHA-1 signature" ts-full.pem clientsha1.pem clientsha1.key "SHA-1 may be accepted at security level 0/1"
hcase "five on the path" ts-deep.pem deep-sent.pem deep.key "TLS stacks allow deep chains"
