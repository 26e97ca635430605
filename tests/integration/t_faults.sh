#!/usr/bin/env bash
# The fault sweep (issue 9): every PKCS#11 call a command makes is failed
# in turn, through the fault module (tests/p11/faultp11.c), on a token
# restored each time to the same state. At each point keygate must
#   - exit 0 with whole, correct output (a failure it may tolerate), or 3
#     (1: a batch with failed items) with a line naming the PKCS#11
#     function and the CKR;
#   - leave no temporary (*.kgtmp.*) or partial file;
#   - leave the token's objects as they were (listed by pkcs11-tool from
#     SoftHSM2 directly); with --force, each label holds one whole key
#     pair, the old or the new; what a pulled token leaves is named;
#   - leave an audit log whose chain holds.
# Each point runs with KG_FAULT_MODE=once (only that call fails) and =from
# (that call and every later one: the token is pulled), the CKR taken in
# turn from a rotation; KG_FAULT_FULL=1 runs every CKR in both modes. Key
# generation also runs =stuck with CKR_GENERAL_ERROR (every call fails
# until the module is started anew, as SoftHSM2 under a parallel writer):
# a failed C_GenerateKeyPair there must end in a key all the same. A
# sanitizer build (about ten times slower) runs each point once, the modes
# taking turns, and unwinds malloc stacks the fast way.
# To narrow a run down:
#   KG_FAULT_ONLY="key-gen cert-sign"   these scenarios only
#   KG_FAULT_POINTS="3 17"              these call indices only
#   KG_FAULT_VERBOSE=1                  each failing run's stderr
. "$(dirname "$0")/lib.sh"
shopt -s extglob nullglob dotglob
command -v pkcs11-tool >/dev/null || { echo "SKIP: no pkcs11-tool"; exit 77; }
[ -n "$SOFTHSM_MODULE" ] || { echo "SKIP: no SoftHSM2 module"; exit 77; }
SHIM=${KG_BUILD:-$(dirname "$KEYGATE")}/tests/p11/libfaultp11.so
if [ ! -r "$SHIM" ]; then
	bad "no fault module at $SHIM (build the faultp11 target)"
	exit 1
fi

new_token fault
cd "$T"
TOK=pkcs11:token=fault
AUD=$T/audit.jsonl
W="" # each run's outputs: a new directory, $T/w.N
ALL_RVS=(0x30 0x32 0x05 0xB3 0x31)
declare -A CKR=([0x30]=CKR_DEVICE_ERROR [0x32]=CKR_DEVICE_REMOVED
	[0x05]=CKR_GENERAL_ERROR [0xB3]=CKR_SESSION_HANDLE_INVALID
	[0x31]=CKR_DEVICE_MEMORY)
# transient CKRs are retried with a backoff; two tries keep a pulled
# token's runs short and still show that a retry gets past a one-off fault
export KEYGATE_RETRIES=${KEYGATE_RETRIES:-2}
SANITIZED=0
if grep -q -a -m1 __asan_init "$KEYGATE"; then
	SANITIZED=1
	# leaks are still found; only their stacks may be shorter
	[ -z "${ASAN_OPTIONS:-}" ] || export ASAN_OPTIONS=$ASAN_OPTIONS:fast_unwind_on_malloc=1
fi

# ---- the known state --------------------------------------------------------
# set-up talks to SoftHSM2 directly, never through the fault module
setup() {
	"$KEYGATE" --audit "$AUD" "$@" >"$T/setup.out" 2>"$T/setup.err" </dev/null ||
		{ bad "set-up: keygate $*: $(cat "$T/setup.err")"; exit 1; }
}
setup key gen --token "$TOK" --label fk-k1 --type ec:p256
setup key gen --token "$TOK" --label fk-old --type ec:p256
setup key gen --token "$TOK" --label fk-ca --type ec:p256
setup cert selfsign --key "$TOK;object=fk-ca" --subject "CN=Fault CA" --profile ca --out ca.pem
setup key gen --token "$TOK" --label fk-exp --type rsa:2048 --exportable
# self-signed for the export gate needs keyCertSign: --profile ca
setup cert selfsign --key "$TOK;object=fk-exp" --subject CN=exp.example.com --profile ca --out exp.pem
mkdir in
for i in 1 2 3; do
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
		-out in/r$i.csr -subj "/CN=r$i.example.com" 2>/dev/null
