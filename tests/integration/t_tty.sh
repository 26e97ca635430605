#!/usr/bin/env bash
# The PIN prompt: only on a terminal, without echo, and the PIN works.
# script(1) gives keygate a pseudo-terminal; the PIN is typed after the
# prompt is up (a terminal drops what was typed before echo went off).
. "$(dirname "$0")/lib.sh"
command -v script >/dev/null || { echo "SKIP: no script(1)"; exit 77; }
new_token ci
cd "$T"
# a second token whose PIN occurs nowhere else in the output
KG_ENV="KEYGATE_PIN=zqpinzq" expect 0 "" token init --label tty
KG_ENV="KEYGATE_PIN=zqpinzq" expect 0 "" key gen --token pkcs11:token=tty --label k --type ec:p256

typed() { # typed INPUT CMD...: runs CMD on a terminal, types INPUT later
	local input=$1
	shift
	{ sleep 2; printf '%s\n' "$input"; sleep 2; } |
		env -u KEYGATE_PIN timeout 30 script -qefc "$*" tty.log >/dev/null 2>&1
}
set +e
typed zqpinzq "$KEYGATE" key list --token pkcs11:token=tty
rc=$?
set -e
equal "prompt: the command succeeds" "$rc" 0
check "prompt: asks for the PIN on the terminal" grep -q "PIN for token 'tty'" tty.log
check "prompt: lists the key" grep -q "key 'k'" tty.log
equal "prompt: the PIN is not echoed" "$(grep -c zqpinzq tty.log)" 0
set +e
typed wrongpin "$KEYGATE" key list --token pkcs11:token=tty
rc=$?
set -e
equal "prompt: a wrong PIN is a token error" "$rc" 3
check "prompt: says the PIN is wrong" grep -q "PIN incorrect for token 'tty'" tty.log
equal "prompt: the wrong PIN is not echoed" "$(grep -c wrongpin tty.log)" 0
# token pin change on a terminal: the old PIN, then the new one twice,
# none echoed; two that differ change nothing
typed_lines() { # typed_lines "A B C" CMD...: types each word after a pause
	local words=$1 w
	shift
	{ for w in $words; do sleep 2; printf '%s\n' "$w"; done; sleep 2; } |
		env -u KEYGATE_PIN -u KEYGATE_NEW_PIN timeout 40 script -qefc "$*" tty.log >/dev/null 2>&1
}
set +e
typed_lines "zqpinzq newpinq1 newpinq2" "$KEYGATE" token pin change --token pkcs11:token=tty
rc=$?
set -e
equal "pin change: two new PINs that differ are a usage error" "$rc" 2
check "pin change: says they differ" grep -q "the two new PINs differ; nothing changed" tty.log
KG_ENV="KEYGATE_PIN=zqpinzq" expect 0 "" key list --token pkcs11:token=tty
set +e
typed_lines "zqpinzq newpinq1 newpinq1" "$KEYGATE" token pin change --token pkcs11:token=tty
rc=$?
set -e
equal "pin change: asked twice, changed" "$rc" 0
check "pin change: asks for it again" grep -q "new PIN again" tty.log
equal "pin change: no PIN echoed" "$(grep -c -e zqpinzq -e newpinq1 tty.log)" 0
KG_ENV="KEYGATE_PIN=newpinq1" expect 0 "" key list --token pkcs11:token=tty
KG_ENV="KEYGATE_PIN=newpinq1 KEYGATE_NEW_PIN=zqpinzq" expect 0 "" token pin change --token pkcs11:token=tty
# no terminal, no PIN source: one clear line, never a hang
KG_ENV="-u KEYGATE_PIN" expect 2 "no PIN for token 'tty'" key list --token pkcs11:token=tty
equal "no sanitizer report on the terminal" "$(grep -c Sanitizer tty.log)" 0

# the progress bar: on a terminal; not with stdout redirected or --json
expect 0 "" key gen --token pkcs11:token=ci --label ca --type ec:p256
expect 0 "" cert selfsign --key "pkcs11:token=ci;object=ca" --subject "CN=TTY CA" --profile ca --out ca.pem
mkdir in
for i in 1 2 3; do
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
		-out in/r$i.csr -subj "/CN=r$i.example.com" 2>/dev/null
done
onterm() { # onterm CMD...: runs CMD on a terminal, nothing typed
	timeout 30 script -qefc "$*" tty.log </dev/null >/dev/null 2>&1 || true
}
SIGN="$KEYGATE cert sign --ca-key pkcs11:token=ci\;object=ca --ca-cert ca.pem --csr-dir in"
onterm "$SIGN" --out-dir o1
check "progress: a bar on a terminal" grep -q "3/3" tty.log
check "progress: then the summary" grep -q "issued 3 certificates into o1" tty.log
onterm "$SIGN" --out-dir o2 ">o2.out"
equal "progress: none with stdout redirected" "$(grep -c "3/3" tty.log)" 0
check "progress: the summary went to the file" grep -q "issued 3 certificates" o2.out
onterm "$KEYGATE" --json cert sign --ca-key "pkcs11:token=ci\;object=ca" --ca-cert ca.pem --csr-dir in --out-dir o3
equal "progress: none with --json" "$(grep -c "3/3" tty.log)" 0
check "progress: --json still reports" grep -q '"issued": 3' tty.log
equal "no sanitizer report on the terminal" "$(grep -c Sanitizer tty.log)" 0
