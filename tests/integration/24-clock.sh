#!/usr/bin/env bash
# The internal clock. [testing] clock_offset = 3600 (seconds) starts the
# filesystem's clock an hour ahead: `expires` shifts by an hour, yet a file still goes
# 3 s after its close in real time. After a remount with clock_offset = 0
# the clock does not run backwards: the store's high-water mark keeps it
# at least where the first mount had brought it.
#
# Assumption: the mark is written to the store at mount, at unmount, or at
# least every few seconds while mounted (the first mount here lasts > 4 s).
. "$(dirname "$0")/lib.sh"

SHORT=3000
HOUR=3600000
setup retention.short=3s retention.keep=1h testing.clock_offset=3600
need_mount
tmount=$(now_ms)
M=$MNT

echo a >"$M/a.wav"
ta=$(now_ms)
exp=$(xget "$M/a.wav" user.recfs.expires)
if ems=$(iso_ms "$exp"); then
	check_range "clock_offset=1h: expires = close + 1 h + short" \
		$((ta + HOUR + SHORT - 1500)) $((ta + HOUR + SHORT + 1500)) "$ems"
else
	fail "clock_offset=1h: expires is ISO-8601" "got '$exp'"
fi
expect_expiry "clock_offset=1h: the file still goes short after its close" "$M/a.wav" $((ta + SHORT))
umount_fs

write_conf "$CONF" "$STORE" "$KEY" retention.short=3s retention.keep=1h testing.clock_offset=0
need_mount
echo b >"$M/b.wav"
tb=$(now_ms)
exp=$(xget "$M/b.wav" user.recfs.expires)
if ems=$(iso_ms "$exp"); then
	check_range "clock never runs backwards: after remount with clock_offset=0, still an hour ahead" \
		$((tmount + HOUR + SHORT - 2000)) $((tb + HOUR + SHORT + 1500)) "$ems"
else
	fail "after remount: expires is ISO-8601" "got '$exp'"
fi
expect_expiry "after remount: the file goes short after its close" "$M/b.wav" $((tb + SHORT))
umount_fs

# a fresh store with clock_offset = 0 follows the system clock
make_store "$WORK/plain" retention.short=3s retention.keep=1h
CONF=$WORK/plain/recfs.conf need_mount
echo c >"$M/c.wav"
tc=$(now_ms)
exp=$(xget "$M/c.wav" user.recfs.expires)
if ems=$(iso_ms "$exp"); then
	check_range "clock_offset=0 on a fresh store: expires = close + short" \
		$((tc + SHORT - 1500)) $((tc + SHORT + 1500)) "$ems"
else
	fail "fresh store: expires is ISO-8601" "got '$exp'"
fi
umount_fs
