#!/usr/bin/env bash
# 1000 files with staggered deadlines (created over 2 s, short = 3 s): each
# vanishes within 1 s of its deadline (tests/tools/expirewatch.c).
. "$(dirname "$0")/lib.sh"

setup retention.short=3s retention.keep=1h
need_mount
mkdir "$MNT/load"
n0=$(objects)
out=$("$TESTBIN/expirewatch" "$MNT/load" 1000 2000 3000 1000 2>&1)
rc=$?
check_eq "1000 files: each gone within 1 s of its deadline" 0 "$rc"
show "$out"
check_eq "1000 files: the folder is empty" 0 "$(ls -A "$MNT/load" 2>/dev/null | wc -l)"
# No object of the files remains (destruction may trail the names a
# little; the folder itself may be pruned by then too).
wait_for "1000 files: their objects are destroyed" 10 objects_at_most "$n0" &&
	ok "1000 files: their objects are destroyed"
umount_fs
