#!/usr/bin/env bash
# A throwaway NSS softokn token (libsoftokn3), reached through p11-kit.
#   ci/modules/nss.sh up DIR | down DIR
# softokn refuses C_Initialize without init arguments (CKR_ARGUMENTS_BAD),
# so it is loaded only through a p11-kit module file whose x-init-reserved
# names the database: KG_MODULE is empty, KG_MODULE_NAME is set.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

SOFTOKN=$KG_LIBDIR/libsoftokn3.so
ETC_MODULES=/etc/pkcs11/modules
LABEL=kg-nss

# One module file per DIR, so two runs do not collide.
kg_name() { echo "kg-nss-$(printf '%s' "$DIR" | sha1sum | cut -c1-8)"; }
kg_stamp() { echo "# made by ci/modules/nss.sh for $DIR"; }

kg_check() {
	kg_need_cmd certutil p11-kit sha1sum
	kg_need_file "$SOFTOKN"
	# The path goes inside a quoted NSS parameter string.
	case $DIR in *[\'\"\ ]*) kg_die "DIR must not hold quotes or spaces: $DIR" ;; esac
}

kg_up() {
	local name mdir file
	name=$(kg_name)
	mkdir -m 700 "$DIR/db"
	# certutil -N -f sets the DB password (the user PIN) in one step.
	(umask 077 && printf '%s\n' "$KG_USER_PIN" >"$DIR/pin")
	certutil -N -d "sql:$DIR/db" -f "$DIR/pin" >>"$DIR/log" 2>&1
	rm -f "$DIR/pin"

	# p11-kit 0.24 skips ~/.config/pkcs11 when getuid() == 0 ("skipping user
	# config in program running as root", conf.c), and honours no env var
	# for its config paths. So as root the file goes in /etc/pkcs11/modules
	# (host-wide while up; down removes it); otherwise in a private HOME.
	if [ "$(id -u)" -eq 0 ]; then
		mdir=$ETC_MODULES
		if [ ! -d /etc/pkcs11 ]; then mkdir /etc/pkcs11 && echo /etc/pkcs11 >>"$DIR/made-dirs"; fi
		if [ ! -d "$mdir" ]; then mkdir "$mdir" && echo "$mdir" >>"$DIR/made-dirs"; fi
	else
		mdir=$DIR/home/.config/pkcs11/modules
		mkdir -p "$mdir"
	fi
	file=$mdir/$name.module
	[ ! -e "$file" ] || kg_die "$file exists already"
	echo "$file" >"$DIR/module-file"
	# dbTokenDescription renames the key-DB token from "NSS Certificate DB".
	{
		kg_stamp
		echo "module: $SOFTOKN"
		echo "x-init-reserved: configdir='sql:$DIR/db' certPrefix='' keyPrefix='' secmod='secmod.db' flags= dbTokenDescription='$LABEL'"
	} >"$file"

	# Prove p11-kit sees it. A private HOME also keeps a registered
	# tpm2-pkcs11 from making ~/.tpm2_pkcs11; TSS2_LOG quiets its errors.
	mkdir -p "$DIR/home"
	HOME=$DIR/home TSS2_LOG=all+none \
		p11-kit list-modules >"$DIR/list-modules" 2>>"$DIR/log" || true
	sed -n "/^$name:/,/^[^ ]/p" "$DIR/list-modules" | grep -q "token: $LABEL\$" ||
		kg_die "p11-kit list-modules does not show $name with token $LABEL"

	kg_emit_std "" "$name" "pkcs11:token=$LABEL" ""
	kg_export KG_NSS_DB "sql:$DIR/db"
	[ "$(id -u)" -eq 0 ] || kg_export HOME "$DIR/home"
}

kg_down() {
	local file d
	# Remove only our own file: the name is derived from DIR, so this works
	# even when DIR is gone; the stamp line proves the file is ours.
	for file in "$ETC_MODULES/$(kg_name).module" "$(cat "$DIR/module-file" 2>/dev/null)"; do
		if [ -f "$file" ] && [ "$(head -1 "$file")" = "$(kg_stamp)" ]; then rm -f "$file"; fi
	done
	if [ -f "$DIR/made-dirs" ]; then
		for d in $(tac "$DIR/made-dirs"); do rmdir "$d" 2>/dev/null || true; done
	fi
}

kg_main "$@"
