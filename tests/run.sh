#!/bin/sh
# tests/run.sh BUILD [BUILD...]: run every test against each build directory.
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
# POSIX sh on purpose: the Makefile runs it as `sh tests/run.sh`.

set -u
if [ $# -lt 1 ]; then
	echo "usage: sh tests/run.sh BUILD [BUILD...]" >&2
	exit 2
fi
orig=$(pwd)
cd "$(dirname "$0")/.." || exit 2
LIMIT=600
KEEP_LINES=80
passed=0
failed=0
tmp=$(mktemp -d /tmp/recfs-run.XXXXXX) || exit 2
trap 'rm -rf "$tmp"' EXIT
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

# run_one LABEL CMD...: run, count, report.
run_one() {
	label=$1
	shift
	out=$tmp/out
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
	echo "[$build] $label: $p passed, $f failed (${secs}s)"
}

for build in "$@"; do
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

	for t in "$abs"/tests/test_*; do
		[ -f "$t" ] && [ -x "$t" ] || continue
		run_one "tests/$(basename "$t")" "$t"
	done

	if [ ! -x "$RECFS" ] || [ ! -x "$RECCTL" ]; then
		failure "$build/recfs or $build/recctl is not built: integration tests skipped"
		continue
	fi
	for t in tests/integration/[0-9][0-9]-*.sh; do
		[ -f "$t" ] || continue
		run_one "$t" bash "$t"
	done
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ $((passed + failed)) -gt 0 ]
