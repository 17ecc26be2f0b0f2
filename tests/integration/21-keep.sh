#!/usr/bin/env bash
# keep/ with short = 3 s, keep = 10 s: keep during recording (the writer
# goes on), sealing (EPERM for writes and truncation, sha256 shown), keep
# then unkeep (short counted from the move), a folder moved into keep/,
# renames inside a class change nothing, kept files expire after `keep`.
. "$(dirname "$0")/lib.sh"

SHORT=3000
KEEP=10000
setup retention.short=3s retention.keep=10s
need_mount
M=$MNT
RW=$TESTBIN/recwriter
mkdir -p "$M/2026/11/28"

# --- keep during recording: 150 frames over ~3 s, moved after the first
"$RW" -p 4 -p 40 -n 150 -S 31 "$REF/call.wav"
# The writer's exit status and the moment it ended go to files: the test
# is busy elsewhere when that happens.
(
	"$RW" -s 20 -p 4 -p 40 -n 150 -S 31 "$M/2026/11/28/call.wav" 2>"$WORK/rw.err"
	echo $? >"$WORK/rw.rc"
	now_ms >"$WORK/rw.end"
) &
rw_pid=$!
wait_for "recording has begun" 5 test -s "$M/2026/11/28/call.wav"
check_eq "before the move: retention short" short "$(xget "$M/2026/11/28/call.wav" user.recfs.retention)"
check_eq "before the move: state recording" recording "$(xget "$M/2026/11/28/call.wav" user.recfs.state)"
check "keep during recording: mv into keep/" mv "$M/2026/11/28/call.wav" "$M/keep/"
check_eq "moved while recording: retention keep" keep "$(xget "$M/keep/call.wav" user.recfs.retention)"
check_eq "moved while recording: still recording" recording "$(xget "$M/keep/call.wav" user.recfs.state)"

# --- meanwhile: keep then unkeep, and a folder moved into keep/
echo "unkeep me" >"$M/u.wav"
tu=$(now_ms)
check "keep a closed file: mv into keep/" mv "$M/u.wav" "$M/keep/u.wav"
check_eq "kept file: retention keep" keep "$(xget "$M/keep/u.wav" user.recfs.retention)"
if ems=$(iso_ms "$(xget "$M/keep/u.wav" user.recfs.expires)"); then
	check_range "kept file: expires = end of recording + keep" \
		$((tu + KEEP - 1500)) $((tu + KEEP + 1500)) "$ems"
else
	fail "kept file: expires is ISO-8601"
fi
mkdir "$M/case-42"
echo one >"$M/case-42/f1.wav"
echo two >"$M/case-42/f2.wav"
tf=$(now_ms)
check "mv a folder into keep/" mv "$M/case-42" "$M/keep/"
for n in f1 f2; do
	check_eq "folder moved into keep/: $n retention keep" keep "$(xget "$M/keep/case-42/$n.wav" user.recfs.retention)"
	wait_for "folder moved into keep/: $n sealed" 2 xattr_is "$M/keep/case-42/$n.wav" user.recfs.state sealed &&
		ok "folder moved into keep/: $n sealed"
done
check_eq "folder moved into keep/: sha256 of f1" "$(sha256sum <"$M/keep/case-42/f1.wav" | cut -d' ' -f1)" \
	"$(xget "$M/keep/case-42/f1.wav" user.recfs.sha256)"

# --- a sealed file can still be erased on request (done now: nothing
# else is due for the next 2 s, so the object count is stable)
echo erase-me >"$M/keep/erase.wav"
wait_for "erase: sealed" 2 xattr_is "$M/keep/erase.wav" user.recfs.state sealed
n=$(objects)
check "sealed file can be erased (rm)" rm "$M/keep/erase.wav"
check "erased: gone" test ! -e "$M/keep/erase.wav"
# the object is shredded at once; its file may be unlinked a moment later
wait_for "erased: its object is gone from the store" 10 objects_are $((n - 1)) &&
	ok "erased: its object is gone from the store"

