#!/usr/bin/env bash
# Crash consistency: kill -9 of the daemon at a random moment while 8-32
# recorders write 320-byte frames (fsync every few frames) and an operator
# moves files into keep/ (tests/tools/crashwriter.c); then, on the store
# exactly as the crash left it, `recctl verify` (every object's metadata
# and every block authenticates, seals hold), and after the restart:
# no file whose creation returned is missing, every fsynced (or closed)
# frame reads back exactly, every other frame is exact or zeros, never
# garbage. The last round runs with short = 3 s and restarts after every
# unkept file is overdue: none may be visible after the mount.
#
# Accepted after a kill: frames not yet fsynced may be missing (shorter
# file) or zeros (a hole the kernel had not written back). No read may fail:
# a block lies in one page, so the kill cannot tear a rewrite of the last
# block and lose what an fsync had made durable (docs/format.md). Everything
# else is a failure.
#
# Then a torn metadata slot and a torn block, made by hand in a stopped
# store: one garbled slot leaves a valid version, two make the object
# damaged and left out while the others serve; an object cut inside its
# last block reads EIO there (or is shorter), never wrong bytes.
#
# CRASH_ROUNDS (default 10) rounds, 10 per store (each 10th round, and the
# last, is the short one; then a new store), but no new round starts after
# CRASH_SECS (default 90) seconds: the next one is then the last (slow
# sanitizer builds); CRASH_SEED (default: random) seeds the writer counts
# and kill times, printed for a rerun.
. "$(dirname "$0")/lib.sh"

ROUNDS=${CRASH_ROUNDS:-10}
BUDGET=${CRASH_SECS:-90}
SEED=${CRASH_SEED:-$((RANDOM * 32768 + RANDOM))}
CW=$TESTBIN/crashwriter
[ -x "$CW" ] || bail "environment: $CW is not built"
RANDOM=$SEED
say "CRASH_SEED=$SEED CRASH_ROUNDS=$ROUNDS"

setup retention.short=1h
BLOCK=10 # rounds per store; each block's last round is the short one

# new_store N: block N's store (block 1: setup's), its configs, its logs.
new_store() {
	local dir=$WORK
	if [ "$1" -gt 1 ]; then
		dir=$WORK/s$1
		make_store "$dir" retention.short=1h
	fi
	STORE=$dir/store
	KEY=$dir/key
	LONG_CONF=$dir/recfs.conf
	SHORT_CONF=$dir/short.conf
	write_conf "$SHORT_CONF" "$STORE" "$KEY" retention.short=3s
	LOGS=$dir/logs
	mkdir "$LOGS"
}

# verify_store NAME: recctl verify on the stopped store must exit 0.
verify_store() {
	local out rc
	out=$("$RECCTL" verify --config "$CONF" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ]; then
		ok "$1"
	else
		fail "$1" "recctl verify exit status $rc"
		show "$(grep -v '^checked' <<<"$out")"
	fi
}

# no_damage_logged NAME: the mount did not leave any object out.
no_damage_logged() {
	if grep -q 'is damaged' "$LOG"; then
		fail "$1" "the mount left objects out"
		show "$(grep 'is damaged' "$LOG")"
	else
		ok "$1"
	fi
}

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

