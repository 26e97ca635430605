#!/usr/bin/env bash
# The test command: install what is missing, build, run every test; then
# build again with AddressSanitizer + UndefinedBehaviorSanitizer and run
# every test a second time. Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/install-deps.sh

echo "== format check"
if ! clang-format --dry-run --Werror common/*.[ch] hsm/*.[ch] engine/*.[ch] \
	cli/*.[ch] bench/*.c tests/unit/*/*.[ch] tests/fuzz/*.[ch] tests/p11/*.c; then
	echo "clang-format: run clang-format -i on the files above" >&2
	exit 1
fi

echo "== plain build and tests"
bash ci/build.sh plain
(cd build && ctest --output-on-failure -j 2)

echo "== fuzzing: every parser target, bounded (ci/fuzz.sh SECONDS for longer)"
bash ci/fuzz.sh "${KEYGATE_FUZZ_SECONDS:-10}"

echo "== ASan + UBSan build and tests"
bash ci/build.sh asan
# Suppressions for third-party modules' leaks in their own
# C_Initialize and C_SignInit (tests/lsan.supp says why). Full stacks (libcrypto has no
# frame pointers); a sanitizer report exits 86, which no keygate failure
# does, and lib.sh also fails any call whose stderr carries a report.
export ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0:strict_string_checks=1:exitcode=86
export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=86
(cd build-asan && ctest --output-on-failure -j 2)
