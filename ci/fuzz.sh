#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz into build-fuzz/ (clang,
# -DKEYGATE_FUZZ=ON) and runs each for a bounded time, one process at a
# time, seeded from a scratch copy of tests/fuzz/corpus/<target>/ (the tree
# is never written). Prints executions and coverage per target; a crash,
# leak, timeout or out-of-memory fails the target and its input is kept in
# build-fuzz/crashes/. Exits non-zero if any target failed.
#   ci/fuzz.sh [SECONDS_PER_TARGET [TARGET...]]     (default 20 s, all)
# Reproduce a failure: build-fuzz/tests/fuzz/fz_<target> FILE
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
shift || true
case $secs in '' | *[!0-9]*)
	echo "usage: ci/fuzz.sh [SECONDS_PER_TARGET [TARGET...]]" >&2
	exit 2
	;;
esac

src=tests/fuzz
dir=build-fuzz
mkdir -p "$dir"

# libFuzzer's runtime comes with clang's compiler-rt (libclang-rt-N-dev)
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n)
{ return d && n ? 0 : 0; }' >"$probe/p.c"
if ! clang -fsanitize=fuzzer,address,undefined "$probe/p.c" \
	-o "$probe/p" 2>/dev/null; then
	v=$(clang -dumpversion | cut -d. -f1)
	echo "fuzz: installing libclang-rt-$v-dev (libFuzzer's runtime)"
	SUDO=
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
		--no-install-recommends "libclang-rt-$v-dev" >/dev/null
fi

echo "== build ($dir)"
cmake -S . -B "$dir" -DCMAKE_C_COMPILER=clang -DKEYGATE_FUZZ=ON \
	-DKEYGATE_TESTS=OFF >/dev/null
cmake --build "$dir" -j "$(nproc)" >"$dir/build.log" 2>&1 || {
	cat "$dir/build.log" >&2
	exit 1
}

# the dictionaries each target gets (joined into one file)
dicts() {
	case $1 in
	pem_scan | acm_check | acm_assemble | truststore_lint | mtls_check | \
		csr_parse | key_load | cert_show) echo pem ;;
	chain_verify) echo pem san ;;
	dn_parse) echo dn ;;
	san_parse) echo san ;;
	pkcs11_uri) echo pkcs11_uri secret_source ;;
	secret_source) echo secret_source ;;
	manifest) echo manifest dn san ;;
	audit_verify | audit_show) echo audit_verify ;;
	esac
}

if [ $# -gt 0 ]; then
	targets=("$@")
else
	targets=()
	for f in "$src"/fz_*.c; do
		t=${f##*/fz_}
		targets+=("${t%.c}")
	done
fi

# scratch corpora and the targets' scratch files: in memory when possible
# (the targets that take a path write their input once per execution)
base=${TMPDIR:-/tmp}
[ -d /dev/shm ] && [ -w /dev/shm ] && base=/dev/shm
scratch=$(mktemp -d "$base/kg-fuzz.XXXXXX")
trap 'rm -rf "$probe" "$scratch"' EXIT
mkdir -p "$dir/crashes" "$dir/logs"
export KG_FZ_SCRATCH=$scratch
# a sanitizer report ends the run; whole stacks for UBSan too
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

pass=0
fail=0
failed=()
echo "== fuzz: ${#targets[@]} targets, ${secs} s each"
for t in "${targets[@]}"; do
	bin=$dir/tests/fuzz/fz_$t
	log=$dir/logs/$t.log
	if [ ! -x "$bin" ]; then
		printf '%-16s FAIL  no such target (%s)\n' "$t" "$bin"
		fail=$((fail + 1))
		failed+=("$t")
		continue
	fi
	corpus=$scratch/corpus-$t
	mkdir -p "$corpus"
	[ -d "$src/corpus/$t" ] && cp -r "$src/corpus/$t/." "$corpus/"
	args=(-max_total_time="$secs" -rss_limit_mb=2048 -timeout=10
		-print_final_stats=1 -artifact_prefix="$dir/crashes/$t-")
	d=$(dicts "$t")
	if [ -n "$d" ]; then
		for x in $d; do cat "$src/$x.dict"; done >"$scratch/$t.dict"
		args+=(-dict="$scratch/$t.dict")
	fi
	rc=0
	# the outer limit only catches a run that libFuzzer cannot stop
	timeout -k 10 $((secs + 120)) "$bin" "${args[@]}" "$corpus" \
		>"$log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
	units=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$last")
	line=$(printf 'execs=%s exec/s=%s cov=%s ft=%s corpus=%s' \
		"${execs:-?}" "${speed:-?}" "${cov:-?}" "${ft:-?}" "${units:-?}")
	if [ "$rc" -eq 0 ]; then
		printf '%-16s ok    %s\n' "$t" "$line"
		pass=$((pass + 1))
		continue
	fi
	fail=$((fail + 1))
	failed+=("$t")
	printf '%-16s FAIL  %s (exit %d, log %s)\n' "$t" "$line" "$rc" "$log"
	# what it was, where, and the input that does it
	grep -E '^(==[0-9]+==ERROR|SUMMARY|ALARM|.*runtime error:|==[0-9]+== ERROR: libFuzzer)' \
		"$log" | head -3 | sed 's/^/    /'
	# the top of the first stack, without sanitizer, libFuzzer and libc
	awk '/ERROR|runtime error:/ { on = 1 }
		on && /^ *#[0-9]+ 0x/ { seen = 1
			if ($0 !~ /(Check|interceptor|fuzzer::|libc_start|\/fz_[a-z_]+\.c| in main |_start)/ && n++ < 4)
				print "    " $0 }
		on && seen && /^ *$/ { exit }' "$log"
	sed -n "s/^.*Test unit written to \(.*\)$/    reproducer: \1/p" "$log"
done
echo "${pass} passed, ${fail} failed"
if [ "$fail" -gt 0 ]; then
	echo "failed: ${failed[*]} (inputs in $dir/crashes/, logs in $dir/logs/)"
	exit 1
fi
