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
#   the cache), then ftruncate up on the same handle.
# Then a grow whose ftruncate fails, with the daemon killed after it.
# 42-crash kills at random moments; this one at every point of these paths.
. "$(dirname "$0")/lib.sh"

command -v strace >/dev/null || bail "environment: strace is not installed (make deps)"
setup audit.enabled=off
A=$(head -c 100 /dev/zero | tr '\0' a)
B=$(head -c $((3 * OBJ_BLOCK - 100)) /dev/zero | tr '\0' b)
C=$(head -c $((OBJ_BLOCK - 100)) /dev/zero | tr '\0' c)

# prepare: mount with one FUSE thread (strace counts calls per thread, so
# the Nth call of an operation is the same point in every run) and make
# rec.raw: 100 bytes, fsynced.
prepare() {
	need_mount -s
	rm -f "$MNT/rec.raw" "$MNT/new.raw"
	"$TESTBIN/fsop" seq "$MNT/rec.raw" o:wronly,creat:0644 w:0:"$A" y c >/dev/null
	# Let the housekeeping pass write the folder first: its writes would
	# count too.
	sleep 1.2
}

# after_crash WHAT: restart the killed daemon and check rec.raw and the log.
after_crash() {
	local out
	crash_fs
	need_mount
	out=$(head -c 100 "$MNT/rec.raw" 2>&1)
	check_eq "$1: the fsynced bytes read back" "$A" "$out"
	check "$1: the whole file reads" dd if="$MNT/rec.raw" of=/dev/null status=none
	check_not "$1: no object reported damaged" grep -q "damaged" "$LOG"
	umount_fs
}

# point OP CALL N: prepare, kill before the Nth CALL of OP, restart, check.
# Returns 1 when OP finished without reaching that call (no more points).
point() {
	local op=$1 call=$2 n=$3 what="$1: killed before $2 #$3"
	prepare
	strace_daemon "$what" -e trace="$call" \
		-e inject="$call":error=EINTR:signal=KILL:when="$n"
	case $op in
	grow) truncate -s 9000 "$MNT/rec.raw" 2>/dev/null ;;
	span) "$TESTBIN/fsop" seq "$MNT/rec.raw" o:wronly w:100:"$B" z:300 c >/dev/null 2>&1 ;;
	create) echo new >"$MNT/new.raw" 2>/dev/null ;;
	# the last block filled to its end in the cache, then a grow
	fullgrow) "$TESTBIN/fsop" seq "$MNT/rec.raw" o:wronly w:100:"$C" t:9000 z:300 c \
		>/dev/null 2>&1 ;;
	esac
	sleep 0.3
	kill_pid "$STRACE_PID" # when the daemon was killed, it ended with it
	if is_recfs "$RECFS_PID"; then
		umount_fs # the operation is over and the daemon lives: no such point
		return 1
	fi
	after_crash "$what"
}

for op in grow span create fullgrow; do
	for call in pwrite64 ftruncate; do
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
