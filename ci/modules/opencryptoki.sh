#!/usr/bin/env bash
# A throwaway opencryptoki soft token (swtok), run by our own pkcsslotd.
#   ci/modules/opencryptoki.sh up DIR | down DIR
# The store path is compiled in, so a fresh DIR/swtok is bind-mounted over
# it; pkcsslotd is one per host (fixed pid file and socket in /var/run).
# Needs root: mount, and the pkcs11 group's daemon.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

MODULE=$KG_LIBDIR/pkcs11/libopencryptoki.so
CONF=/etc/opencryptoki/opencryptoki.conf
STORE=/var/lib/opencryptoki/swtok
SLOTD_PID=/var/run/pkcsslotd.pid
SLOTD_SOCK=/var/run/pkcsslotd.socket
LABEL=kg-opencryptoki

# The soft token's slot: the one whose stdll is libpkcs11_sw.so.
kg_slot() {
	awk '$1 == "slot" { s = $2 } /stdll *= *libpkcs11_sw\.so/ { print s; exit }' "$CONF"
}

# pkcsconf exits 0 even when the call failed: judge by what it printed.
kg_pkcsconf() {
	local out
	out=$(pkcsconf "$@" 2>&1 </dev/null) || true
	echo "pkcsconf $1: $out" >>"$DIR/log"
	case $out in *rror* | *ncorrect* | *ailed* | *nvalid*) kg_die "pkcsconf $1: $out" ;; esac
}

# Same inode on both sides means DIR/swtok is what STORE shows now.
kg_is_ours() {
	[ -d "$DIR/swtok" ] && mountpoint -q "$STORE" &&
		[ "$(stat -c %d:%i "$STORE")" = "$(stat -c %d:%i "$DIR/swtok")" ]
}

kg_check() {
	kg_need_root opencryptoki
	kg_need_cmd pkcsslotd pkcsconf mountpoint
	kg_need_file "$MODULE" "$CONF" "$STORE" "$KG_LIBDIR/opencryptoki/stdll/libpkcs11_sw.so"
	getent group pkcs11 >/dev/null || kg_skip "no pkcs11 group (opencryptoki not set up)"
	[ -n "$(kg_slot)" ] || kg_skip "$CONF names no libpkcs11_sw.so slot"
	local pid
	pid=$(cat "$SLOTD_PID" 2>/dev/null || true)
	if [ -n "$pid" ] && kg_alive "$pid" pkcsslotd; then
		kg_skip "a pkcsslotd ($pid) not started by us runs: one per host"
	fi
	! mountpoint -q "$STORE" || kg_skip "$STORE is mounted already (another run?)"
}

kg_up() {
	local slot flags
	slot=$(kg_slot)
	mkdir -p "$DIR/swtok/TOK_OBJ"
	chgrp -R pkcs11 "$DIR/swtok"
	chmod -R 0770 "$DIR/swtok"
	mount --bind "$DIR/swtok" "$STORE"
	kg_is_ours || kg_die "bind mount of $DIR/swtok on $STORE did not take"

	# pkcsslotd forks itself; its stdio must not hold our stdout (fd 3).
	rm -f "$SLOTD_PID"
	pkcsslotd </dev/null >>"$DIR/log" 2>&1 3>&-
	kg_wait "pkcsslotd's pid file and socket" test -s "$SLOTD_PID" -a -S "$SLOTD_SOCK"
	kg_pid_save pkcsslotd "$(cat "$SLOTD_PID")" pkcsslotd

	# Fresh store: the SO PIN is the default 87654321 and must be changed.
	printf '%s\n' "$LABEL" | pkcsconf -I -c "$slot" -S 87654321 >>"$DIR/log" 2>&1 || true
	kg_pkcsconf -P -c "$slot" -S 87654321 -n "$KG_SO_PIN"
	kg_pkcsconf -u -c "$slot" -S "$KG_SO_PIN" -n "$KG_USER_PIN"
	flags=$(pkcsconf -t -c "$slot" 2>&1 || true)
	echo "$flags" >>"$DIR/log"
	case $flags in *"Label: $LABEL "*USER_PIN_INITIALIZED*TOKEN_INITIALIZED*) ;;
	*) kg_die "token in slot $slot was not initialised: $flags" ;; esac

	kg_emit_std "$MODULE" "" "pkcs11:token=$LABEL"
}

kg_down() {
	local pid
	kg_stop pkcsslotd
	# pkcsslotd leaves its pid file behind; drop it when no one runs.
	pid=$(cat "$SLOTD_PID" 2>/dev/null || true)
	if [ -n "$pid" ] && ! kg_alive "$pid" pkcsslotd; then rm -f "$SLOTD_PID"; fi
	if kg_is_ours; then
		umount "$STORE" 2>>"$DIR/log" || {
			kg_log "$STORE busy; detaching it lazily"
			umount -l "$STORE"
		}
	fi
	! kg_is_ours || kg_die "$STORE is still mounted from $DIR"
}

kg_main "$@"
