#!/usr/bin/env bash
# Every verb has --help that lists its options; the man page and README
# name every command; --version answers.
. "$(dirname "$0")/lib.sh"
SRC=${KG_SRC:-$(dirname "$0")/../..}

expect 0 "" --version
check "--version names keygate" grep -q "^keygate " "$T/out"
expect 0 "" --help
grep -E '^  [a-z]+ +[a-z]+ ' "$T/out" | awk '{print $1, $2}' >"$T/cmds"
[ "$(wc -l <"$T/cmds")" -ge 8 ] && ok || bad "--help lists the commands"
while read -r g v; do
	expect 0 "" "$g" "$v" --help
	check "$g $v --help: usage line" grep -q "^usage: keygate $g $v" "$T/out"
	check "$g $v --help: an example" bash -c "grep -A1 '^example:$' '$T/out' | grep -q 'keygate.* $g $v'"
	# every option the parser accepts is documented in --help, the man page
	for o in $(grep -Eo '^  --[a-z-]+' "$T/out" | tr -d ' '); do
		check "$g $v $o in the man page" grep -q -- "${o//-/\\\\-}" "$SRC/docs/keygate.1"
	done
	check "$g $v in the man page" grep -q "$g $v" "$SRC/docs/keygate.1"
	check "$g $v in README" grep -q "$g $v" "$SRC/README.md"
done <"$T/cmds"
# each group's help lists every verb of that group
for g in $(cut -d' ' -f1 "$T/cmds" | sort -u); do
	expect 0 "" "$g" --help
	for v in $(awk -v g="$g" '$1 == g {print $2}' "$T/cmds"); do
		check "$g --help lists $v" grep -qw -- "$v" "$T/out"
	done
done
expect 2 "" 
