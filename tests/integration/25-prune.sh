#!/usr/bin/env bash
# Empty folders (short = 3 s, keep = 8 s) are removed once they have been
# empty for their class's period: a chain of date folders goes one level at
# a time, a folder emptied by expiry or by rm counts from then, a folder
# holding a file still being written stays, an empty folder in keep/ waits
# for `keep`; the root and keep/ are never removed.
. "$(dirname "$0")/lib.sh"

SHORT=3000
KEEP=8000
setup retention.short=3s retention.keep=8s
need_mount
M=$MNT

t0=$(now_ms)
mkdir -p "$M/2026/11/28" "$M/rec/29" "$M/busy" "$M/manual" "$M/keep/case-1"
echo f >"$M/rec/29/f.wav"
tf=$(now_ms)
echo x >"$M/manual/x.wav"
sleep 600 >>"$M/busy/w.wav" &
busy_pid=$!
sleep_until $((t0 + 2000))
rm "$M/manual/x.wav"
trm=$(now_ms)

# Each level counts from when the level below it was seen gone.
expect_expiry \
	"empty date folder goes after short" "$M/2026/11/28" $((t0 + SHORT)) \
	"file in a date folder goes after short" "$M/rec/29/f.wav" $((tf + SHORT)) \
	"folder emptied by rm counts from the rm" "$M/manual" $((trm + SHORT))
expect_expiry \
	"parent emptied by pruning goes one period later" "$M/2026/11" \
	$((${GONE_AT[$M/2026/11/28]:-t0} + SHORT)) \
	"folder emptied by expiry counts from then" "$M/rec/29" \
	$((${GONE_AT[$M/rec/29/f.wav]:-tf} + SHORT)) \
	"empty folder in keep/ goes after keep" "$M/keep/case-1" $((t0 + KEEP))
expect_expiry \
	"grandparent goes a period after that" "$M/2026" $((${GONE_AT[$M/2026/11]:-t0} + SHORT)) \
	"and the other chain's parent too" "$M/rec" $((${GONE_AT[$M/rec/29]:-tf} + SHORT))
check "a folder with a file being written stays" test -d "$M/busy"
check "the file being written stays" test -f "$M/busy/w.wav"
check "keep/ is never removed" test -d "$M/keep"
check "the root is never removed" test -d "$M"
check_eq "root lists keep/ and the busy folder" "busy keep" "$(ls -A "$M" | xargs)"
kill "$busy_pid"
wait "$busy_pid" 2>/dev/null
umount_fs
