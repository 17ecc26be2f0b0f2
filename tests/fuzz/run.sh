#!/bin/sh
# tests/fuzz/run.sh BINDIR SECONDS TARGET...: run libFuzzer targets built by
# `make fuzz-build` (BINDIR holds them and mkcorpus).
#
# For each TARGET: every saved input under tests/fuzz/regress/TARGET/ is
# run once (each must pass), then the target fuzzes for SECONDS seconds on
# a fresh copy of its seeds (mkcorpus output, plus tests/fuzz/corpus/TARGET/
# when present) in a temporary directory. A crash, leak, sanitizer report
# or harness finding fails the target; its input is kept in
# BINDIR/artifacts/TARGET/ and the tail of the log is shown.
#
# Output: one "PASS: TARGET: ..." or "FAIL: TARGET: ..." line per target,
# details indented; exit status 1 when any target failed.
# Environment: FUZZ_ARGS, extra libFuzzer flags (e.g. -use_value_profile=1).
set -u
if [ $# -lt 3 ]; then
	echo "usage: sh tests/fuzz/run.sh BINDIR SECONDS TARGET..." >&2
	exit 2
fi
bindir=$(cd "$1" && pwd) || exit 2
secs=$2
shift 2
cd "$(dirname "$0")/../.." || exit 2

# tmpfs when there is one: the stores under test live there.
tmp=$(mktemp -d /dev/shm/recfs-fuzz.XXXXXX 2>/dev/null || mktemp -d /tmp/recfs-fuzz.XXXXXX) || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ! "$bindir/mkcorpus" "$tmp/seeds" >"$tmp/mkcorpus.log" 2>&1; then
	echo "FAIL: mkcorpus: cannot generate the seed corpus"
	sed 's/^/    | /' "$tmp/mkcorpus.log"
	exit 1
fi

failed=0
for t in "$@"; do
	bin=$bindir/$t
	art=$bindir/artifacts/$t
	log=$tmp/$t.log
	if [ ! -x "$bin" ]; then
		echo "FAIL: $t: $bin is not built"
		failed=$((failed + 1))
		continue
	fi
	mkdir -p "$art" "$tmp/corpus/$t" "$tmp/scratch-$t"
	[ -d "$tmp/seeds/$t" ] && cp "$tmp/seeds/$t"/* "$tmp/corpus/$t/" 2>/dev/null
	[ -d "tests/fuzz/corpus/$t" ] && cp "tests/fuzz/corpus/$t"/* "$tmp/corpus/$t/" 2>/dev/null
	seeds=$(find "$tmp/corpus/$t" -type f | wc -l)

	# Known findings first: each saved input must now run clean.
	regress=$(find "tests/fuzz/regress/$t" -type f 2>/dev/null | sort)
	if [ -n "$regress" ]; then
		# shellcheck disable=SC2086 # one argument per file
		if ! FUZZ_TMPDIR=$tmp/scratch-$t "$bin" -close_fd_mask=2 $regress >"$log" 2>&1; then
			echo "FAIL: $t: a saved regression input still fails (tests/fuzz/regress/$t/)"
			grep -E 'Running:|ERROR|SUMMARY|runtime error|FUZZ FINDING' "$log" | head -n 20 | sed 's/^/    | /'
			failed=$((failed + 1))
			continue
		fi
		echo "    $t: $(echo "$regress" | wc -l) regression input(s) clean"
	fi

	start=$(date +%s)
	# shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
	FUZZ_TMPDIR=$tmp/scratch-$t "$bin" -max_total_time="$secs" -close_fd_mask=2 \
		-artifact_prefix="$art/" -print_final_stats=1 ${FUZZ_ARGS:-} \
		"$tmp/corpus/$t" >"$log" 2>&1
	rc=$?
	took=$(($(date +%s) - start))
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
	if [ "$rc" -eq 0 ]; then
		echo "PASS: $t: ${runs:-?} inputs in ${took}s from $seeds seeds, ${cov:-cov: ?}, no finding"
	else
		echo "FAIL: $t: exit status $rc after ${took}s; input saved in $art/"
		grep -E -A12 'ERROR: |runtime error|FUZZ FINDING|deadly signal' "$log" | head -n 40 | sed 's/^/    | /'
		ls -t "$art" 2>/dev/null | head -n 3 | sed "s|^|    saved: $art/|"
		failed=$((failed + 1))
	fi
done
[ "$failed" -eq 0 ]
