#!/usr/bin/env bash
# Catch-up with short = 3 s: what fell due while unmounted is gone before
# the mount serves anything; `recctl reap` does the same offline and
# refuses while mounted; after kill -9 a file that was never closed counts
# from its last write and everything else is intact.
. "$(dirname "$0")/lib.sh"

SHORT=3000
setup retention.short=3s retention.keep=1h
need_mount
M=$MNT

# --- unmount past a deadline, remount
echo old >"$M/old.wav"
echo old2 >"$M/old2.wav"
t1=$(now_ms)
echo kept >"$M/keep/kept.wav"
umount_fs
n0=$(objects)
sleep_until $((t1 + SHORT + 500))
need_mount
# the very first request after the mount
expect_errno "overdue file gone before the first request" ENOENT stat "$M/old.wav"
check_eq "overdue files gone from the listing" "keep" "$(ls -A "$M" | xargs)"
# shredded before serving; the files themselves may be unlinked a moment later
wait_for "overdue objects destroyed at mount" 10 objects_are $((n0 - 2)) &&
	ok "overdue objects destroyed at mount"
check_eq "kept file still there" kept "$(cat "$M/keep/kept.wav")"

# --- recctl reap: refuses while mounted, works offline
echo r1 >"$M/r1.wav"
echo r2 >"$M/r2.wav"
t2=$(now_ms)
n1=$(objects)
out=$("$RECCTL" reap --config "$CONF" 2>&1)
rc=$?
[ "$rc" -ne 0 ] && ok "reap refuses while mounted (exit $rc)" || fail "reap refuses while mounted" "exit 0"
check "reap while mounted: says why" test -n "$out"
say "recctl reap while mounted said: $out"
check_eq "reap while mounted: no object touched" "$n1" "$(objects)"
check_eq "reap while mounted: the mount still serves" r1 "$(cat "$M/r1.wav")"
umount_fs
sleep_until $((t2 + SHORT + 500))
n2=$(objects)
check "recctl reap offline" "$RECCTL" reap --config "$CONF"
check_eq "reap removed the two overdue objects" $((n2 - 2)) "$(objects)"
check "reap again: nothing to do, exit 0" "$RECCTL" reap --config "$CONF"
check_eq "reap again: nothing removed" $((n2 - 2)) "$(objects)"
need_mount
check_eq "after reap: only keep/ in the root" "keep" "$(ls -A "$M" | xargs)"
check_eq "after reap: kept file intact" kept "$(cat "$M/keep/kept.wav")"

# --- kill -9 while a file is open for writing
echo closed-before >"$M/z.wav"
mkdir -p "$M/2026/11/28"
"$TESTBIN/recwriter" -n 100 -S 41 "$REF/intact.wav"
"$TESTBIN/recwriter" -n 100 -S 41 "$M/2026/11/28/intact.wav"
# one write and fsync (so the data is in the store, not just the page
# cache), then the handle stays open. The binary, not the fsop function:
# $! must be fsop itself, or the kill below misses it (it slept on 10 min).
"$TESTBIN/fsop" seq "$M/open.wav" o:wronly,creat:0644 W:never-closed y z:600000 >/dev/null &
hold_pid=$!
wait_for "the writer has written" 5 test -s "$M/open.wav"
sleep 0.2 # the fsync
tw=$(stat -c %.3Y "$M/open.wav" | tr -d .) # the last write, ms
sleep 0.5
crash_fs
kill "$hold_pid" 2>/dev/null
wait "$hold_pid" 2>/dev/null
need_mount
check_eq "after kill -9: the never-closed file is there" never-closed "$(cat "$M/open.wav")"
check_eq "after kill -9: it is no longer recording" closed "$(xget "$M/open.wav" user.recfs.state)"
check "after kill -9: a recording is intact" cmp "$M/2026/11/28/intact.wav" "$REF/intact.wav"
check_eq "after kill -9: kept file intact" kept "$(cat "$M/keep/kept.wav")"
expect_expiry "after kill -9: the never-closed file expires short after its last write" \
	"$M/open.wav" $((tw + SHORT))
umount_fs
