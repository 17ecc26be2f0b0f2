#!/usr/bin/env bash
# Random-operation model checking (tests/tools/fsx.c): seeded mixes of
# create, write, read, truncate, rename (into and out of keep/), unlink,
# fsync, close and reopen, every read and size checked against a model.
# The phases run one after the other on the same files, with an unmount
# and remount between them; phases 2, 6, 10, ... end with kill -9 of the
# daemon while fsx holds its files open (everything fsynced), and the next
# phase starts by checking that all of it survived. At the end: a remount, a full check
# and `recctl verify`.
#
# MODEL_SEEDS (default 4) phases of MODEL_OPS (default 20000) operations,
# each cut short after MODEL_SECS (default 20) seconds so that slow builds
# (ASan) stay within the time budget, over MODEL_FILES (default 8) files;
# MODEL_SEED0 (default 1) is the first seed. fsx prints how many ops each
# phase ran. `make stress` raises them.
. "$(dirname "$0")/lib.sh"

SEEDS=${MODEL_SEEDS:-4}
OPS=${MODEL_OPS:-20000}
SECS=${MODEL_SECS:-20}
FILES=${MODEL_FILES:-8}
SEED0=${MODEL_SEED0:-1}
# Extra fsx flags (e.g. --no-otrunc, should O_TRUNC on open break again:
# the first checks below show it, and the flag lets the model go on).
FSX_FLAGS=${MODEL_FSX_FLAGS:-}
[ -x "$TESTBIN/fsx" ] || bail "environment: $TESTBIN/fsx is not built"

setup retention.short=1h
need_mount
M=$MNT
STATE=$WORK/fsx.state

# --- open(O_TRUNC) of an existing file must empty it. The kernel hands
# O_TRUNC to recfs with the OPEN (FUSE_ATOMIC_O_TRUNC is negotiated), so
# recfs must truncate there; ext4 gives zeros for the old bytes.
printf 'hello world' >"$M/otrunc"
fsop seq "$M/otrunc" o:rdwr,trunc w:8192:Z c >/dev/null
check_eq "O_TRUNC then a write at 8192: the old bytes read as zeros" \
	"0000000000000000000000" "$(head -c 11 "$M/otrunc" | od -An -tx1 | tr -d ' \n')"
printf 'hello world' >"$M/otrunc2"
printf 'XY' >"$M/otrunc2"
umount_fs
need_mount
check_eq "O_TRUNC by a shell redirect: after a remount only the new bytes" \
	"XY" "$(cat "$M/otrunc2")"
rm -f "$M/otrunc" "$M/otrunc2"

# live_threads PID: how many threads of PID are not zombies.
live_threads() {
	local t n=0
	for t in /proc/"$1"/task/*/stat; do
		[ -r "$t" ] || continue
		[ "$(sed 's/.*) //' "$t" 2>/dev/null | cut -d' ' -f1)" == Z ] || n=$((n + 1))
	done
	echo "$n"
}

# kill9_fs NAME: kill -9 the daemon (by PID) and clear the dead mount, as
# lib.sh's crash_fs does; PASS when the daemon is gone within 5 s. A
# daemon thread can stay in the kernel (D state) waiting for a writeback
# that only the dead daemon could serve, which holds /dev/fuse open and
# hangs the mount and every writer for good: then FAIL with the thread's
# kernel stack, and abort the connection with umount -f (FUSE's
# umount_begin) so that the test can go on and clean up.
kill9_fs() {
	local name=$1 pid=$RECFS_PID mnt=$RECFS_MNT i t stacks=
	RECFS_PID=
	[ -n "$pid" ] || return 0
	is_recfs "$pid" && kill -KILL "$pid"
	for ((i = 0; i < 50; i++)); do
		[ "$(live_threads "$pid")" -eq 0 ] && break
		sleep 0.1
	done
	if [ "$(live_threads "$pid")" -gt 0 ]; then
		for t in /proc/"$pid"/task/*; do
			[ "$(sed 's/.*) //' "$t/stat" 2>/dev/null | cut -d' ' -f1)" == Z ] && continue
			stacks+="thread ${t##*/} ($(cat "$t/comm" 2>/dev/null)): $(sed 's/^\[<0>\] //; s/+0x.*//' "$t/stack" 2>/dev/null | head -n 8 | xargs)"$'\n'
		done
		fail "$name" "5 s after kill -9 the daemon still has live threads; aborting its FUSE connection"
		show "$stacks"
		umount -f "$mnt" 2>/dev/null
		for ((i = 0; i < 100; i++)); do
			[ "$(live_threads "$pid")" -eq 0 ] && break
			sleep 0.1
		done
	else
		ok "$name"
	fi
	wait "$pid" 2>/dev/null
	forget_pid "$pid"
	fusermount3 -u "$mnt" 2>/dev/null || fusermount3 -uz "$mnt" 2>/dev/null
}

