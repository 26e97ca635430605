#!/usr/bin/env bash
# token init --softhsm, token list, URIs that paste back in, token matching.
. "$(dirname "$0")/lib.sh"
needs_softhsm

# the throwaway store: export lines for eval, files in place
kg token init --softhsm "$T/hsm" --label ci
equal "token init --softhsm rc" "$RC" 0
check "export SOFTHSM2_CONF line" grep -q "^export SOFTHSM2_CONF='$T/hsm/softhsm2.conf'$" "$T/out"
check "export KEYGATE_MODULE line" grep -q "^export KEYGATE_MODULE=" "$T/out"
check "conf written" test -f "$T/hsm/softhsm2.conf"
check "token dir made" test -d "$T/hsm/tokens"
eval "$(cat "$T/out")"
export SOFTHSM2_CONF KEYGATE_MODULE

# token list, human and JSON
expect 0 "" token list
check "human list names the token" grep -q "token 'ci'" "$T/out"
expect 0 "" --json token list
check "json: one initialised token ci" \
	jq -e '[.slots[] | select(.token.label=="ci" and .token.initialized and (.token.free|not))] | length == 1' "$T/out"
check "json: a free token is offered" jq -e '[.slots[] | select(.token.free)] | length >= 1' "$T/out"
URI=$(jq -r '.slots[] | select(.token.label=="ci") | .token.uri' "$T/out")
check "listed URI names the module" grep -q "module-path=" <<<"$URI"

# the printed URI pastes back in, even with no module in the environment
expect 0 "" key gen --token "$URI" --label pasted
KG_ENV="-u KEYGATE_MODULE" expect 0 "" key list --token "$URI"
check "key listed without KEYGATE_MODULE" grep -q "key 'pasted'" "$T/out"

# a label is unique; a second token makes bare URIs ambiguous
expect 2 "a token labelled 'ci' exists already" token init --label ci
expect 0 "" token init --label second
check "token init prints the new URI" grep -q "token=second" "$T/out"
expect 3 "matches 2 tokens" key list --token "pkcs11:manufacturer=SoftHSM%20project"
check "ambiguity lists ci" grep -q "token=ci?" "$T/err"
check "ambiguity lists second" grep -q "token=second?" "$T/err"
expect 3 "no token matches" key list --token "pkcs11:token=nosuch"
expect 0 "" key list --token "pkcs11:token=second"

# serial and model select too
SERIAL=$(jq -r '.slots[] | select(.token.label=="ci") | .token.serial' <("$KEYGATE" --json token list))
expect 0 "" key list --token "pkcs11:serial=$SERIAL"
check "by serial" grep -q "key 'pasted'" "$T/out"
# a bare label is accepted by token init --token only as pkcs11:token=
expect 2 "is not a pkcs11: URI" key list --token ci

# modules: --module, KEYGATE_MODULE, URI module-path=, the p11-kit registry
expect 3 "cannot load PKCS#11 module '/nonexistent/mod.so'" --module /nonexistent/mod.so token list
KG_ENV="KEYGATE_MODULE=/nonexistent/env.so" expect 3 "'/nonexistent/env.so'" token list
expect 3 "cannot load" key list --token "pkcs11:token=ci?module-path=/nonexistent/uri.so"
if [ -r /usr/share/p11-kit/modules/softhsm2.module ]; then
	KG_ENV="-u KEYGATE_MODULE" expect 0 "" key list --token "pkcs11:token=ci?module-name=softhsm2"
	KG_ENV="-u KEYGATE_MODULE" expect 0 "" --json token list
	check "the registry finds our token" jq -e '[.slots[] | select(.token.label=="ci")] | length == 1' "$T/out"
	KG_ENV="-u KEYGATE_MODULE" expect 3 "no PKCS#11 module named 'nosuch'" key list --token "pkcs11:token=ci?module-name=nosuch"
	# a module found through the registry is named by module-name= in
	# what keygate prints (its configuration comes along when pasted
	# back), never by a path the user did not give
	KG_ENV="-u KEYGATE_MODULE" expect 0 "" --json key list --token "pkcs11:token=ci"
	U=$(jq -r '.keys[0].uri' "$T/out")
	check "registry module: module-name= in the URI" grep -q "module-name=softhsm2" <<<"$U"
	check "registry module: no module-path=" test -z "$(grep -o "module-path=" <<<"$U" || true)"
	KG_ENV="-u KEYGATE_MODULE" expect 0 "" key show "$U"
fi
# a registered module that cannot start (Debian's tpm2-pkcs11 on a host
# without a TPM): one warning naming it and its CKR; the rest still works
if [ -r /usr/share/p11-kit/modules/tpm2_pkcs11.module ] && [ ! -e /dev/tpmrm0 ] &&
	[ -r /usr/share/p11-kit/modules/softhsm2.module ]; then
	mkdir -p "$T/home"
	KG_ENV="-u KEYGATE_MODULE -u TPM2_PKCS11_TCTI HOME=$T/home TSS2_LOG=all+none DBUS_SESSION_BUS_ADDRESS=unix:path=$T/none" \
		expect 0 "PKCS#11 module 'tpm2_pkcs11' of the p11-kit registry did not start (C_Initialize: CKR_" --json token list
	equal "one warning for it" "$(grep -c "^keygate: warning: PKCS#11 module 'tpm2_pkcs11'" "$T/err")" 1
	check "the rest of the registry still works" jq -e '[.slots[] | select(.token.label=="ci")] | length == 1' "$T/out"
fi

# bad URIs and missing SO PIN
expect 2 "bad PKCS#11 URI" key list --token "pkcs11:token=%zz"
KG_ENV="-u KEYGATE_SO_PIN" expect 2 "no SO PIN" token init --label third
expect 2 "token label must be 1 to 32 bytes" token init --label "$(printf 'x%.0s' {1..33})"
expect 2 "needs --label" token init
