#!/usr/bin/env bash
# A throwaway tpm2-pkcs11 token on a software TPM.
#   ci/modules/tpm2.sh up DIR | down DIR
# swtpm (TCP on 127.0.0.1) <- tpm2-abrmd on a private D-Bus bus <- the
# tabrmd TCTI in libtpm2_pkcs11 and tpm2_ptool. abrmd lets several clients
# (keygate's parallel sessions, tpm2_ptool) share the one swtpm connection.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

MODULE=$KG_LIBDIR/pkcs11/libtpm2_pkcs11.so
TCTI=tabrmd:bus_type=session
LABEL=kg-tpm2

kg_check() {
	kg_need_cmd swtpm tpm2-abrmd dbus-daemon tpm2_ptool tpm2_getrandom ss
	# libtss2-tcti-tabrmd0 is only a Recommends of tpm2-abrmd.
	kg_need_file "$MODULE" "$KG_LIBDIR/libtss2-tcti-tabrmd.so.0" \
		"$KG_LIBDIR/libtss2-tcti-swtpm.so.0"
}

# A bus of our own: no system or user session bus is touched or needed.
kg_bus_conf() {
	cat <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$DIR/bus.sock</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
EOF
}

kg_up() {
	local port try root=()
	mkdir -p "$DIR/tpm" "$DIR/store"

	# swtpm wants PORT and PORT+1 (control); retry if another run took them.
	for try in 1 2 3; do
		port=$(kg_port_pair)
		swtpm socket --tpm2 --tpmstate "dir=$DIR/tpm" \
			--server "type=tcp,port=$port,bindaddr=127.0.0.1" \
			--ctrl "type=tcp,port=$((port + 1)),bindaddr=127.0.0.1" \
			--flags not-need-init,startup-clear --daemon \
			--pid "file=$DIR/swtpm.pid" --log "file=$DIR/swtpm.log" \
			</dev/null >>"$DIR/log" 2>&1 3>&- && break
		kg_log "swtpm on port $port failed (try $try)"
		[ "$try" -lt 3 ] || kg_die "swtpm would not start; see $DIR/swtpm.log"
	done
	kg_pid_save swtpm "$(cat "$DIR/swtpm.pid")" swtpm
	kg_wait "swtpm on port $port" kg_listening "$port"

	kg_bus_conf >"$DIR/bus.conf"
	dbus-daemon --config-file="$DIR/bus.conf" --fork --print-address=4 \
		--print-pid=5 4>"$DIR/bus.addr" 5>"$DIR/bus.pid" </dev/null >>"$DIR/log" 2>&1 3>&-
	kg_pid_save dbus "$(cat "$DIR/bus.pid")" dbus-daemon
	DBUS_SESSION_BUS_ADDRESS=$(head -1 "$DIR/bus.addr")
	export DBUS_SESSION_BUS_ADDRESS TPM2TOOLS_TCTI=$TCTI TPM2_PKCS11_TCTI=$TCTI
	export TPM2_PKCS11_STORE=$DIR/store

	# abrmd refuses to run as root without --allow-root; it does not fork.
	[ "$(id -u)" -ne 0 ] || root=(--allow-root)
	tpm2-abrmd --session "${root[@]}" --tcti="swtpm:host=127.0.0.1,port=$port" \
		</dev/null >>"$DIR/abrmd.log" 2>&1 3>&- &
	kg_pid_save tpm2-abrmd $! tpm2-abrmd
	kg_wait "the TPM through tpm2-abrmd (see abrmd.log)" tpm2_getrandom 4

	tpm2_ptool init --path="$DIR/store" >>"$DIR/log" 2>&1
	tpm2_ptool addtoken --pid=1 --label="$LABEL" --sopin="$KG_SO_PIN" \
		--userpin="$KG_USER_PIN" --path="$DIR/store" >>"$DIR/log" 2>&1

	kg_emit_std "$MODULE" "" "pkcs11:token=$LABEL"
	kg_export DBUS_SESSION_BUS_ADDRESS "$DBUS_SESSION_BUS_ADDRESS"
	kg_export TPM2_PKCS11_TCTI "$TCTI"
	kg_export TPM2TOOLS_TCTI "$TCTI"
	kg_export TPM2_PKCS11_STORE "$DIR/store"
}

kg_down() {
	# Clients first: abrmd, then the bus it sits on, then the TPM.
	kg_stop tpm2-abrmd dbus swtpm
}

kg_main "$@"
