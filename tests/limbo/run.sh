#!/usr/bin/env bash
# Drives `keygate chain verify` over x509-limbo (../shared/conformance/
# limbo/limbo.json): time, host, purpose, depth and CRLs from each case.
# Prints the agreement count and writes the disagreeing cases to
# $LIMBO_OUT (default: stdout after the count).
#   tests/limbo/run.sh KEYGATE [LIMBO_JSON]
set -euo pipefail
KG=${1:?usage: run.sh KEYGATE [LIMBO_JSON]}
HERE=$(cd "$(dirname "$0")" && pwd)
LIMBO=${2:-$HERE/../../../shared/conformance/limbo/limbo.json}
[ -r "$LIMBO" ] || { echo "SKIP: no $LIMBO"; exit 77; }
W=$(mktemp -d /tmp/limbo.XXXXXX)
trap 'rm -rf "$W"' EXIT

n=$(jq '.testcases | length' "$LIMBO")
# one line per case: index, id, expected, kind, time, peer kind, peer value, depth, has crls
jq -r '.testcases | to_entries[] | [.key, .value.id, .value.expected_result,
	.value.validation_kind, (.value.validation_time // ""),
	(.value.expected_peer_name.kind // ""), (.value.expected_peer_name.value // ""),
	(.value.max_chain_depth // "" | tostring), (.value.crls | length | tostring)] | join("\u001f")' "$LIMBO" >"$W/cases.tsv"
agree=0
: >"$W/disagree"
# \x1f, not a tab: IFS collapses runs of whitespace, losing empty fields
while IFS=$'\x1f' read -r i id want kind vtime pkind pval depth ncrl; do
	d=$W/$i
	mkdir -p "$d"
	jq -r ".testcases[$i].trusted_certs[]" "$LIMBO" >"$d/trusted.pem"
	jq -r ".testcases[$i].untrusted_intermediates[]" "$LIMBO" >"$d/untrusted.pem"
	jq -r ".testcases[$i].peer_certificate" "$LIMBO" >"$d/peer.pem"
	args=(--json chain verify --truststore "$d/trusted.pem" --cert "$d/peer.pem")
	[ -s "$d/untrusted.pem" ] && args+=(--untrusted "$d/untrusted.pem")
	if [ -n "$vtime" ]; then args=(--at "$vtime" "${args[@]}"); else args+=(--no-check-time); fi
	case $kind in SERVER) args+=(--purpose server) ;; CLIENT) args+=(--purpose client) ;; esac
	[ -n "$pval" ] && args+=(--host "$pval")
	[ -n "$depth" ] && args+=(--max-depth "$depth")
	if [ "$ncrl" -gt 0 ]; then
		jq -r ".testcases[$i].crls[]" "$LIMBO" >"$d/crls.pem"
		args+=(--crl "$d/crls.pem")
	fi
	set +e
	"$KG" "${args[@]}" >"$d/out" 2>"$d/err"
	rc=$?
	set -e
	case $rc in 0) got=SUCCESS ;; 1) got=FAILURE ;; *) got="ERROR($rc)" ;; esac
	if [ "$got" = "$want" ]; then
		agree=$((agree + 1))
	else
		why=$(jq -r '.error // "valid"' "$d/out" 2>/dev/null || head -c 200 "$d/err")
		printf '%s\twant %s, got %s\t%s\n' "$id" "$want" "$got" "$why" >>"$W/disagree"
	fi
done <"$W/cases.tsv"
echo "limbo: keygate chain verify agrees with $agree of $n cases"
if [ -n "${LIMBO_OUT:-}" ]; then cp "$W/disagree" "$LIMBO_OUT"; else cat "$W/disagree"; fi
echo "$agree" >"$W/count"
[ -n "${LIMBO_COUNT:-}" ] && cp "$W/count" "$LIMBO_COUNT"
exit 0
