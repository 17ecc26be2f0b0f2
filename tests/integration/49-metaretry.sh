#!/usr/bin/env bash
# A metadata write that fails is tried again: a rename whose slot write
# gets EIO (strace's fault injection, the first pwrite of each thread) has
# still taken effect in the mount, so the housekeeping writes it again
# until it holds, and the rename survives a remount. Before, the mount
# undid it silently: a move into keep/ lost that way is a recording
# deleted after 30 minutes instead of 30 days.
. "$(dirname "$0")/lib.sh"

command -v strace >/dev/null || bail "environment: strace is not installed (make deps)"
setup audit.enabled=off
need_mount -s # one FUSE thread: its first pwrite is the rename's
printf 'recorded audio\n' >"$MNT/a.raw"
mkdir "$MNT/calls"
sleep 1.2 # the housekeeping writes the folders first
strace_daemon "slot writes fail once per thread" -e trace=pwrite64 \
	-e inject=pwrite64:error=EIO:when=1
check "the rename succeeds" mv "$MNT/a.raw" "$MNT/calls/b.raw"
check "the log says the metadata write failed" \
	grep -q "metadata write failed: Input/output error; trying again" "$LOG"
wait_for "the housekeeping wrote it after all" 10 \
	grep -q "metadata written after all" "$LOG"
kill_pid "$STRACE_PID"
umount_fs
check_not "no changes reported lost at unmount" grep -q "changes are lost" "$LOG"

need_mount
check_eq "after a remount: the file is where it was moved" "recorded audio" \
	"$(cat "$MNT/calls/b.raw" 2>&1)"
check_not "after a remount: not back at its old name" exists "$MNT/a.raw"
umount_fs

# A file removed while open is marked orphan in its metadata, so that a
# crash before its last close does not bring it back. That write fails
# too, and must be retried although the file is out of the tree.
need_mount -s
printf 'erased while open\n' >"$MNT/c.raw"
sleep 1.2
exec 7>>"$MNT/c.raw"
strace_daemon "orphan mark fails once per thread" -e trace=pwrite64 \
	-e inject=pwrite64:error=EIO:when=1
check "rm of an open file succeeds" rm "$MNT/c.raw"
wait_for "the orphan mark is written after all" 10 \
	grep -q "metadata written after all" "$LOG"
kill_pid "$STRACE_PID"
crash_fs
exec 7>&-
need_mount
check_not "after a crash: the erased file is not back" exists "$MNT/c.raw"
umount_fs
