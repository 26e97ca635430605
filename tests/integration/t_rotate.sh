#!/usr/bin/env bash
# The README's rotation recipe with keygate alone: truststore merge /
# remove for the overlap, certificates imported beside their keys, the
# old key and certificate deleted; and cert expiry over files, directories
# and certificates stored on a token.
. "$(dirname "$0")/lib.sh"
new_token ci
TOK=pkcs11:token=ci
cd "$T"
q() { "$@" >/dev/null 2>&1; }

# the seed's rotation: new client certificate on the token, the backend
# trusts old + new, switch, drop the old
expect 0 "" key gen --token $TOK --label client-old --type ec:p256
expect 0 "" cert selfsign --key "$TOK;object=client-old" --subject CN=client-old --profile client --days 30 --out old.pem
expect 0 "" key gen --token $TOK --label client-new --type ec:p256
expect 0 "" cert selfsign --key "$TOK;object=client-new" --subject CN=client-new --profile client --days 365 --out new.pem
expect 0 "" truststore merge old.pem new.pem old.pem --out both.pem
check "merge: 1 duplicate dropped" grep -q "2 certificates, 1 duplicate dropped" "$T/err"
equal "merged: old then new" "$(openssl crl2pkcs7 -nocrl -certfile both.pem | openssl pkcs7 -print_certs -noout | grep subject= | tr '\n' '|')" \
	"subject=CN = client-old|subject=CN = client-new|"
expect 0 "" mtls check --truststore both.pem --cert old.pem
expect 0 "" mtls check --truststore both.pem --cert new.pem
FP=$(openssl x509 -in old.pem -noout -fingerprint -sha256 | cut -d= -f2)
expect 0 "" truststore remove both.pem --fingerprint "$FP" --out new-only.pem
expect 1 "" mtls check --truststore new-only.pem --cert old.pem
expect 0 "" mtls check --truststore new-only.pem --cert new.pem
expect 1 "no certificate in" truststore remove new-only.pem --fingerprint "$FP" --out x.pem
check "nothing written" test ! -e x.pem
expect 2 "SHA-256 fingerprint" truststore remove both.pem --fingerprint abc --out y.pem
expect 4 "exists" truststore merge old.pem --out both.pem
# the rest of the README's recipe, keygate alone (issue 12): each
# certificate beside its key on the token, the client switched, the old
# key and its certificate deleted, nothing else touched
expect 0 "" cert import old.pem --token $TOK
expect 0 "" cert import new.pem --token $TOK
expect 0 "" mtls check --truststore new-only.pem --cert "$TOK;object=client-new;type=cert"
expect 1 "" mtls check --truststore new-only.pem --cert "$TOK;object=client-old;type=cert"
expect 0 "" key delete "$TOK;object=client-old" --with-cert --yes
expect 0 "" --json object list --token $TOK
equal "rotated: only the new key and its certificate (and public key) left" \
	"$(jq -r '[.objects[].label] | unique | join(",")' "$T/out")" client-new
equal "rotated: three objects" "$(jq '.objects | length' "$T/out")" 3
expect 0 "" mtls check --truststore new-only.pem --cert "$TOK;object=client-new;type=cert"
expect 0 "" --json truststore merge old.pem new.pem --out both.pem --force
check "merge --json" jq -e '.certificates == 2 and .duplicates_dropped == 0' "$T/out"

# cert expiry: files, a directory, and certificates on the token
mkdir -p dir/sub
cp new.pem dir/a.pem; cp old.pem dir/sub/b.crt; echo "not a cert" >dir/readme.txt
expect 1 "expire" cert expiry old.pem new.pem
check "soonest first" bash -c "head -1 '$T/out' | grep -q client-old"
expect 0 "" cert expiry new.pem
expect 0 "" cert expiry --within 1d old.pem
kg --json cert expiry dir --within 400d
equal "directory: both found, soonest first" "$(jq -r '[.certificates[].subject] | join(",")' "$T/out")" "CN=client-old,CN=client-new"
equal "directory: both within 400 days" "$RC" 1
# nothing to report: a directory or a token without certificates (UBSan
# caught a qsort of the empty list's NULL array)
mkdir -p empty
expect 0 "" --json cert expiry empty
equal "empty directory: no certificates" "$(jq -c '.certificates' "$T/out")" "[]"
KG_ENV="-u KEYGATE_PIN" expect 0 "" cert expiry "$TOK"
KG_ENV="-u KEYGATE_PIN" expect 0 "" --json cert expiry "$TOK" --within 30d
equal "token certificate found without a PIN" "$(jq -r '.certificates[0].subject' "$T/out")" "CN=client-new"
check "its source is a pkcs11: URI" jq -e '.certificates[0].source | startswith("pkcs11:")' "$T/out"
check "days left about 365" jq -e '.certificates[0].days_left >= 363 and .certificates[0].days_left <= 365' "$T/out"
expect 1 "" --at "$(date -u -d '+400 days' +%FT%TZ)" cert expiry new.pem
check "expired after --at" grep -q EXPIRED "$T/out"
expect 2 "bad --within" cert expiry new.pem --within soon
expect 2 "cannot read" cert expiry nosuch.pem