done
cp in/r1.csr one.csr
for i in 1 2 3; do
	echo "{\"label\": \"fk-new-0$i\", \"type\": \"ec:p256\", \"subject\": \"CN=new-0$i.example.com\"}"
done >new.jsonl
for i in 1 2; do
	echo "{\"label\": \"fk-dev-0$i\", \"type\": \"ec:p256\", \"subject\": \"CN=dev-0$i.example.com\"}"
done >dev.jsonl
setup csr create --token "$TOK" --manifest dev.jsonl --out-dir devreqs --jobs 1
# issue 12: a key with its certificate on the token (key delete), the old
# key of key-gen-force with its certificate (retired with it), and a
# certificate for fk-k1 to import
setup key gen --token "$TOK" --label fk-del --type ec:p256
setup cert selfsign --key "$TOK;object=fk-del" --subject CN=del.example.com --out del.pem
setup cert import del.pem --token "$TOK"
setup cert selfsign --key "$TOK;object=fk-old" --subject CN=old.example.com --out old.pem
setup cert import old.pem --token "$TOK"
setup cert selfsign --key "$TOK;object=fk-k1" --subject CN=imp.example.com --out imp.pem

# p11list NAME: the objects on the token, from SoftHSM2 directly, into the
# associative array NAME: "class|label|id" -> how many
p11list() {
	local -n into=$1
	local out line cls="" label="" id=""
	into=()
	out=$(pkcs11-tool --module "$SOFTHSM_MODULE" --token-label fault --login \
		--pin "$KEYGATE_PIN" --list-objects 2>/dev/null) || true
	while IFS= read -r line; do
		case $line in
		"  label:"*)
			label=${line#*label:}
			label=${label##+( )}
			;;
		"  ID:"*) id=${line//@(*ID:| )/} ;;
		[A-Za-z]*[Oo]bject*)
			[ -z "$cls" ] || into["$cls|$label|$id"]=$((${into["$cls|$label|$id"]:-0} + 1))
			cls=${line%% *} label="" id=""
			;;
		esac
	done <<<"$out"
	[ -z "$cls" ] || into["$cls|$label|$id"]=$((${into["$cls|$label|$id"]:-0} + 1))
}
declare -A BEFORE AFTER OLD_ID PRIV PUB
p11list BEFORE
for k in "${!BEFORE[@]}"; do
	[[ $k != Private\|* ]] || { k=${k#*|}; OLD_ID[${k%|*}]=${k#*|}; }
done
[ -n "${OLD_ID[fk-exp]:-}" ] || { bad "set-up: pkcs11-tool lists no keys"; exit 1; }
cp -a "$T/hsm/tokens" "$T/snap.tokens"
IFS= read -r -d '' SNAP_AUDIT <"$AUD" || true
# SoftHSM2 keeps a file per object (and counts logins in token.object): an
# object changed if its file is newer than this, or came or went
SNAP_FILES=("$T"/snap.tokens/*/!(token).object)
SNAP_FILES=("${SNAP_FILES[@]##*/}")
touch "$T/stamp"
sleep 1

# restore: the token (unless no object changed), the audit log, a new $W
TOKEN_SAME=0
WN=0
restore() {
	local d dirs=()
	if [ $TOKEN_SAME -eq 0 ]; then
		rm -rf "$T/hsm/tokens"
		cp -a "$T/snap.tokens" "$T/hsm/tokens"
	fi
	if [ $((WN % 100)) -eq 0 ]; then
		for ((d = WN + 1; d <= WN + 100; d++)); do dirs+=("$T/w.$d"); done
		mkdir "${dirs[@]}"
	fi
	WN=$((WN + 1))
	W=$T/w.$WN
	printf '%s' "$SNAP_AUDIT" >"$AUD"
}
# token_same: no object file changed, came or went
token_same() {
	local f files=("$T"/hsm/tokens/*/!(token).object)
	for f in "${files[@]}"; do
		[[ ! $f -nt $T/stamp ]] || return 1
	done
	files=("${files[@]##*/}")
	[ "${files[*]}" = "${SNAP_FILES[*]}" ]
}
# the objects after a run; TOKEN_SAME=1 if no object changed
after_list() {
	local k cls label id
	if token_same; then
		TOKEN_SAME=1
		AFTER=()
		for k in "${!BEFORE[@]}"; do AFTER[$k]=${BEFORE[$k]}; done
	else
		TOKEN_SAME=0
		p11list AFTER
	fi
	PRIV=() PUB=()
	for k in "${!AFTER[@]}"; do
		split "$k"
		case $cls in
		Private) PRIV[$label]+="${id:-(none)} " ;;
		Public) PUB[$label]+="${id:-(none)} " ;;
		esac
	done
}
# split KEY: cls, label and id of a "class|label|id" (the caller's locals)
split() {
	cls=${1%%|*} label=${1#*|} id=${1##*|}
	label=${label%|*}
}
# pair_of LABEL: true, and PAIR the id, if LABEL holds one whole key pair
pair_of() {
	local pv=${PRIV[$1]:-} pb=${PUB[$1]:-}
	PAIR=${pv% }
	[ -n "$pv" ] && [ "$pv" = "$pb" ] && [[ $PAIR != *" "* ]]
}
# has_pair LABEL: some private and public key under LABEL share an id
has_pair() {
	local id
	for id in ${PRIV[$1]:-}; do
		[[ " ${PUB[$1]:-} " != *" $id "* ]] || return 0
	done
	return 1
}
# named TEXT: stderr names it
named() {
	[[ $ERRTEXT == *"$1"* ]]
}

# ---- scenarios --------------------------------------------------------------
# sc_NAME sets CMD (keygate's arguments), BATCH (1: exit 1 allowed), NEW
# (labels a success makes), FORCE (labels a success replaces), and may
# fill $W. out_NAME checks the outputs, adding to WHY.
sc_key-gen() {
	CMD=(key gen --token "$TOK" --label fk-new --type ec:p256)
	NEW="fk-new"
}
# stuck_keygen: a key generation the module failed and then kept failing
# until started anew must still make the key (issue 9, item 19)
stuck_keygen() {
	[ "$MODE" != stuck ] || [ "$FN" != C_GenerateKeyPair ] || [ "$RC" -eq 0 ] ||
		WHY+=("C_GenerateKeyPair failed and the module stuck: exit $RC, not started anew")
}
out_key-gen() {
	[ "$RC" -ne 0 ] || [[ $OUTTEXT == pkcs11:*object=fk-new* ]] || WHY+=("exit 0 but no URI printed")
	stuck_keygen
}
sc_key-gen-force() {
	CMD=(key gen --token "$TOK" --label fk-old --type ec:p256 --force)
	FORCE="fk-old"
}
out_key-gen-force() {
	[ "$RC" -ne 0 ] || [[ $OUTTEXT == pkcs11:*object=fk-old* ]] || WHY+=("exit 0 but no URI printed")
	stuck_keygen
	# the old key's certificate goes with it, never orphaned
	count_label fk-old
	if pair_of fk-old && [ "$PAIR" != "${OLD_ID[fk-old]}" ] && [ $N_CERT -gt 0 ]; then
		[ "$RC" -ne 0 ] && named "fk-old" || WHY+=("exit $RC: a new key 'fk-old' and the old key's certificate kept")
	fi
}
sc_csr-create() {
	CMD=(csr create --key "$TOK;object=fk-k1" --subject CN=f.example.com --out "$W/f.csr")
}
out_csr-create() {
	one_file "$W/f.csr" openssl req -noout -verify -in "$W/f.csr"
}
sc_cert-selfsign() {
	CMD=(cert selfsign --key "$TOK;object=fk-k1" --subject CN=s.example.com --out "$W/s.pem")
}
out_cert-selfsign() {
	one_file "$W/s.pem" openssl verify -check_ss_sig -partial_chain -CAfile "$W/s.pem" "$W/s.pem"
}
sc_cert-sign() {
	CMD=(cert sign --ca-key "$TOK;object=fk-ca" --ca-cert ca.pem --csr one.csr --out "$W/one.pem")
}
out_cert-sign() {
	one_file "$W/one.pem" openssl verify -CAfile ca.pem "$W/one.pem"
}
sc_cert-sign-batch() {
	CMD=(cert sign --ca-key "$TOK;object=fk-ca" --ca-cert ca.pem --csr-dir in --out-dir "$W/out" --jobs 1)
	BATCH=1
}
out_cert-sign-batch() {
	local i f have=()
	for i in 1 2 3; do
		f=$W/out/r$i.pem
		if [ -e "$f" ]; then
			have+=("$f")
		elif [ "$RC" -eq 0 ]; then
			WHY+=("exit 0 but no r$i.pem")
		elif [ "$RC" -eq 1 ] && ! named "r$i.csr"; then
			WHY+=("exit 1 but r$i.csr neither issued nor named")
		fi
	done
	[ ${#have[@]} -eq 0 ] || openssl verify -CAfile ca.pem "${have[@]}" >/dev/null 2>&1 ||
		WHY+=("exit $RC and not every certificate written is whole")
	stray "$W/out" 'r[123].pem'
}
sc_manifest() {
	CMD=(csr create --token "$TOK" --manifest new.jsonl --out-dir "$W/reqs" --jobs 1)
	BATCH=1
	NEW="fk-new-01 fk-new-02 fk-new-03"
}
out_manifest() {
	local l f
	for l in $NEW; do
		f=$W/reqs/$l.csr
		if [ -e "$f" ]; then
			openssl req -noout -verify -in "$f" >/dev/null 2>&1 || WHY+=("$l.csr is not a whole request")
			pair_of "$l" || WHY+=("$l.csr written but no whole key pair '$l'")
		elif [ "$RC" -eq 0 ]; then
			WHY+=("exit 0 but no $l.csr")
		elif pair_of "$l" && ! named "$l"; then
			WHY+=("key '$l' made, its request not written, and not named")
		elif [ "$RC" -eq 1 ] && ! named "$l"; then
			WHY+=("exit 1 but '$l' neither made nor named")
		fi
	done
	stray "$W/reqs" 'fk-new-0[123].csr'
}
sc_manifest-force() {
	CMD=(csr create --token "$TOK" --manifest dev.jsonl --out-dir "$W/reqs" --force --jobs 1)
	BATCH=1
	FORCE="fk-dev-01 fk-dev-02"
	cp -a devreqs "$W/reqs"
}
out_manifest-force() {
	local l f newfile newkey
	for l in $FORCE; do
		f=$W/reqs/$l.csr
		if [ ! -e "$f" ]; then
			WHY+=("$l.csr is gone")
			continue
		fi
		newfile=0 newkey=1
		cmp -s "$f" "devreqs/$l.csr" || newfile=1
		[ $newfile -eq 0 ] || openssl req -noout -verify -in "$f" >/dev/null 2>&1 ||
			WHY+=("$l.csr is not a whole request")
		! pair_of "$l" || [ "$PAIR" != "${OLD_ID[$l]}" ] || newkey=0
		[ "$RC" -ne 0 ] || [ $newfile -eq 1 ] || WHY+=("exit 0 but $l.csr not replaced")
		if [ $newfile -ne $newkey ] && ! named "$l"; then
			WHY+=("$l: a$( ((newfile)) && echo " new" || echo "n old") request for a$( ((newkey)) && echo " new" || echo "n old") key, not named")
		fi
	done
	stray "$W/reqs" 'fk-dev-0[12].csr'
}
sc_bundle-export() {
	CMD=(bundle export --key "$TOK;object=fk-exp" --cert exp.pem --out "$W/bundle")
}
out_bundle-export() {
	local files=("$W"/bundle/*)
	if [ "$RC" -eq 0 ] || [ ${#files[@]} -gt 0 ]; then
		"$KEYGATE" bundle check --cert "$W/bundle/certificate.pem" \
			--key "$W/bundle/private_key.pem" >/dev/null 2>&1 ||
			WHY+=("exit $RC and the ${#files[@]} files in bundle/ fail bundle check")
		[ "$RC" -eq 0 ] || WHY+=("exit $RC but bundle/ written (${#files[@]} files)")
	fi
	stray "$W/bundle" 'certificate.pem|private_key.pem'
}
sc_key-list() {
	CMD=(key list --token "$TOK")
}
out_key-list() {
	[ "$RC" -ne 0 ] || [ "$OUTTEXT" = "$BASE_OUT" ] || WHY+=("exit 0 but the list differs from a clean run's")
}
sc_token-list() {
	CMD=(token list)
}
out_token-list() {
	out_key-list
}
# objects of label LABEL after the run, by class: N_PRIV N_PUB N_CERT
count_label() {
	local k cls label id
	N_PRIV=0 N_PUB=0 N_CERT=0
	for k in "${!AFTER[@]}"; do
		split "$k"
		[ "$label" = "$1" ] || continue
		case $cls in
		Private) N_PRIV=$((N_PRIV + AFTER[$k])) ;;
		Public) N_PUB=$((N_PUB + AFTER[$k])) ;;
		Certificate) N_CERT=$((N_CERT + AFTER[$k])) ;;
		esac
	done
}
sc_key-delete() {
	CMD=(key delete "$TOK;object=fk-del" --with-cert --yes)
	DEL="fk-del"
}
out_key-delete() {
	count_label fk-del
	local left=$((N_PRIV + N_PUB + N_CERT))
	if [ "$RC" -eq 0 ]; then
		[ $left -eq 0 ] || WHY+=("exit 0 but $left objects of fk-del remain")
		return 0
	fi
	# certificate, public key, private key: the private key goes last
	[ $N_PRIV -eq 1 ] || [ $left -eq 0 ] ||
		WHY+=("the private key went before its certificate or public key")
	[ $left -eq 3 ] || [ $left -eq 0 ] || named "still on the token" ||
		WHY+=("exit $RC, $left of 3 objects left, and not named")
}
sc_cert-import() {
	CMD=(cert import imp.pem --token "$TOK")
	NEWCERT="fk-k1"
}
out_cert-import() {
	count_label fk-k1
	[ "$RC" -ne 0 ] || [ $N_CERT -eq 1 ] || WHY+=("exit 0 but $N_CERT certificates 'fk-k1'")
	[ "$RC" -ne 0 ] || [[ $OUTTEXT == pkcs11:*object=fk-k1*type=cert* ]] || WHY+=("exit 0 but no URI printed")
}
sc_pin-change() {
	CMD=(token pin change --token "$TOK")
	export KEYGATE_NEW_PIN=97531864
}
# pin_works PIN: pkcs11-tool logs in with it, on SoftHSM2 directly
pin_works() {
	pkcs11-tool --module "$SOFTHSM_MODULE" --token-label fault --login --pin "$1" \
		--list-objects >/dev/null 2>&1
}
out_pin-change() {
	local new=0 old=0
	pin_works "$KEYGATE_NEW_PIN" && new=1
	pin_works "$KEYGATE_PIN" && old=1
	if [ "$RC" -eq 0 ]; then
		[ $new -eq 1 ] || WHY+=("exit 0 but the new PIN does not work")
	else
		[ $new -eq 0 ] || WHY+=("exit $RC but the PIN was changed")
		[ $old -eq 1 ] || WHY+=("exit $RC and the old PIN does not work")
	fi
	# the PIN lives in token.object, which token_same does not look at
	TOKEN_SAME=0
}
SCENARIOS="key-gen key-gen-force csr-create cert-selfsign cert-sign cert-sign-batch
	manifest manifest-force bundle-export key-list token-list key-delete cert-import
	pin-change"

# one_file FILE CHECK...: after exit 0 FILE passes CHECK; after a failure
# it is absent (or at least whole)
one_file() {
	local f=$1
	shift
	if [ -e "$f" ]; then
		"$@" >/dev/null 2>&1 || WHY+=("exit $RC and ${f##*/} is not whole")
	elif [ "$RC" -eq 0 ]; then
		WHY+=("exit 0 but no ${f##*/}")
	fi
}
# stray DIR 'GLOB|GLOB': a file in DIR that is none of these
stray() {
	local f
	for f in "$1"/*; do
		# temporaries are reported on their own
		[[ ${f##*/} == *.kgtmp.* || ${f##*/} == @($2) ]] || WHY+=("stray file ${f##*/}")
	done
}

# check_token: nothing lost; new objects only a success's (or named, where
# the tool could not clean up); --force labels hold one whole pair
check_token() {
	local k cls label id tolerated=0 l pv pb
	local -A seen=()
	[ "$MODE" != once ] || [ "$FN" = C_DestroyObject ] && tolerated=1
	after_list
	if [ $TOKEN_SAME -eq 1 ]; then
		[ "$RC" -ne 0 ] || [ -z "$NEW$FORCE$DEL$NEWCERT" ] || WHY+=("exit 0 but the token is unchanged")
		return 0
	fi
	for k in "${!BEFORE[@]}"; do
		split "$k"
		[[ " $FORCE $DEL " == *" $label "* ]] || [ "${AFTER[$k]:-0}" -ge "${BEFORE[$k]}" ] ||
			WHY+=("$cls object '$label' destroyed")
	done
	for k in "${!AFTER[@]}"; do
		split "$k"
		[ "${AFTER[$k]}" -gt "${BEFORE[$k]:-0}" ] || continue
		[[ " $FORCE " != *" $label "* ]] || continue
		# a certificate imported: one, and only on success
		if [ "$cls" = Certificate ] && [[ " $NEWCERT " == *" $label "* ]]; then
			[ "$RC" -eq 0 ] || WHY+=("exit $RC but a certificate '$label' was made")
			[ "${AFTER[$k]}" -eq 1 ] || WHY+=("${AFTER[$k]} certificates '$label' made")
			continue
		fi
		[ -z "${seen[$label]:-}" ] || continue
		seen[$label]=1
		if [[ " $NEW " == *" $label "* ]] && pair_of "$label" &&
			{ [ "$RC" -eq 0 ] || [ "$BATCH" -eq 1 ]; }; then
			continue
		fi
		[ $tolerated -eq 1 ] && named "$label" && continue
		pv=${PRIV[$label]:-none} pb=${PUB[$label]:-none}
		WHY+=("left on the token, not named: '$label' (private ${pv% }, public ${pb% })")
	done
	if [ "$RC" -eq 0 ]; then
		for l in $NEW; do
			pair_of "$l" || WHY+=("exit 0 but no whole key pair '$l'")
		done
	fi
	for l in $FORCE; do
		if pair_of "$l"; then
			[ "$RC" -ne 0 ] || [ "$PAIR" != "${OLD_ID[$l]}" ] || WHY+=("exit 0 but '$l' is still the old key")
			continue
		fi
		[ $tolerated -eq 1 ] && named "$l" && has_pair "$l" && continue
		read -r -a pv <<<"${PRIV[$l]:-}"
		read -r -a pb <<<"${PUB[$l]:-}"
		WHY+=("'$l' holds ${#pv[@]} private + ${#pb[@]} public key(s)$(has_pair "$l" || echo ", no whole pair")")
	done
}

# prepare: restore, then the scenario's CMD, BATCH, NEW, FORCE, DEL,
# NEWCERT
prepare() {
	BATCH=0 NEW="" FORCE="" DEL="" NEWCERT=""
	restore
	"sc_$SC"
}
# launch [VAR=VALUE...]: keygate through the fault module; RC, OUTTEXT,
# ERRTEXT
launch() {
	local -x KEYGATE_MODULE="$SHIM" KG_FAULT_TARGET="$SOFTHSM_MODULE" KG_FAULT_LOG="$T/flog"
	[ $# -eq 0 ] || local -x "$@"
	: >"$T/flog"
	set +e
	"$KEYGATE" --audit "$AUD" "${CMD[@]}" >"$T/out" 2>"$T/err" </dev/null
	RC=$?
	set -e
	IFS= read -r -d '' OUTTEXT <"$T/out" || true
	IFS= read -r -d '' ERRTEXT <"$T/err" || true
}

# run_fault I MODE RV: call I fails; WHY lists what went wrong
run_fault() {
	local i=$1 f hit want found="" last="" line tmps aud
	MODE=$2 RV=$3
	prepare
	launch KG_FAULT_AT="$i" KG_FAULT_MODE="$MODE" KG_FAULT_RV="$RV"
	WHY=()
	FN="" FNS=""
	while read -r _ f _ hit; do
		[ "$hit" = fault ] || continue
		[ -n "$FN" ] || FN=$f
		[[ " $FNS " == *" $f "* ]] || FNS+=" $f"
	done <"$T/flog"
	if named Sanitizer; then
		WHY+=("sanitizer: $(grep -m1 -E 'ERROR|runtime error' "$T/err" | cut -c1-120)")
	fi
	if [ -z "$FN" ]; then
		FN="(none)"
		[ "$RC" -eq 0 ] || WHY+=("no call failed, but exit $RC")
	fi
	case $RC in
	0 | 3) ;;
	1) [ "$BATCH" -eq 1 ] || WHY+=("exit 1") ;;
	*) WHY+=("exit $RC") ;;
	esac
	# a line names the function (once: the one failed; from: one of
	# those failed) and the CKR
	if [ "$RC" -ne 0 ] && [ -n "$FNS" ]; then
		want=${CKR[$RV]}
		while IFS= read -r line; do
			[[ -z $line || $line == "  "* ]] || last=$line
			[[ $line == *"$want"* ]] || continue
			for f in $FNS; do
				[ "$MODE" = once ] && [ "$f" != "$FN" ] && continue
				[[ $line =~ (^|[^A-Za-z0-9_])$f([^A-Za-z0-9_]|$) ]] && found=1
			done
		done <<<"$ERRTEXT"
		[ -n "$found" ] || WHY+=("no line names $FN and $want: \"${last:0:160}\"")
	fi
	tmps=("$W"/*/*.kgtmp.* "$W"/*.kgtmp.*)
	[ ${#tmps[@]} -eq 0 ] || WHY+=("temporary left: ${tmps[*]##*/}")
	check_token
	"out_$SC"
	IFS= read -r -d '' aud <"$AUD" || true
	if [ "$aud" != "$SNAP_AUDIT" ] && ! "$KEYGATE" audit verify "$AUD" >"$T/audit.out" 2>&1; then
		WHY+=("audit verify: $(head -1 "$T/audit.out")")
	fi
}

# ---- the sweep --------------------------------------------------------------
declare -A GROUP GROUP_EX
for SC in $SCENARIOS; do
	if [ -n "${KG_FAULT_ONLY:-}" ] && [[ " $KG_FAULT_ONLY " != *" $SC "* ]]; then
		continue
	fi
	# a clean run counts the calls and shows what a success looks like
	prepare
	launch
	N=0
	while read -r n _; do N=$n; done <"$T/flog"
	BASE_OUT=$OUTTEXT
	MODE=once FN="" WHY=()
	check_token
	"out_$SC"
	if [ "$RC" -ne 0 ] || [ ${#WHY[@]} -gt 0 ] || [ "$N" -eq 0 ]; then
		bad "faults: $SC: the clean run: exit $RC, ${WHY[*]:-} ${ERRTEXT:0:300}"
		continue
	fi
	points=()
	for ((i = 1; i <= N; i++)); do points+=("$i"); done
	[ -z "${KG_FAULT_POINTS:-}" ] || read -r -a points <<<"$KG_FAULT_POINTS"
	clean=0 failing=0 runs=0
	GROUP=() GROUP_EX=() keys=()
	for i in "${points[@]}"; do
		if [ "${KG_FAULT_FULL:-0}" = 1 ]; then
			plan=()
			for rv in "${ALL_RVS[@]}"; do plan+=("once $rv" "from $rv"); done
		elif [ $SANITIZED -eq 1 ]; then
			plan=("$( ((i % 2)) && echo once || echo from) ${ALL_RVS[$((i % 5))]}")
		else
			plan=("once ${ALL_RVS[$((i % 5))]}" "from ${ALL_RVS[$(((i + 2) % 5))]}")
		fi
		[[ $SC != key-gen* ]] || plan+=("stuck 0x05")
		pfail=0
		for p in "${plan[@]}"; do
			run_fault "$i" "${p% *}" "${p#* }"
			runs=$((runs + 1))
			[ ${#WHY[@]} -gt 0 ] || continue
			pfail=1
			for w in "${WHY[@]}"; do
				# one line per function and kind of failure: the CKR and
				# the quoted stderr taken out of the key
				g=${w%%\"*}
				g="$FN: ${g//CKR_+([A-Z_])/CKR_*}"
				if [ -z "${GROUP[$g]:-}" ]; then
					keys+=("$g")
					GROUP_EX[$g]=$w
				fi
				GROUP[$g]+="#$i:$MODE:$RV "
			done
			if [ "${KG_FAULT_VERBOSE:-0}" = 1 ]; then
				echo "--- $SC #$i $FN $MODE $RV: exit $RC: ${WHY[*]}"
				sed 's/^/    /' "$T/err"
			fi
		done
		if [ $pfail -eq 0 ]; then
			clean=$((clean + 1))
			ok
		else
			failing=$((failing + 1))
		fi
	done
	echo "faults: $SC: ${#points[@]} points ($runs runs), $clean clean, $failing failing"
	for g in "${keys[@]}"; do
		bad "faults: $SC: ${g%%:*}: ${GROUP_EX[$g]} [${GROUP[$g]% }]"
	done
done
