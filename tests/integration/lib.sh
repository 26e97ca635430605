# Shared by the integration tests: a fresh SoftHSM2 token per test script
# (new_token; a script that needs no token runs without SoftHSM2), and
# assertions that count. Source it; it sets -eu and a temp dir $T.
set -euo pipefail

: "${KEYGATE:?set KEYGATE to the keygate binary}"

T=$(mktemp -d /tmp/kgtest.XXXXXX)
KG_PASS=0
KG_FAIL=0
cleanup() {
	local rc=$?
	[ -n "${KG_CLEANUP:-}" ] && eval "$KG_CLEANUP" || true
	rm -rf "$T"
	if [ "$KG_FAIL" -gt 0 ]; then
		echo "$KG_PASS passed, $KG_FAIL failed"
		exit 1
	fi
	[ "$rc" -eq 0 ] && echo "$KG_PASS passed, 0 failed"
	exit "$rc"
}
trap cleanup EXIT

export KEYGATE_SO_PIN=87654321
export KEYGATE_PIN=1234
unset KEYGATE_MODULE SOFTHSM2_CONF KEYGATE_AUDIT || true

ok() { KG_PASS=$((KG_PASS + 1)); }
bad() {
	KG_FAIL=$((KG_FAIL + 1))
	echo "FAIL: $*" >&2
}

# kg ARGS...: runs keygate, stdout in $T/out, stderr in $T/err, rc in $RC.
# stdin is /dev/null (no terminal, so never a prompt). KG_ENV="-u X Y=z"
# changes the environment for one call: KG_ENV="-u KEYGATE_PIN" expect ...
kg() {
	set +e
	# shellcheck disable=SC2086
	env ${KG_ENV:-} "$KEYGATE" "$@" >"$T/out" 2>"$T/err" </dev/null
	RC=$?
	set -e
	if grep -q "Sanitizer" "$T/err"; then
		bad "keygate $*: sanitizer report: $(grep -m3 -E 'ERROR|SUMMARY|runtime error' "$T/err")"
	fi
}

# expect RC NEEDLE ARGS...: exit status RC and NEEDLE in stderr ("" = any)
expect() {
	local want=$1 needle=$2
	shift 2
	kg "$@"
	if [ "$RC" -ne "$want" ]; then
		bad "keygate $* -> rc $RC, want $want; stderr: $(cat "$T/err")"
		return 0
	fi
	if [ -n "$needle" ] && ! grep -qF -- "$needle" "$T/err"; then
		bad "keygate $*: stderr lacks '$needle': $(cat "$T/err")"
		return 0
	fi
	if [ "$want" -ne 0 ] && [ "$(wc -l <"$T/err")" -lt 1 ]; then
		bad "keygate $*: failed without a message"
		return 0
	fi
	ok
}

# check DESCRIPTION COMMAND...: the command must succeed
check() {
	local what=$1
	shift
	if "$@" >"$T/check.out" 2>&1; then
		ok
	else
		bad "$what: $(tail -5 "$T/check.out")"
	fi
}

# equal DESCRIPTION GOT WANT
equal() {
	if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', want '$3'"; fi
}

# new_token LABEL: a throwaway SoftHSM2 store + token; exports the env
# needs_softhsm: skip (77) a script that needs SoftHSM2 where it is missing
needs_softhsm() {
	command -v softhsm2-util >/dev/null || { echo "SKIP: no softhsm2"; exit 77; }
}

new_token() {
	local out
	needs_softhsm
	out=$("$KEYGATE" token init --softhsm "$T/hsm" --label "$1")
	eval "$out"
	export SOFTHSM2_CONF KEYGATE_MODULE
}

SOFTHSM_MODULE=$(for p in /usr/lib/softhsm/libsofthsm2.so \
	/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so; do
	[ -r "$p" ] && echo "$p" && break; done)
