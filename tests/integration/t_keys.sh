#!/usr/bin/env bash
# key gen for every type; attributes read back by pkcs11-tool; duplicates.
. "$(dirname "$0")/lib.sh"
command -v pkcs11-tool >/dev/null || { echo "SKIP: no pkcs11-tool"; exit 77; }
new_token ci
TOK=pkcs11:token=ci
P11() { pkcs11-tool --module "$KEYGATE_MODULE" --token-label ci --login --pin "$KEYGATE_PIN" "$@" 2>/dev/null; }
# block TYPE LABEL: only that object's lines of --list-objects (its --label
# does not filter the listing)
block() {
	P11 --list-objects --type "$1" | awk -v L="$2" '
		/^[A-Z][a-z]+ Key Object/ { if (hit) printf "%s", b; b = ""; hit = 0 }
		{ b = b $0 "\n" }
		/label:/ { if ($2 == L) hit = 1 }
		END { if (hit) printf "%s", b }'
}

for t in rsa:1024 rsa:2048 rsa:3072 rsa:4096 ec:p256 ec:p384 ec:p521; do
	l=k-${t/:/-}
	expect 0 "" --json key gen --token $TOK --label "$l" --type $t
	bits=${t#*:}; bits=${bits#p}
	equal "$t bits" "$(jq -r .bits "$T/out")" "$bits"
	equal "$t sensitive" "$(jq -r .sensitive "$T/out")" true
	equal "$t extractable" "$(jq -r .extractable "$T/out")" false
	equal "$t exportable" "$(jq -r .exportable "$T/out")" false
	equal "$t URI names it" "$(jq -r '.uri | test("object='"$l"';type=private")' "$T/out")" true
	id=$(jq -r .id "$T/out")
	# the token agrees, read by an independent client
	block privkey "$l" >"$T/p11"
	check "$t pkcs11-tool sees it" grep -q "label: *$l" "$T/p11"
	check "$t pkcs11-tool: sensitive, never extractable, local" \
		grep -Eq "Access: *sensitive, always sensitive, never extractable, local" "$T/p11"
	check "$t pkcs11-tool: may sign" grep -Eq "Usage:.*sign" "$T/p11"
	check "$t pkcs11-tool: same id" grep -qi "ID: *$id" "$T/p11"
	# CKA_ID is the SHA-1 of the modulus or the EC point
	case $t in
	rsa:*)
		P11 --read-object --type pubkey --label "$l" -o "$T/pub.der"
		want=$(openssl rsa -pubin -inform DER -in "$T/pub.der" -noout -modulus |
			cut -d= -f2 | xxd -r -p | sha1sum | cut -c1-40) ;;
	ec:*) # CKA_EC_POINT as pkcs11-tool prints it (DER); the point ends it
		fb=$(( (bits + 7) / 8 ))
		pt=$(block pubkey "$l" | awk '/EC_POINT:/{print $2}')
		want=$(echo "$pt" | xxd -r -p | tail -c $((1 + 2 * fb)) | sha1sum | cut -c1-40) ;;
	esac
	equal "$t CKA_ID = SHA-1 of public key" "$id" "$want"
done

# --exportable: sensitive=false, extractable=true, and the verdict says yes
expect 0 "" --json key gen --token $TOK --label exp --type rsa:2048 --exportable
equal "exportable sensitive" "$(jq -r .sensitive "$T/out")" false
equal "exportable extractable" "$(jq -r .extractable "$T/out")" true
equal "exportable verdict" "$(jq -r .exportable "$T/out")" true
block privkey exp >"$T/p11"
check "pkcs11-tool: extractable" grep -Eq "Access: *extractable, local" "$T/p11"
expect 0 "" --json key gen --token $TOK --label exp-ec --type ec:p256 --exportable
equal "EC exportable but not for ACM-integrated" "$(jq -r .exportable "$T/out")" false
check "refusal is key-algorithm" jq -e '.export_refusal | startswith("key-algorithm")' "$T/out"

# explicit --id
expect 0 "" --json key gen --token $TOK --label withid --type ec:p256 --id 0a:0B:cc
equal "explicit id" "$(jq -r .id "$T/out")" 0a0bcc

# key show and key list
expect 0 "" key show "$TOK;object=k-rsa-2048"
check "show: exportable no with reason" grep -q "exportable: *no - key-not-exportable" "$T/out"
expect 0 "" --json key list --token $TOK
equal "key list count" "$(jq '.keys | length' "$T/out")" 10
expect 3 "no private key matches" key show "$TOK;object=nosuch"
expect 3 "matches 10 private keys" key show "$TOK"

# duplicate label: refused with the URI, unless --force replaces it
OLD=$("$KEYGATE" --json key show "$TOK;object=k-rsa-2048" | jq -r .id)
expect 2 "a key labelled 'k-rsa-2048' exists" key gen --token $TOK --label k-rsa-2048
check "refusal names the URI" grep -q "object=k-rsa-2048;type=private" "$T/err"
expect 0 "" --json key gen --token $TOK --label k-rsa-2048 --force
NEW=$(jq -r .id "$T/out")
[ "$OLD" != "$NEW" ] && ok || bad "--force made a new key"
expect 0 "" --json key list --token $TOK
equal "--force left one key with the label" "$(jq '[.keys[] | select(.label=="k-rsa-2048")] | length' "$T/out")" 1
equal "public keys match private keys" "$(P11 --list-objects --type pubkey | grep -c 'label:')" 10

# bad types and ids: nothing made
expect 2 "unsupported key type 'rsa:512'" key gen --token $TOK --label bad --type rsa:512
expect 2 "unsupported key type 'ec:p192'" key gen --token $TOK --label bad --type ec:p192
expect 2 "bad --id" key gen --token $TOK --label bad --id xyz
expect 2 "needs --token URI and --label L" key gen --label x
equal "no object from refused gens" "$(P11 --list-objects | grep -c 'label: *bad')" 0