t_start=$(now_ms)
for ((r = 1; r <= ROUNDS; r++)); do
	if [ "$r" -lt "$ROUNDS" ] && [ $(($(now_ms) - t_start)) -gt $((BUDGET * 1000)) ]; then
		say "time budget of $BUDGET s used up: round $r is the last"
		ROUNDS=$r
	fi
	tag=$(printf 'r%02d' "$r")
	[ $(((r - 1) % BLOCK)) -eq 0 ] && new_store $(((r - 1) / BLOCK + 1))
	# The short round ends a block (or the run): it expires everything
	# unkept in the store, so the next round starts a new one.
	short=0
	if [ "$r" -eq "$ROUNDS" ] || [ $((r % BLOCK)) -eq 0 ]; then
		[ $(((r - 1) % BLOCK)) -gt 0 ] && short=1
	fi
	CONF=$LONG_CONF
	[ "$short" -eq 1 ] && CONF=$SHORT_CONF
	need_mount
	writers=$((8 + RANDOM % 25))
	run_ms=$((800 + RANDOM % 3200))
	"$CW" run --dir "$MNT" --logs "$LOGS" --tag "$tag" --writers "$writers" \
		--seed "$((SEED + r))" --secs 60 >"$WORK/cw-$tag.out" 2>&1 &
	cw_pid=$!
	sleep "$((run_ms / 1000)).$(printf '%03d' $((run_ms % 1000)))"
	t_kill=$(now_ms)
	kill9_fs "round $r: the daemon is gone at kill -9" 2>/dev/null
	# The writers see the dead mount at their next call; they must stop.
	for ((i = 0; i < 100; i++)); do kill -0 "$cw_pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$cw_pid" 2>/dev/null; then
		fail "round $r: writers stop after the kill" "still running after 10 s"
		kill -KILL "$cw_pid" 2>/dev/null
	fi
	wait "$cw_pid" 2>/dev/null
	if [ -s "$WORK/cw-$tag.out" ]; then
		fail "round $r: crashwriter run" "it complained"
		show "$(cat "$WORK/cw-$tag.out")"
	fi
	durable=$(cat "$LOGS/$tag"-w*.log | grep -c '^[SD] ')
	created=$(cat "$LOGS/$tag"-w*.log | grep -c '^C ')
	kept=$(grep -c '^K ' "$LOGS/$tag-op.log")
	say "round $r$([ "$short" -eq 1 ] && echo ' (short = 3 s)'): $writers writers, kill -9 after $run_ms ms: $created files created, $kept moved into keep/, $durable fsyncs/closes returned"

	verify_store "round $r: after kill -9, every object's metadata and blocks authenticate (recctl verify)"
	# Short round: restart only once everything unkept is overdue (the
	# last write was before the kill).
	[ "$short" -eq 1 ] && sleep_until $((t_kill + 3000 + 700))
	need_mount
	extra=()
	[ "$short" -eq 1 ] && extra=(--short-expired)
	out=$("$CW" check --dir "$MNT" --logs "$LOGS" "${extra[@]}" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ]; then
		ok "round $r: every recording in the store: none lost, durable frames exact, no garbage"
	else
		fail "round $r: every recording in the store: none lost, durable frames exact, no garbage" \
			"crashwriter check exit status $rc"
		show "$out"
	fi
	say "$(tail -n 1 <<<"$out")"
	if [ "$short" -eq 1 ]; then
		check_eq "round $r: overdue files gone before serving: nothing outside keep/" "" \
			"$(find "$MNT" -path "$MNT/keep" -prune -o -type f -print | head -n 5)"
		if grep -q 'caught up: [1-9][0-9]* expired' "$LOG"; then
			ok "round $r: the mount reports the catch-up"
		else
			fail "round $r: the mount reports the catch-up" "$(grep 'caught up' "$LOG")"
		fi
	fi
	no_damage_logged "round $r: the restart found no damaged object"
	umount_fs
done
say "crash rounds: $ROUNDS in $((($(now_ms) - t_start) / 1000)) s (CRASH_SEED=$SEED)"

# ---------------------------------------------------------------- torn
# A store of its own, with files of distinct sizes, so each object file
# can be told by its length (the content size shows in it, docs/format.md).
CONF=$WORK/torn/recfs.conf
make_store "$WORK/torn"
TSTORE=$WORK/torn/store
need_mount
M=$MNT
"$CW" frames "$M/a.wav" 90 1 31    #  9920 bytes
"$CW" frames "$M/b.wav" 90 2 37    # 11840
"$CW" frames "$M/c.wav" 90 3 45    # 14400: last block (3) 2232 bytes
"$CW" frames "$M/d.wav" 90 4 64    # 20480: 5 blocks and 200 bytes
"$CW" frames "$M/e.wav" 90 5 50    # 16000
chmod 0640 "$M/a.wav"               # a: slot B closed, slot A chmod ...
mv "$M/a.wav" "$M/a-renamed.wav"   # ... slot B rename: slot A holds the older version
umount_fs

