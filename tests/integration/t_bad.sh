#!/usr/bin/env bash
# Bad input: each gets one clear line, the right exit status, and leaves
# nothing half-made on disk or on the token.
. "$(dirname "$0")/lib.sh"
new_token ci
TOK=pkcs11:token=ci
P11() { pkcs11-tool --module "$KEYGATE_MODULE" --token-label ci --login --pin "$KEYGATE_PIN" "$@" 2>/dev/null; }
expect 0 "" key gen --token $TOK --label web --type ec:p256
KEY="$TOK;object=web"

# PINs: wrong (one try, not locked), missing, and every source
KG_ENV="KEYGATE_PIN=0000" expect 3 "PIN incorrect for token 'ci'" csr create --key "$KEY" --subject CN=x --out "$T/w.csr"
check "wrong PIN: no output file" test ! -e "$T/w.csr"
expect 0 "" csr create --key "$KEY" --subject CN=x
check "one wrong PIN did not lock the token" bash -c "! '$KEYGATE' token list | grep -q 'PIN LOCKED'"
KG_ENV="-u KEYGATE_PIN" expect 2 "no PIN for token 'ci'" csr create --key "$KEY" --subject CN=x
echo "$KEYGATE_PIN" >"$T/pin"
KG_ENV="-u KEYGATE_PIN" expect 0 "" --pin-source "file:$T/pin" csr create --key "$KEY" --subject CN=x
KG_ENV="-u KEYGATE_PIN MYPIN=$KEYGATE_PIN" expect 0 "" csr create --key "$KEY" --subject CN=x --pin-source env:MYPIN
set +e; env -u KEYGATE_PIN "$KEYGATE" csr create --key "$KEY" --subject CN=x --pin-source fd:5 5<"$T/pin" >/dev/null 2>"$T/err"; rc=$?; set -e
equal "--pin-source fd:5" "$rc" 0
KG_ENV="-u KEYGATE_PIN" expect 0 "" csr create --key "$KEY;pin-source=$T/pin" --subject CN=x
KG_ENV="-u KEYGATE_PIN" expect 0 "pin-value=" csr create --key "$KEY;pin-value=$KEYGATE_PIN" --subject CN=x
check "pin-value warns" grep -q "warning" "$T/err"
KG_ENV="-u KEYGATE_PIN" expect 2 "bad secret source" csr create --key "$KEY" --subject CN=x --pin-source pass:1234
expect 2 "unknown option '--pin'" csr create --key "$KEY" --subject CN=x --pin 1234
check "a PIN is never echoed" bash -c "! grep -q '$KEYGATE_PIN' '$T/err'"

# tokens and keys that are not there, or not one
expect 3 "no token matches 'pkcs11:token=nosuch" csr create --key "pkcs11:token=nosuch;object=web" --subject CN=x
expect 3 "no private key matches" csr create --key "$TOK;object=nosuch" --subject CN=x
P11 --keypairgen --key-type EC:prime256v1 --label web --id 99 >/dev/null
expect 3 "matches 2 private keys on token 'ci'" csr create --key "$KEY" --subject CN=x
check "ambiguity lists id 99" grep -q "id=%99" "$T/err"
expect 0 "" csr create --key "$KEY;id=%99" --subject CN=x
check "id= picks one" openssl req -verify -noout -in "$T/out"

# names
expect 2 "bad subject 'CN'" csr create --key "$KEY;id=%99" --subject CN
expect 2 "unknown attribute 'XX'" csr create --key "$KEY;id=%99" --subject XX=1
expect 2 "--subject needs a non-empty value" csr create --key "$KEY;id=%99" --subject ""
expect 2 "empty subject" csr create --key "$KEY;id=%99" --subject "  "
expect 2 "not a valid DNS name" csr create --key "$KEY;id=%99" --subject CN=x --san "DNS:bad name"
expect 2 "not a valid IP address" csr create --key "$KEY;id=%99" --subject CN=x --san IP:999.1.1.1
expect 2 "unknown type 'FTP'" csr create --key "$KEY;id=%99" --subject CN=x --san FTP:x
expect 2 "unsupported digest 'md5'" csr create --key "$KEY;id=%99" --subject CN=x --digest md5
expect 2 "bad --days" cert selfsign --key "$KEY;id=%99" --subject CN=x --days 0
expect 2 "bad --days" cert selfsign --key "$KEY;id=%99" --subject CN=x --days 10x
expect 2 "unknown profile" cert selfsign --key "$KEY;id=%99" --subject CN=x --profile root
expect 2 "needs --key KEY and --subject DN" csr create --subject CN=x

# inputs and outputs
expect 2 "cannot read '$T/nokey.pem'" csr create --key "$T/nokey.pem" --subject CN=x
echo "not a key" >"$T/junk.pem"
expect 2 "holds no private key" csr create --key "$T/junk.pem" --subject CN=x
expect 4 "cannot write" csr create --key "$KEY;id=%99" --subject CN=x --out /nonexistent-dir/x.csr
expect 4 "cannot write" csr create --key "$KEY;id=%99" --subject CN=x --out /etc/passwd/x.csr
echo original >"$T/exists.csr"
expect 4 "exists; use --force" csr create --key "$KEY;id=%99" --subject CN=x --out "$T/exists.csr"
equal "existing file untouched" "$(cat "$T/exists.csr")" original
expect 0 "" csr create --key "$KEY;id=%99" --subject CN=x --out "$T/exists.csr" --force
check "--force replaced it" openssl req -verify -noout -in "$T/exists.csr"
equal "no temporary files left" "$(find "$T" -name '*.kgtmp.*' | wc -l)" 0

# the token is left whole: failed key gens make no objects
before=$(P11 --list-objects | grep -c "Object;")
KG_ENV="KEYGATE_PIN=0000" expect 3 "PIN incorrect" key gen --token $TOK --label never
expect 2 "exists on token 'ci'" key gen --token $TOK --label web
after=$(P11 --list-objects | grep -c "Object;")
equal "objects after refused gens" "$after" "$before"

# usage errors and the JSON error document
expect 2 "unknown command 'frob'" frob
expect 2 "unknown command 'key frob'" key frob
expect 2 "unknown option '--nope'" key list --token $TOK --nope
expect 2 "needs a verb" key
expect 2 "" --json csr create --subject CN=x
check "--json error document" jq -e '.error.code == 2 and (.error.message | test("--key"))' "$T/out"
KG_ENV="KEYGATE_PIN=0000" expect 3 "" --json key list --token $TOK
check "--json token error document" jq -e '.error.code == 3 and (.error.message | test("PIN incorrect"))' "$T/out"
expect 2 "bad time" --at yesterday token list

# an audit log that cannot be written stops the operation: no output
expect 4 "audit log" --audit /nonexistent-dir/audit.jsonl csr create --key "$KEY;id=%99" --subject CN=x --out "$T/unrecorded.csr"
check "unrecorded: no output" test ! -e "$T/unrecorded.csr"
KG_ENV="KEYGATE_AUDIT=/nonexistent-dir/a.jsonl" expect 4 "audit log" csr create --key "$KEY;id=%99" --subject CN=x
