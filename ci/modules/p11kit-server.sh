#!/usr/bin/env bash
# A throwaway SoftHSM2 token served by `p11-kit server`, used through
# p11-kit-client.so and P11_KIT_SERVER_ADDRESS (the remoting path).
#   ci/modules/p11kit-server.sh up DIR | down DIR
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

PROVIDER=$KG_LIBDIR/softhsm/libsofthsm2.so
CLIENT=$KG_LIBDIR/pkcs11/p11-kit-client.so
LABEL=kg-remote

kg_check() {
	kg_need_cmd p11-kit softhsm2-util
	kg_need_file "$PROVIDER" "$CLIENT" /usr/libexec/p11-kit/p11-kit-server
}

kg_up() {
	local pid sock=$DIR/run/server.sock
	mkdir -p "$DIR/tokens"
	mkdir -m 700 "$DIR/run"
	cat >"$DIR/softhsm2.conf" <<EOF
directories.tokendir = $DIR/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOF
	# Only the server needs SOFTHSM2_CONF: exported to the caller, the
	# registered softhsm2 module would show kg-remote a second time.
	SOFTHSM2_CONF=$DIR/softhsm2.conf softhsm2-util --init-token --free \
		--label "$LABEL" --so-pin "$KG_SO_PIN" --pin "$KG_USER_PIN" >>"$DIR/log" 2>&1

	# -s: fork and print P11_KIT_SERVER_ADDRESS / P11_KIT_SERVER_PID in sh
	# syntax; a file, so the daemon holds no pipe of our caller's.
	SOFTHSM2_CONF=$DIR/softhsm2.conf XDG_RUNTIME_DIR=$DIR/run \
		p11-kit server -s --provider "$PROVIDER" -n "$sock" "pkcs11:token=$LABEL" \
		</dev/null >"$DIR/server.env" 2>>"$DIR/log" 3>&-
	pid=$(sed -n 's/^P11_KIT_SERVER_PID=\([0-9]*\);.*/\1/p' "$DIR/server.env")
	[ -n "$pid" ] || kg_die "p11-kit server printed no PID: $(cat "$DIR/server.env")"
	kg_pid_save server "$pid" p11-kit-server
	kg_wait "server socket $sock" test -S "$sock"

	kg_emit_std "$CLIENT" "" "pkcs11:token=$LABEL"
	kg_export P11_KIT_SERVER_ADDRESS "unix:path=$sock"
	# For tests that look at the store behind the server (not for keygate).
	kg_export KG_SOFTHSM2_CONF "$DIR/softhsm2.conf"
}

kg_down() {
	kg_stop server
}

kg_main "$@"