# obj_of VAR SIZE: VAR = the one object file with that length.
obj_of() {
	local l found
	l=$(obj_len "$2")
	found=$(find "$TSTORE/objects" -type f -size "${l}c")
	if [ -z "$found" ] || [ "$(wc -l <<<"$found")" -ne 1 ]; then
		bail "torn: want one object of $l bytes, found: $found"
	fi
	printf -v "$1" '%s' "$found"
}
obj_of oa 9920
obj_of ob 11840
obj_of oc 14400
obj_of od_ 20480
obj_of oe 16000
garble() { dd if=/dev/urandom of="$1" bs=1 seek="$2" count="$3" conv=notrunc status=none; }
SLOT_A=$OBJ_PAGE SLOT_B=$((2 * OBJ_PAGE))
garble "$oa" $SLOT_B $OBJ_PAGE           # a: slot B (the newest)
garble "$oe" $SLOT_A $OBJ_PAGE           # e: slot A (the older one)
garble "$ob" $SLOT_A $OBJ_PAGE           # b: both slots
garble "$ob" $SLOT_B $OBJ_PAGE
ob_sum=$(sha256sum <"$ob")
truncate -s $(($(obj_len 14400) - 1000)) "$oc" # c: cut inside its last block (3)
truncate -s $((OBJ_DATA_OFF + 4 * OBJ_PAGE + 30)) "$od_" # d: only 30 bytes of block 4 left

need_mount
# a: one slot garbled -> an authentic version: the older name or the current.
names=$(cd "$M" && ls a.wav a-renamed.wav 2>/dev/null | xargs)
case $names in
a.wav | a-renamed.wav)
	ok "torn slot (newest garbled): one valid version shows ($names)"
	out=$("$CW" scan "$M/$names" 90 1)
	check_eq "torn slot (newest garbled): content intact" "good 31 zero 0 partial 0 eio 0 bad 0" "$out"
	;;
*) fail "torn slot (newest garbled): one valid version shows" "found '$names'" ;;
esac
check_eq "torn slot (older garbled): the file shows, intact" "good 50 zero 0 partial 0 eio 0 bad 0" \
	"$("$CW" scan "$M/e.wav" 90 5 2>&1)"
# b: both slots garbled -> damaged, left out, left alone
check "both slots garbled: the file is left out" test ! -e "$M/b.wav"
hex=$(basename "$ob")
check "both slots garbled: the mount names the object as damaged" \
	grep -q "object $hex is damaged" "$LOG"
check_eq "both slots garbled: the object file is left as it was" "$ob_sum" "$(sha256sum <"$ob")"
check_eq "both slots garbled: the others are served" "c.wav d.wav e.wav" \
	"$(ls "$M" | grep -E '^[cde][.]wav$' | xargs)"
# c: cut inside the last block -> EIO there, the blocks before intact.
# A read that starts in an intact block and runs into the torn one must
# fail too: FUSE takes a short read for the end of the file and fills the
# rest of the page with zeros, so recfs may not answer with one.
check_eq "torn block: the size follows the cut file" 13400 "$(stat -c %s "$M/c.wav")"
# Through the page cache: the pages before the one holding the torn block's
# start read; the frame scan below reads block by block with O_DIRECT.
expect_errno "torn block: the pages before the torn block read" OK read "$M/c.wav" \
	0 $((3 * OBJ_BLOCK / OBJ_PAGE * OBJ_PAGE))
expect_errno "torn block: a read of the torn block alone gives EIO" EIO read "$M/c.wav" \
	$((3 * OBJ_BLOCK)) $((13400 - 3 * OBJ_BLOCK))
check_eq "torn block: frame scan after a read from the start: 38 intact, EIO, no zeros" \
	"good 38 zero 0 partial 0 eio 1 bad 0" "$("$CW" scan "$M/c.wav" 90 3 2>&1)"
check_not "torn block: cat of the whole file fails (EIO) rather than return zeros" \
	sh -c 'cat "$1" >/dev/null' cat "$M/c.wav"
# d: what is left of the last block cannot hold data -> a shorter file
check_eq "torn tail of 30 bytes: the file ends with block 3" $((4 * OBJ_BLOCK)) "$(stat -c %s "$M/d.wav")"
check_eq "torn tail of 30 bytes: frame scan: all there intact, no error" \
	"good $((4 * OBJ_BLOCK / 320)) zero 0 partial 1 eio 0 bad 0" "$("$CW" scan "$M/d.wav" 90 4 2>&1)"
umount_fs
out=$("$RECCTL" verify --config "$CONF" 2>&1)
rc=$?
check_eq "recctl verify reports the damage (exit 1)" 1 "$rc"
check_eq "recctl verify: the damaged object and the torn block, nothing else" \
	"1 object(s)|/c.wav" \
	"$(grep -o '[0-9]* object(s)' <<<"$out")|$(grep '^damaged  /' <<<"$out" | awk '{print $2}' | xargs)"
