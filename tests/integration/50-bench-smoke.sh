#!/usr/bin/env bash
# The benchmark's smoke version (BENCH_QUICK=1): every workload once, tiny
# sizes, on a plain folder and recfs, every byte verified. Correctness only:
# no timing is asserted. `make bench` is the real run (docs/performance.md).
. "$(dirname "$0")/lib.sh"

case $BUILD in
*-san)
	ok "bench smoke: run once per suite, with the normal build"
	exit 0
	;;
esac
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
out=$(cd "$ROOT" && BENCH_QUICK=1 BUILD="$BUILD" timeout 600 bash tests/bench/run.sh 2>&1)
rc=$?
if [ "$rc" -eq 0 ]; then
	ok "bench smoke: every workload ran and verified"
else
	fail "bench smoke: every workload ran and verified" "exit $rc"
	show "$(tail -n 30 <<<"$out")"
fi
