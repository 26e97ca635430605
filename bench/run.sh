#!/usr/bin/env bash
# One CSR on a token key, four ways, side by side in one run:
#   floor    bench/p11floor: load module, log in, find key, one C_Sign
#   keygate  keygate csr create
#   openssl  openssl req -engine pkcs11 (libp11's engine)
#   certtool certtool --generate-request --provider (GnuTLS)
# Each is the mean wall time of a whole process over many runs
# (hyperfine), printed as a ratio to the floor. Usage:
#   bench/run.sh [RUNS] [KEYTYPE]      (defaults: 60, rsa:2048)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-60}
TYPE=${2:-rsa:2048}
bash ci/install-deps.sh >/dev/null
bash ci/build.sh plain >/dev/null
KG=$PWD/build/keygate
FLOOR=$PWD/build/p11floor
W=$(mktemp -d /tmp/kgbench.XXXXXX)
trap 'rm -rf "$W"' EXIT
export KEYGATE_SO_PIN=87654321 KEYGATE_PIN=1234 GNUTLS_PIN=1234
eval "$("$KG" token init --softhsm "$W/hsm" --label bench 2>/dev/null)"
export SOFTHSM2_CONF KEYGATE_MODULE
"$KG" key gen --token pkcs11:token=bench --label bench --type "$TYPE" >/dev/null 2>&1
URI="pkcs11:token=bench;object=bench;type=private"
ENGINE_SO=$(ls /usr/lib/*/engines-3/pkcs11.so 2>/dev/null | head -1)
printf 'cn = "bench.example.com"\n' >"$W/certtool.tmpl"

cmds=(
	"$FLOOR $KEYGATE_MODULE bench bench"
	"$KG csr create --key '$URI' --subject CN=bench.example.com"
	"env PKCS11_MODULE_PATH=$KEYGATE_MODULE openssl req -new -engine pkcs11 -keyform engine -key '$URI;pin-value=$KEYGATE_PIN' -subj /CN=bench.example.com"
	"certtool --generate-request --provider $KEYGATE_MODULE --load-privkey '$URI' --template $W/certtool.tmpl"
)
names=(floor keygate "openssl+engine" certtool)
[ -n "$ENGINE_SO" ] || { unset 'cmds[2]'; unset 'names[2]'; }

# every command must work before it is timed
for c in "${cmds[@]}"; do
	bash -c "$c" >/dev/null 2>&1 || { echo "bench: fails: $c" >&2; exit 1; }
done
args=()
for i in "${!cmds[@]}"; do args+=(-n "${names[$i]}" "${cmds[$i]}"); done
hyperfine -N --warmup 5 --runs "$RUNS" --export-json "$W/h.json" "${args[@]}" >/dev/null 2>&1 ||
	hyperfine --warmup 5 --runs "$RUNS" --export-json "$W/h.json" "${args[@]}" >/dev/null
echo "one CSR on a SoftHSM2 $TYPE token key, $RUNS runs each ($(nproc) cores, $(date -u +%F))"
jq -r '.results as $r | ($r[] | select(.command=="floor") | .mean) as $f |
	["tool", "mean_ms", "stddev_ms", "x_floor"], ($r[] |
	[.command, (.mean*1000*100|round/100), (.stddev*1000*100|round/100),
	 (.mean/$f*100|round/100)]) | @tsv' "$W/h.json" | column -t