# fsx_phase N SEED [--hold]: one fsx run; PASS/FAIL with its output.
fsx_phase() {
	local n=$1 seed=$2 out=$WORK/fsx-$1.out t0 rc
	shift 2
	t0=$(now_ms)
	"$TESTBIN/fsx" --dir "$M" --seed "$seed" --ops "$OPS" --files "$FILES" \
		--secs "$SECS" --state "$STATE" --bisect-secs 60 $FSX_FLAGS "$@" >"$out" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ]; then
		ok "phase $n: seed $seed matches the model"
		say "$(tail -n 1 "$out") [$((($(now_ms) - t0) / 1000)) s]"
	else
		fail "phase $n: seed $seed matches the model" "fsx exit status $rc"
		show "$(grep -v '^    #' "$out" | head -n 8)"
		sed -n '/^fsx: shortest failing prefix/,$p' "$out" | sed 's/^/    | /'
	fi
	return "$rc"
}

# fsx_hold_phase N SEED: a phase that ends with every writer fsynced and
# still open; then kill -9 of the daemon (and of fsx), as in a crash.
fsx_hold_phase() {
	local n=$1 seed=$2 out=$WORK/fsx-$1.out pid i
	"$TESTBIN/fsx" --dir "$M" --seed "$seed" --ops "$OPS" --files "$FILES" \
		--secs "$SECS" --state "$STATE" --bisect-secs 60 $FSX_FLAGS --hold >"$out" 2>&1 &
	pid=$!
	for ((i = 0; i < 6000; i++)); do
		grep -q '^HOLD$' "$out" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if grep -q '^HOLD$' "$out"; then
		ok "phase $n: seed $seed matches the model; files held open, all fsynced"
		say "$(grep '^fsx: seed' "$out")"
		kill9_fs "phase $n: the daemon is gone at kill -9" 2>/dev/null
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return 0
	fi
	kill -KILL "$pid" 2>/dev/null
	wait "$pid"
	fail "phase $n: seed $seed matches the model (hold)" "fsx ended without HOLD"
	show "$(grep -v '^    #' "$out" | head -n 8)"
	sed -n '/^fsx: shortest failing prefix/,$p' "$out" | sed 's/^/    | /'
	return 1
}

t_start=$(now_ms)
for ((p = 1; p <= SEEDS; p++)); do
	seed=$((SEED0 + p - 1))
	# Phases 2, 6, 10, ... end in a crash (never the last one).
	if [ $((p % 4)) -eq 2 ] && [ "$p" -lt "$SEEDS" ]; then
		fsx_hold_phase "$p" "$seed" || break
		need_mount
		say "phase $p ended in kill -9; remounted"
		continue
	fi
	fsx_phase "$p" "$seed" || break
	umount_fs
	need_mount
done
say "model phases: $SEEDS seeds, at most $OPS ops or $SECS s each, in $((($(now_ms) - t_start) / 1000)) s"

# --- after a last remount: every file, every name, and the store itself
if [ -f "$STATE" ]; then
	out=$("$TESTBIN/fsx" --dir "$M" --files "$FILES" --state "$STATE" --check 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ]; then ok "final remount: every file matches the model"; else
		fail "final remount: every file matches the model" "fsx exit status $rc"
		show "$out"
	fi
fi
umount_fs
out=$("$RECCTL" verify --config "$CONF" 2>&1)
rc=$?
if [ "$rc" -eq 0 ]; then ok "recctl verify: every object and block authenticates, seals hold"; else
	fail "recctl verify: every object and block authenticates, seals hold" "exit status $rc"
	show "$out"
fi