# --- renames inside a class change nothing
echo r >"$M/r1.wav"
e1=$(xget "$M/r1.wav" user.recfs.expires)
mkdir "$M/elsewhere"
sleep 1.1
mv "$M/r1.wav" "$M/elsewhere/r2.wav"
check_eq "rename inside short: expires unchanged" "$e1" "$(xget "$M/elsewhere/r2.wav" user.recfs.expires)"
check_eq "rename inside short: retention short" short "$(xget "$M/elsewhere/r2.wav" user.recfs.retention)"

# --- the recording ends
wait "$rw_pid"
rc=$(cat "$WORK/rw.rc")
tclose=$(cat "$WORK/rw.end")
check_eq "the writer kept writing through its handle after the move" 0 "$rc"
[ "$rc" -eq 0 ] || show "$(cat "$WORK/rw.err")"
check "kept recording: content intact" cmp "$M/keep/call.wav" "$REF/call.wav"
wait_for "kept recording: sealed after the last writer closed" 2 \
	xattr_is "$M/keep/call.wav" user.recfs.state sealed && ok "kept recording: sealed after close"
sum=$(sha256sum <"$REF/call.wav" | cut -d' ' -f1)
check_eq "sealed: user.recfs.sha256 equals sha256sum" "$sum" "$(xget "$M/keep/call.wav" user.recfs.sha256)"
if ems=$(iso_ms "$(xget "$M/keep/call.wav" user.recfs.expires)"); then
	check_range "sealed: expires = end of recording + keep" \
		$((tclose + KEEP - 1500)) $((tclose + KEEP + 1500)) "$ems"
else
	fail "sealed: expires is ISO-8601"
fi

# --- sealed: content is read-only
S=$M/keep/call.wav
for how in "o:wronly W:x" "o:rdwr w:0:x" "o:wronly,append W:x" "o:rdwr t:10" "o:wronly,trunc"; do
	# shellcheck disable=SC2086 # the steps are words
	out=$(fsop seq "$S" $how)
	[[ $out == *EPERM* ]] && ok "sealed: $how gives EPERM" || fail "sealed: $how gives EPERM" "got '$out'"
done
expect_errno "sealed: truncate gives EPERM" EPERM truncate "$S" 0
check_not "sealed: shell append fails" bash -c "echo x >>'$S'"
check "sealed: content unchanged after the attempts" cmp "$S" "$REF/call.wav"
check_eq "sealed: sha256 unchanged" "$sum" "$(xget "$S" user.recfs.sha256)"
check_eq "sealed: state still sealed" sealed "$(xget "$S" user.recfs.state)"
mkdir "$M/keep/case-7"
e1=$(xget "$S" user.recfs.expires)
check "sealed: rename inside keep/" mv "$S" "$M/keep/case-7/call.wav"
S=$M/keep/case-7/call.wav
check_eq "rename inside keep: expires unchanged" "$e1" "$(xget "$S" user.recfs.expires)"
check_eq "rename inside keep: still sealed" sealed "$(xget "$S" user.recfs.state)"
check "sealed: readable" cmp "$S" "$REF/call.wav"

# --- unkeep: u.wav has been in keep/ past its short deadline
still_there "kept file survives its short deadline" "$M/keep/u.wav" $((tu + SHORT + SLACK_MS))
still_there "folder moved into keep/: survives the short deadline" "$M/keep/case-42/f1.wav" \
	$((tf + SHORT + SLACK_MS))
check "unkeep: mv out of keep/" mv "$M/keep/u.wav" "$M/u.wav"
tm=$(now_ms)
check_eq "unkept: retention short" short "$(xget "$M/u.wav" user.recfs.retention)"
if ems=$(iso_ms "$(xget "$M/u.wav" user.recfs.expires)"); then
	check_range "unkept: expires = move + short" $((tm + SHORT - 1500)) $((tm + SHORT + 1500)) "$ems"
