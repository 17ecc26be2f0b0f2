#!/bin/sh
# tests/run.sh BUILD[:PATTERNS] [BUILD[:PATTERNS]...]: run every test (or
# the tests PATTERNS names) against each build directory.
#
# For each BUILD: every executable BUILD/tests/test_* (unit tests), then every
# tests/integration/[0-9][0-9]-*.sh (bash), each under `timeout 600`, with
# RECFS, RECCTL, TESTBIN (= BUILD/tests) and BUILD exported as absolute paths.
#
# Counting: lines beginning "PASS:" and "FAIL:" in each program's output.
# A program that exits non-zero without printing a FAIL line counts as one
# failure, under its own name. FAIL lines, and the tail of a failing
# program's output, are shown with the build name in front, so a CI log says
# what broke. The last line is always "N passed, N failed"; the exit status
# is 1 when anything failed or nothing ran.
#
# Choosing tests: BUILD:PATTERNS runs only the tests of that build whose
# name matches one of the shell patterns (separated by commas or spaces); a
# unit test's name is test_NAME, an integration test's NN-name (no .sh),
# e.g. `sh tests/run.sh build build-san 'build-tsan:test_*,03-live,23-*'`.
# A BUILD without patterns takes them from RECFS_TESTS (same form) when that
# is set, and otherwise runs every test. A pattern that matches no test of
# its build counts as a failure, so a typo cannot pass.
#
# ThreadSanitizer builds (make tsan): TSAN_OPTIONS is exported with
# tests/tsan.supp, halt_on_error=1 (a race ends the program, as an ASan
# report does) and log_path in a directory of the runner's, so a report
# from any program a test starts -- the daemon, also one killed with
# kill -9, recctl, a helper -- fails that test and is shown in full. The
# caller's own TSAN_OPTIONS come last and win. Other builds ignore it.
#
# POSIX sh on purpose: the Makefile runs it as `sh tests/run.sh`.

set -u
if [ $# -lt 1 ]; then
	echo "usage: sh tests/run.sh BUILD[:PATTERNS] [BUILD[:PATTERNS]...]" >&2
	exit 2
fi
orig=$(pwd)
cd "$(dirname "$0")/.." || exit 2
root=$(pwd)
LIMIT=600
KEEP_LINES=80
passed=0
failed=0
tmp=$(mktemp -d /tmp/recfs-run.XXXXXX) || exit 2
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/tsan" || exit 2
# die_after_fork=0: the daemon without -f forks after its audit writer has
# started (fs/audit.c parks it around the fork), as test_audit does.
TSAN_OPTIONS="halt_on_error=1 die_after_fork=0 second_deadlock_stack=1\
 suppressions=$root/tests/tsan.supp log_path=$tmp/tsan/report${TSAN_OPTIONS:+ $TSAN_OPTIONS}"
export TSAN_OPTIONS
trap 'exit 130' INT
trap 'exit 143' TERM

# prefix TEXT: put TEXT in front of every input line.
prefix() {
	awk -v p="$1" '{ print p $0 }'
}

# failure MESSAGE: one failure the runner itself found.
failure() {
	failed=$((failed + 1))
	echo "[$build] FAIL: $1"
}

# selected NAME: true when $pats (this build's patterns) is empty or one of
# them matches NAME; the patterns that match are added to $matched.
selected() {
	[ -n "$pats" ] || return 0
	sel=1
	set -f
	for pat in $pats; do
		# shellcheck disable=SC2254 # the pattern is a pattern
		case $1 in
		$pat)
			sel=0
			matched="$matched $pat "
			;;
		esac
	done
	set +f
	return $sel
}

# unmatched: a failure for each of $pats that no test of this build
# matched.
unmatched() {
	set -f
	for pat in $pats; do
		case $matched in
		*" $pat "*) ;;
		*) failure "test pattern '$pat' matches no test" ;;
		esac
	done
	set +f
}

# tsan_reports LABEL: each ThreadSanitizer report the last program left in
# $tmp/tsan is a failure, shown (at most 3 reports, 100 lines each).
tsan_reports() {
	n=0
	for r in "$tmp"/tsan/report.*; do
		[ -f "$r" ] || continue
		n=$((n + 1))
		failure "$1: ThreadSanitizer report from pid ${r##*.}"
		if [ "$n" -le 3 ]; then
			head -n 100 "$r" | prefix "[$build]   tsan| "
		fi
		rm -f "$r"
	done
	f=$((f + n))
}

# run_one LABEL CMD...: run, count, report.
run_one() {
	label=$1
	shift
	out=$tmp/out
	rm -f "$tmp"/tsan/report.*
	start=$(date +%s)
	timeout -k 30 "$LIMIT" "$@" </dev/null >"$out" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	p=$(grep -c '^PASS:' "$out")
	f=$(grep -c '^FAIL:' "$out")
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$rc" -ne 0 ] || [ "$f" -gt 0 ]; then
		# Everything but the PASS lines, in order. When that is long,
		# the FAIL lines from the part cut away come first, then the
		# last KEEP_LINES lines: each FAIL line is shown exactly once.
		grep -v '^PASS:' "$out" >"$tmp/ctx"
		n=$(wc -l <"$tmp/ctx")
		if [ "$n" -gt "$KEEP_LINES" ]; then
			head -n $((n - KEEP_LINES)) "$tmp/ctx" | grep '^FAIL:' | prefix "[$build] "
			echo "[$build]   ... $((n - KEEP_LINES)) more lines of $label output cut ..."
		fi
		tail -n "$KEEP_LINES" "$tmp/ctx" | awk -v p="[$build] " \
			'/^FAIL:/ { print p $0; next } { print p "  | " $0 }'
	fi
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		case $rc in
		124 | 137) failure "$label: timed out after $LIMIT s (no FAIL line)" ;;
		*) failure "$label: exited with status $rc (no FAIL line)" ;;
		esac
		f=1
	fi
	tsan_reports "$label"
	echo "[$build] $label: $p passed, $f failed (${secs}s)"
}

for arg in "$@"; do
	case $arg in
	*:*)
		build=${arg%%:*}
		pats=${arg#*:}
		;;
	*)
		build=$arg
		pats=${RECFS_TESTS:-}
		;;
	esac
	pats=$(printf '%s\n' "$pats" | tr ',' ' ')
	case $build in
	/*) dir=$build ;;
	*) dir=$orig/$build ;;
	esac
	if [ ! -d "$dir" ]; then
		failure "build directory '$build' does not exist"
		continue
	fi
	abs=$(cd "$dir" && pwd)
	BUILD=$abs
	RECFS=$abs/recfs
	RECCTL=$abs/recctl
	TESTBIN=$abs/tests
	export BUILD RECFS RECCTL TESTBIN
	matched=

	for t in "$abs"/tests/test_*; do
		[ -f "$t" ] && [ -x "$t" ] || continue
		selected "$(basename "$t")" || continue
		run_one "tests/$(basename "$t")" "$t"
	done

	if [ ! -x "$RECFS" ] || [ ! -x "$RECCTL" ]; then
		failure "$build/recfs or $build/recctl is not built: integration tests skipped"
		continue
	fi
	for t in tests/integration/[0-9][0-9]-*.sh; do
		[ -f "$t" ] || continue
		selected "$(basename "$t" .sh)" || continue
		run_one "$t" bash "$t"
	done
	unmatched
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ $((passed + failed)) -gt 0 ]
