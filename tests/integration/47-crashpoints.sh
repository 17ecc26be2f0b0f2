#!/usr/bin/env bash
# Crash points: the daemon is killed inside an operation, before each of its
# pwrite and ftruncate calls in turn (strace's fault injection: SIGKILL on
# entry to the Nth such call, which then never runs). After the restart no
# object may be reported damaged, the file must read without an error, and
# the 100 bytes an fsync had made durable must read back. Operations:
# - grow: truncate up over a partial last block;
# - span: a write from inside the partial last block across whole blocks,
#   ending on a block boundary (the handle stays open);
# - create: a new file (the object's header, then its first slot);
# - fullgrow: a write that fills the partial last block to its end (held in
#   the cache), then ftruncate up on the same handle;
# - shrink: truncate of a fsynced 10 000-byte file to 5 000, inside a block:
#   it must come back at its old length, cut after a whole block, or cut
#   to 5 000, with every byte below the length as written (also fchmod,
#   which marks the window where the last block is resealed short).
# Then a grow whose ftruncate fails, with the daemon killed after it.
# 42-crash kills at random moments; this one at every point of these paths.
. "$(dirname "$0")/lib.sh"

command -v strace >/dev/null || bail "environment: strace is not installed (make deps)"
setup audit.enabled=off
A=$(head -c 100 /dev/zero | tr '\0' a)
B=$(head -c $((3 * OBJ_BLOCK - 100)) /dev/zero | tr '\0' b)
C=$(head -c $((OBJ_BLOCK - 100)) /dev/zero | tr '\0' c)
D=$(head -c 9900 /dev/zero | tr '\0' d)
printf '%s%s' "$A" "$D" >"$WORK/shrink.ref"

# prepare [STEP...]: mount with one FUSE thread (strace counts calls per
# thread, so the Nth call of an operation is the same point in every run)
# and make rec.raw: 100 bytes and any further fsop steps, fsynced.
prepare() {
	need_mount -s
	rm -f "$MNT/rec.raw" "$MNT/new.raw"
	"$TESTBIN/fsop" seq "$MNT/rec.raw" o:wronly,creat:0644 w:0:"$A" "$@" y c >/dev/null
	# Let the housekeeping pass write the folder first: its writes would
	# count too.
	sleep 1.2
}

# after_crash WHAT [CHECK]: restart the killed daemon and check rec.raw and
# the log, and run CHECK WHAT on the mount.
after_crash() {
	local out
	crash_fs
	need_mount
	out=$(head -c 100 "$MNT/rec.raw" 2>&1)
	check_eq "$1: the fsynced bytes read back" "$A" "$out"
	check "$1: the whole file reads" dd if="$MNT/rec.raw" of=/dev/null status=none
	check_not "$1: no object reported damaged" grep -q "damaged" "$LOG"
	[ -z "${2:-}" ] || "$2" "$1"
	umount_fs
}

# shrunk WHAT: rec.raw after a truncate to 5000 that a kill cut short.
shrunk() {
	local size
	size=$(stat -c %s "$MNT/rec.raw")
	check "$1: length $size is 10000, $((2 * OBJ_BLOCK)) or 5000" \
		grep -qxE "10000|$((2 * OBJ_BLOCK))|5000" <<<"$size"
	check "$1: the bytes below the length are as written" \
		cmp -n "$size" "$WORK/shrink.ref" "$MNT/rec.raw"
	check_not "$1: no object keeps the cut mark" \
		grep -q . <(find "$STORE/objects" -type f -perm -u+x)
	# Killed with the block resealed short and the file not yet cut.
	case $1 in *"ftruncate #2") check "$1: the mount finished the cut" \
		grep -q "finished a truncate" "$LOG" ;;
	esac
}

# point OP CALL N: prepare, kill before the Nth CALL of OP, restart, check.
# Returns 1 when OP finished without reaching that call (no more points).
point() {
	local op=$1 call=$2 n=$3 what="$1: killed before $2 #$3" check=
	if [ "$op" = shrink ]; then
		prepare w:100:"$D"
		check=shrunk
	else
		prepare
	fi
	strace_daemon "$what" -e trace="$call" \
		-e inject="$call":error=EINTR:signal=KILL:when="$n"
	case $op in
	grow) truncate -s 9000 "$MNT/rec.raw" 2>/dev/null ;;
	span) "$TESTBIN/fsop" seq "$MNT/rec.raw" o:wronly w:100:"$B" z:300 c >/dev/null 2>&1 ;;
	create) echo new >"$MNT/new.raw" 2>/dev/null ;;
	# the last block filled to its end in the cache, then a grow
	fullgrow) "$TESTBIN/fsop" seq "$MNT/rec.raw" o:wronly w:100:"$C" t:9000 z:300 c \
		>/dev/null 2>&1 ;;
	shrink) truncate -s 5000 "$MNT/rec.raw" 2>/dev/null ;;
	esac
	sleep 0.3
	kill_pid "$STRACE_PID" # when the daemon was killed, it ended with it
	if is_recfs "$RECFS_PID"; then
		umount_fs # the operation is over and the daemon lives: no such point
		return 1
	fi
	after_crash "$what" $check
}

for op in grow span create fullgrow shrink; do
	calls="pwrite64 ftruncate"
	[ "$op" = shrink ] && calls="$calls fchmod"
	for call in $calls; do
		for n in 1 2 3 4 5 6; do
			point "$op" "$call" "$n" || break
		done
		say "$op: $((n - 1)) crash point(s) before $call"
	done
done

# A grow whose ftruncate fails (EFBIG, injected): the old last block was
# already written whole, and the undo cuts the file back. The block must
# read at its old length even when the daemon dies before any later flush
# (the handle stays open).
prepare
strace_daemon "failed grow" -e trace=ftruncate -e inject=ftruncate:error=EFBIG:when=1
"$TESTBIN/fsop" seq "$MNT/rec.raw" o:wronly t:9000 z:3000 c >"$WORK/fsop.out" 2>&1 &
FP=$!
sleep 1
kill_pid "$STRACE_PID"
crash_fs
wait "$FP"
check "failed grow: the truncate got EFBIG" grep -q EFBIG "$WORK/fsop.out"
after_crash "failed grow, then killed"

# A shrink whose final cut fails (EIO, injected): the truncate fails, and
# the block resealed short is written back at its old length at once, so
# the file reads whole at the length of the first cut, before and after a
# remount.
prepare w:100:"$D"
strace_daemon "failed shrink" -e trace=ftruncate -e inject=ftruncate:error=EIO:when=2
check_not "failed shrink: the truncate fails" truncate -s 5000 "$MNT/rec.raw"
kill_pid "$STRACE_PID"
check_eq "failed shrink: the length is the first cut's" $((2 * OBJ_BLOCK)) \
	"$(stat -c %s "$MNT/rec.raw")"
check "failed shrink: the bytes read as written" \
	cmp -n $((2 * OBJ_BLOCK)) "$WORK/shrink.ref" "$MNT/rec.raw"
umount_fs
need_mount
check "failed shrink, after a remount: the bytes read as written" \
	cmp -n $((2 * OBJ_BLOCK)) "$WORK/shrink.ref" "$MNT/rec.raw"
check_eq "failed shrink, after a remount: the length" $((2 * OBJ_BLOCK)) \
	"$(stat -c %s "$MNT/rec.raw")"
check_not "failed shrink: no object reported damaged" grep -q "damaged\|does not authenticate" "$LOG"
umount_fs