else
	fail "unkept: expires is ISO-8601"
fi
check_eq "unkept: content" "unkeep me" "$(cat "$M/u.wav")"

expect_expiry \
	"unkept file vanishes short after the move" "$M/u.wav" $((tm + SHORT)) \
	"files of a folder moved into keep/ vanish after keep (f1)" "$M/keep/case-42/f1.wav" $((tf + KEEP)) \
	"files of a folder moved into keep/ vanish after keep (f2)" "$M/keep/case-42/f2.wav" $((tf + KEEP)) \
	"kept recording vanishes after keep" "$S" $((tclose + KEEP))
check "keep/ itself stays" test -d "$M/keep"

# --- a kept file whose content cannot be read (a block damaged on disk
# while it was being written): its close tries the seal once, logs it, and
# the daemon goes on (it used to retry without end and overflow its stack)
exec 3>"$M/keep/damaged.wav"
head -c 65537 /dev/urandom >&3
dmg=$(find "$STORE/objects" -type f -size "$(obj_len 65537)c")
if [ -n "$dmg" ] && [ "$(wc -l <<<"$dmg")" -eq 1 ]; then
	flip_byte "$dmg" $((OBJ_DATA_OFF + 100))
	exec 3>&-
	sleep 0.5
	check "unsealable kept file closed: the daemon serves" test -d "$M/keep"
	check_eq "unsealable kept file: one 'cannot seal' line in the log" 1 \
		"$(grep -c "$(basename "$dmg"): cannot seal" "$LOG")"
	check_eq "unsealable kept file: not sealed" closed "$(xget "$M/keep/damaged.wav" user.recfs.state)"
else
	exec 3>&-
	fail "unsealable kept file: its object found by its size" "found: $dmg"
fi
rm -f "$M/keep/damaged.wav"

# --- a kept file removed while its seal (after the mv) still runs: the
# object is destroyed at once, and no object file stays open in the daemon
big_obj() { find "$STORE/objects" -type f -size "$(obj_len $((64 << 20)))c"; }
head -c 64M /dev/zero >"$M/big.wav"
big=$(big_obj)
mv "$M/big.wav" "$M/keep/big.wav" && rm "$M/keep/big.wav"
wait_for "removed during its seal: the object is destroyed" 5 test ! -e "${big:-/}"
head -c 64M /dev/zero >"$M/big2.wav"
exec 3<"$M/big2.wav"
mv "$M/big2.wav" "$M/keep/big2.wav"
exec 3<&-
wait_for "closed during its seal: then sealed" 10 \
	xattr_is "$M/keep/big2.wav" user.recfs.state sealed
big2=$(big_obj)
check_eq "closed during its seal: no fd of the daemon on its object" 0 \
	"$(find "/proc/$RECFS_PID/fd" -lname "*$(basename "${big2:-none}")" | wc -l)"
rm "$M/keep/big2.wav"

# --- a move into keep/ is on disk when mv returns: the daemon killed right
# after it, the file is still kept after the next mount, and sealed (the
# seal follows the answer to the rename; a seal cut short by the crash is
# made by the mount)
printf 'evidence' >"$M/crash.wav"
sum=$(sha256sum <"$M/crash.wav" | cut -d' ' -f1)
check "crash after keep: mv into keep/" mv "$M/crash.wav" "$M/keep/crash.wav"
crash_fs
need_mount
M=$MNT
check_eq "crash after keep: retention keep after the remount" keep \
	"$(xget "$M/keep/crash.wav" user.recfs.retention)"
check_eq "crash after keep: still sealed" sealed "$(xget "$M/keep/crash.wav" user.recfs.state)"
check_eq "crash after keep: sha256 of the content" "$sum" "$(xget "$M/keep/crash.wav" user.recfs.sha256)"
check "crash after keep: not in its old place" test ! -e "$M/crash.wav"
