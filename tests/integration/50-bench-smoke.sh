#!/usr/bin/env bash
# The benchmark's smoke version (BENCH_QUICK=1): every workload once, tiny
# sizes, on a plain folder and recfs (and pbx-max on a second recfs with the
# audit trail off), every byte verified. Correctness only: no timing is
# asserted. `make bench` is the real run (docs/performance.md).
#
# Beyond run.sh's exit status, its results must show that every part ran:
# the audit-off recfs, both audit trails checked, the expiry with every file
# held open and then gone (none early, none left), and the real-time
# writers' frames attributed to the phases, adding up to the whole run.
. "$(dirname "$0")/lib.sh"

case $BUILD in
*-san)
	ok "bench smoke: run once per suite, with the normal build"
	exit 0
	;;
esac
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /tmp/recfs-test.XXXXXX) || bail "mktemp"
out=$(cd "$ROOT" && BENCH_QUICK=1 BUILD="$BUILD" BENCH_OUT="$WORK/out" timeout 600 bash tests/bench/run.sh 2>&1)
rc=$?
if [ "$rc" -eq 0 ]; then
	ok "bench smoke: every workload ran and verified"
else
	fail "bench smoke: every workload ran and verified" "exit $rc"
	show "$(tail -n 30 <<<"$out")"
fi
res=$WORK/out/results.txt
[ -r "$res" ] || bail "bench smoke: no $res"

# val WL KEY: KEY's value in the first result line of recfs workload WL.
val() {
	awk -v wl="$2" -v key="$3" '$1 == "fs=recfs" && $3 == "wl=" wl {
		for (i = 4; i <= NF; i++) if (index($i, key "=") == 1) { print substr($i, length(key) + 2); exit }
	}' "$1"
}
# has WL: a recfs result line of WL that verified.
has() { grep -q "^fs=recfs rep=[0-9]* wl=$1 .*verify=ok" "$res"; }

if has pbx-max && has pbx-max-noaudit; then
	ok "bench smoke: pbx-max ran on recfs with the audit trail on and off"
else
	fail "bench smoke: pbx-max ran on recfs with the audit trail on and off"
fi
on=$(val "$res" audit-on audit_records)
off=$(val "$res" audit-off audit_records)
if [ -n "$on" ] && [ "$on" -gt 0 ] && [ "$off" = 0 ]; then
	ok "bench smoke: audit trails intact, $on records with it on, none with it off"
else
	fail "bench smoke: audit trails intact, records with it on, none with it off" "on '$on' off '$off'"
fi

files=$(val "$res" expire files)
if has expire && [ -n "$files" ] && [ "$(val "$res" expire created)" = "$files" ] &&
	[ "$(val "$res" expire verified_open)" = "$files" ] &&
	[ "$(val "$res" expire gone)" = "$files" ] && [ "$(val "$res" expire early)" = 0 ] &&
	[ "$(val "$res" expire never)" = 0 ] && [ "$(val "$res" expire errors)" = 0 ]; then
	ok "bench smoke: expiry: $files files held open, checked, closed at once, all gone, none early"
else
	fail "bench smoke: expiry: files held open, checked, closed at once, all gone, none early" \
		"$(grep -m1 ' wl=expire ' "$res")"
fi

# The phases cover the writers' whole run, each frame once.
sum_ok=1
for k in frames late; do
	whole=$(val "$res" expire-rt "$k")
	parts=0
	for w in expiry setup rest; do
		v=$(val "$res" "expire-rt-$w" "$k")
		[ -n "$v" ] || { sum_ok=0; continue; }
		parts=$((parts + v))
	done
	outside=$(val "$res" expire-rt-outside "$k")
	inwin=$(val "$res" expire-rt-expiry "$k")
	[ -n "$whole" ] && [ "$parts" = "$whole" ] && [ -n "$outside" ] &&
		[ $((outside + inwin)) = "$whole" ] || sum_ok=0
done
if [ "$sum_ok" = 1 ] && [ "$(val "$res" expire-rt frames)" -gt 0 ]; then
	ok "bench smoke: the writers' frames during the expiry run add up over its phases"
else
	fail "bench smoke: the writers' frames during the expiry run add up over its phases" \
		"$(grep ' wl=expire-rt' "$res" | cut -c1-160)"
fi
