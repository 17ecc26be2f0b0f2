#!/usr/bin/env bash
# A store on a filesystem without fallocate: every fallocate of the daemon
# fails with EOPNOTSUPP (strace's fault injection). recfs must say once
# that it cannot reserve space, and go on: recordings, a truncate up and
# down and a rename into keep/ work and read back, also after a remount.
. "$(dirname "$0")/lib.sh"

command -v strace >/dev/null || bail "environment: strace is not installed (make deps)"
RW=$TESTBIN/recwriter
[ -x "$RW" ] || bail "environment: $RW is not built"
setup
mkdir -p "$WORK/twin"
need_mount
strace_daemon "no fallocate" -e trace=fallocate -e inject=fallocate:error=EOPNOTSUPP

check "a recording (500 frames, header patched)" "$RW" -p 4 -p 40 -n 500 "$MNT/a.wav"
"$RW" -p 4 -p 40 -n 500 "$WORK/twin/a.wav"
check "a second recording, 32 KiB writes" "$RW" -c 32768 -n 20 -S 2 "$MNT/b.wav"
"$RW" -c 32768 -n 20 -S 2 "$WORK/twin/b.wav"
check "truncate up" truncate -s 100000 "$MNT/b.wav"
check "truncate down" truncate -s 50000 "$MNT/b.wav"
truncate -s 100000 "$WORK/twin/b.wav"
truncate -s 50000 "$WORK/twin/b.wav"
check "rename into keep/" mv "$MNT/a.wav" "$MNT/keep/a.wav"
check "a.wav reads back" cmp "$WORK/twin/a.wav" "$MNT/keep/a.wav"
check "b.wav reads back" cmp "$WORK/twin/b.wav" "$MNT/b.wav"
check_eq "the log says once that space cannot be reserved" 1 \
	"$(grep -c "cannot reserve space" "$LOG")"
check "the daemon was traced all along" kill -0 "$STRACE_PID"
kill_pid "$STRACE_PID"
umount_fs

need_mount
check "after a remount: a.wav" cmp "$WORK/twin/a.wav" "$MNT/keep/a.wav"
check "after a remount: b.wav" cmp "$WORK/twin/b.wav" "$MNT/b.wav"
umount_fs
check "recctl verify: exit 0" "$RECCTL" verify --config "$CONF"
