#!/usr/bin/env bash
# A file being recorded shows its true size and can be read meanwhile;
# 32 recorders write at once and every byte of every file is right.
. "$(dirname "$0")/lib.sh"

setup
need_mount
RW=$TESTBIN/recwriter

# --- a live recording: recwriter -k checks fstat and SEEK_END after every
# write; meanwhile another process watches the size and reads the content.
"$RW" -n 400 -S 21 "$REF/live.wav"
"$RW" -k -s 5 -n 400 -S 21 "$MNT/live.wav" 2>"$WORK/live.err" &
wpid=$!
for ((i = 0; i < 100; i++)); do [ -e "$MNT/live.wav" ] && break; sleep 0.05; done
tail -c +1 -s 0.1 -f --pid="$wpid" "$MNT/live.wav" >"$WORK/live.tail" 2>/dev/null &
tpid=$!
last=0 seen=0 shrank= differs=
while kill -0 "$wpid" 2>/dev/null; do
	sz=$(stat -c %s "$MNT/live.wav" 2>/dev/null) || { sleep 0.05; continue; }
	[ "$sz" -lt "$last" ] && shrank="$last -> $sz"
	if [ "$sz" -gt "$last" ]; then
		seen=$((seen + 1))
		cmp -s -n "$sz" "$MNT/live.wav" "$REF/live.wav" || differs="at size $sz"
	fi
	last=$sz
	sleep 0.05
done
wait "$wpid"
rc=$?
check_eq "live: fstat and SEEK_END give the true size after every write" 0 "$rc"
[ "$rc" -eq 0 ] || show "$(cat "$WORK/live.err")"
check_range "live: another process saw the size grow (distinct sizes)" 5 100000 "$seen"
check_eq "live: the size never went down" "" "$shrank"
check_eq "live: what another process read matched what was written" "" "$differs"
check "live: final content" cmp "$MNT/live.wav" "$REF/live.wav"
wait "$tpid"
check "live: a reader holding the file open (tail -f) got every byte" \
	cmp "$WORK/live.tail" "$REF/live.wav"

# --- 32 concurrent writers, each file verified byte for byte
mkdir "$MNT/par" "$REF/par"
out=$("$TESTBIN/parwrite" "$MNT/par" 32 1048576 2>&1)
rc=$?
check_eq "32 concurrent writers: every file byte for byte" 0 "$rc"
[ "$rc" -eq 0 ] || show "$out"
check_eq "32 concurrent writers: 32 files" 32 "$(ls "$MNT/par" | wc -l)"

# The same run on the local disk gives the reference images for a
# check after remount.
"$TESTBIN/parwrite" "$REF/par" 32 1048576 >/dev/null
umount_fs
need_mount
bad=0
for f in "$REF"/par/*; do
	cmp -s "$f" "$MNT/par/${f##*/}" || { bad=$((bad + 1)); say "differs: par/${f##*/}"; }
done
check_eq "32 concurrent writers: all files intact after remount" 0 "$bad"

# --- readers and a writer at once on one file
"$RW" -n 2000 -S 23 "$REF/shared.wav"
"$RW" -n 2000 -S 23 "$MNT/shared.wav"
pids=()
for i in 1 2 3 4 5 6 7 8; do
	cmp -s "$MNT/shared.wav" "$REF/shared.wav" &
	pids+=($!)
done
"$RW" -n 300 -S 29 "$MNT/other.wav" &
pids+=($!)
bad=0
for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
check_eq "8 concurrent readers and a writer" 0 "$bad"

# --- uncached readers share a file (they run at once in the daemon) while
# a recorder appends frames to it
head -c 8M /dev/urandom >"$REF/big.bin"
head -c 640000 /dev/urandom >"$REF/tail.bin"
cp "$REF/big.bin" "$MNT/big.bin"
pids=()
for i in 1 2 3 4 5 6 7 8; do
	bash -c "dd if='$MNT/big.bin' iflag=direct bs=$(((i * 37 % 61 + 3) * 4096)) status=none |
		head -c 8388608 | cmp -s - '$REF/big.bin'" &
	pids+=($!)
done
dd if="$REF/tail.bin" of="$MNT/big.bin" bs=320 oflag=append conv=notrunc status=none &
pids+=($!)
bad=0
for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
check_eq "8 uncached readers of one file and an appending writer" 0 "$bad"
check "the file holds what was written, in order" \
	cmp -s "$MNT/big.bin" <(cat "$REF/big.bin" "$REF/tail.bin")

# --- the mount reads ahead 1 MiB (the largest READ), not the kernel's
# 128 KiB; a sequential read of a file not yet in the page cache (cp
# writes with direct I/O) is exact
check_eq "read-ahead of the mount: 1024 KiB" 1024 \
	"$(cat "/sys/class/bdi/$(mountpoint -d "$MNT")/read_ahead_kb")"
head -c 9M /dev/urandom >"$REF/ra.bin"
cp "$REF/ra.bin" "$MNT/ra.bin"
check "sequential read with 1 MiB read-ahead: exact" cmp -s "$MNT/ra.bin" "$REF/ra.bin"
