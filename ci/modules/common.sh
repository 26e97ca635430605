# shellcheck shell=bash
# Helpers shared by ci/modules/*.sh; sourced. A module script defines
# kg_check, kg_up and kg_down, then calls kg_main "$@". Daemons are
# recorded in $DIR/pids/NAME.pid as "PID COMM", so a recycled PID is never
# killed; tools log to $DIR/log or stderr; only the eval-able lines reach
# stdout (fd 3 while kg_up runs; daemons get 3>&- so they hold no pipe).

KG_SELF=$(basename "$0" .sh)
# shellcheck disable=SC2034 # used by the module scripts
KG_LIBDIR=/usr/lib/$(uname -m)-linux-gnu   # Debian multiarch
KG_USER_PIN=123456   # 4-8 digits: opencryptoki's limits, fine for all
KG_SO_PIN=12345678   # not opencryptoki's default SO PIN (87654321)

kg_log() { echo "$KG_SELF: $*" >&2; }
kg_die() { kg_log "$*"; exit 1; }
# 77 tells the test harness to skip this module, not fail.
kg_skip() {
	kg_log "skip: $*"
	KG_SKIPPED=1
	exit 77
}

# kg_need_cmd CMD... / kg_need_file PATH...: skip when a package is missing.
kg_need_cmd() {
	local c
	for c in "$@"; do command -v "$c" >/dev/null || kg_skip "no $c (ci/modules/packages.txt)"; done
}
kg_need_file() {
	local f
	for f in "$@"; do [ -e "$f" ] || kg_skip "no $f (ci/modules/packages.txt)"; done
}
kg_need_root() { [ "$(id -u)" -eq 0 ] || kg_skip "$*: needs root"; }

# kg_q VALUE: VALUE single-quoted for eval (URIs hold ';' and '?').
kg_q() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
kg_emit() { printf '%s=%s\n' "$1" "$(kg_q "$2")" >&3; }
kg_export() { printf 'export %s=%s\n' "$1" "$(kg_q "$2")" >&3; }
# kg_emit_std MODULE NAME URI [SO_PIN]: the lines every module prints.
kg_emit_std() {
	kg_emit KG_MODULE "$1"
	kg_emit KG_MODULE_NAME "$2"
	kg_emit KG_TOKEN_URI "$3"
	kg_emit KG_PIN "$KG_USER_PIN"
	kg_emit KG_SO_PIN "${4-$KG_SO_PIN}"
}

# kg_pid_save NAME PID COMM: record a daemon for kg_stop, once PID runs
# COMM (a just-forked child is still the shell until it execs).
kg_pid_save() {
	local i
	for i in $(seq 50); do
		kg_alive "$2" "$3" && break
		[ -d "/proc/$2" ] || kg_die "$1 ($2) exited; see $DIR/log"
		sleep 0.1
	done
	kg_alive "$2" "$3" || kg_die "$1 ($2) is not $3 after $i tries"
	mkdir -p "$DIR/pids"
	printf '%s %s\n' "$2" "$3" >"$DIR/pids/$1.pid"
}

# kg_alive PID COMM: running (not a zombie) and still the program we started.
kg_alive() {
	local st comm
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] || return 1
	comm=$(cat "/proc/$1/comm" 2>/dev/null) || return 1
	[ "${comm:0:15}" = "${2:0:15}" ]
}

# kg_pid_stop FILE: TERM, wait up to 5 s, then KILL; only our own PID.
kg_pid_stop() {
	local pid comm i
	read -r pid comm <"$1" || true
	if [ -n "${pid:-}" ] && kg_alive "$pid" "$comm"; then
		kill -TERM "$pid" 2>/dev/null || true
		for i in $(seq 50); do
			kg_alive "$pid" "$comm" || break
			sleep 0.1
		done
		if kg_alive "$pid" "$comm"; then
			kg_log "$comm ($pid) outlived TERM by 5 s ($i tries); killing"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$1"
}

# kg_stop NAME...: the recorded daemons, in the order given.
kg_stop() {
	local n
	for n in "$@"; do
		if [ -f "$DIR/pids/$n.pid" ]; then kg_pid_stop "$DIR/pids/$n.pid"; fi
	done
}

# kg_wait WHAT CMD...: retry CMD (quietly) for up to 10 s.
kg_wait() {
	local what=$1 i
	shift
	for i in $(seq 100); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	kg_die "$what: not ready after 10 s ($i tries)"
}
kg_listening() { ss -Hltn "sport = :$1" | grep -q .; }

# kg_port_pair: a free port P with P+1 free too (swtpm wants both).
kg_port_pair() {
	local p i
	for i in $(seq 50); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		if ! ss -Hatn "( sport = :$p or sport = :$((p + 1)) )" | grep -q .; then
			echo "$p"
			return 0
		fi
	done
	kg_die "no free port pair after $i tries"
}

# kg_main VERB DIR: DIR made absolute. up runs kg_check (skips happen
# before anything is made), then kg_up with stdout on fd 3 only.
kg_main() {
	if [ $# -ne 2 ] || [ -z "$2" ]; then
		echo "usage: $0 up DIR | down DIR" >&2
		exit 2
	fi
	DIR=$(realpath -m -- "$2")
	[ "$DIR" != / ] || kg_die "refusing DIR=/"
	case $1 in
	up)
		kg_check
		mkdir -p "$DIR"
		[ -z "$(ls -A "$DIR")" ] || kg_die "$DIR is not empty: use a fresh directory"
		exec 3>&1 1>&2
		trap kg_up_exit EXIT
		kg_up
		;;
	down)
		kg_down
		if [ -d "$DIR" ]; then rm -rf -- "$DIR"; fi
		;;
	*) kg_die "unknown verb '$1': use up or down" ;;
	esac
}

# After a failed up: the module's kg_down (DIR and its logs stay). A tool
# that happened to exit 77 is a failure, not a skip.
kg_up_exit() {
	local rc=$?
	[ "$rc" -ne 0 ] || return 0
	[ "$rc" -ne 77 ] || [ -z "${KG_SKIPPED:-}" ] || return 0
	kg_log "up failed ($rc); stopping what it started; logs in $DIR"
	if [ -s "$DIR/log" ]; then tail -n 5 "$DIR/log" | sed 's/^/  log: /' >&2; fi
	(kg_down) || kg_log "that cleanup failed too"
	exit 1
}
