#!/usr/bin/env bash
# Disk full (issue 5, point 3): the store on a small tmpfs (DISKFULL_MB,
# default 12 MiB, mounted inside the work directory and unmounted by the
# EXIT trap after recfs). Recordings made and fsynced before are kept as
# twins on the local disk. Then recorders (320-byte frames straight into
# the mount; the same through dd, which counts what each write
# acknowledged) and, once they are going, parwrite's large writes record
# until the disk is full: each must get ENOSPC. A recording fsynced and
# held open goes on writing on the full disk, and again after space was
# freed. Meanwhile and after:
#
#  - the daemon stays up (same PID, the mount answers);
#  - what was stored before reads back byte for byte, also after remounts;
#  - every file that hit ENOSPC reads back without an error as a prefix of
#    what its writer wrote, holding every byte a write acknowledged (dd's
#    count) and the fsynced part of the held recording;
#  - create, mkdir, symlink, rename into keep/, setxattr on the full disk
#    give OK or ENOSPC, never EIO; what answered OK survives a remount and
#    what failed left nothing behind;
#  - after a delete through the mount (recfs destroys the objects within
#    about a second) recording resumes and reads back exactly;
#  - `recctl verify` and `recctl audit verify` pass (the trail lives on
#    the full disk too; lost audit records show as `dropped`, and how many
#    the log and the trail count is printed).
. "$(dirname "$0")/lib.sh"

RW=$TESTBIN/recwriter
PW=$TESTBIN/parwrite
for t in "$RW" "$PW"; do [ -x "$t" ] || bail "environment: $t is not built"; done
SIZE_MB=${DISKFULL_MB:-12}
FRAMES=$((SIZE_MB * 4096)) # frames per recorder: more than the disk holds
NOSPC="No space left on device"

DISK=
JOBS=()  # background writers this test started (PIDs)
HELD=    # fd 7 is open on the held recording

# The held descriptor closes and the writers go first; lib.sh's cleanup
# then unmounts recfs, ends the daemons and the writers (T_PIDS), unmounts
# the tmpfs (T_UMOUNTS) and removes WORK.
df_cleanup() {
	local rc=$? p
	[ -n "$HELD" ] && { exec 7>&-; } 2>/dev/null
	for p in "${JOBS[@]}"; do kill -0 "$p" 2>/dev/null && kill -TERM "$p" 2>/dev/null; done
	T_PIDS+=("${JOBS[@]}")
	(exit "$rc")
	t_cleanup
}

setup
trap df_cleanup EXIT
DISK=$WORK/disk
mkdir "$DISK" || bail "mkdir $DISK"
mount -t tmpfs -o "size=${SIZE_MB}m,mode=0700" recfs-diskfull "$DISK" ||
	bail "a ${SIZE_MB} MiB tmpfs on $DISK"
T_UMOUNTS+=("$DISK")
# The store setup made stays unused: this test's lives on the tmpfs; its
# key, config and every reference copy stay outside it.
STORE=$DISK/store
KEY=$WORK/disk.key
CONF=$WORK/disk.conf
write_conf "$CONF" "$STORE" "$KEY"
out=$("$RECCTL" init --config "$CONF" 2>&1) || { show "$out"; bail "recctl init on the tmpfs"; }
say "store on a ${SIZE_MB} MiB tmpfs: $STORE"

T0=$(now_ms)
need_mount
M=$MNT
PID0=$RECFS_PID

avail() { df -B1 --output=avail "$DISK" | tail -n 1 | tr -d ' '; }
avail_at_least() { [ "$(avail)" -ge "$1" ]; }

# alive NAME: the daemon mount_fs started still runs and the mount answers.
alive() {
	if [ "$RECFS_PID" == "$PID0" ] && kill -0 "$PID0" 2>/dev/null &&
		stat -f "$M" >/dev/null 2>&1 && ls "$M" >/dev/null 2>&1; then
		ok "$1"
	else
		fail "$1" "pid $PID0 gone or the mount does not answer"
	fi
}

# nospc_only NAME FILE: FILE (a writer's stderr) names ENOSPC and no other
# error.
nospc_only() {
	local other
	other=$(grep -v -F "$NOSPC" "$2" | grep -v -E '^[0-9]+\+[0-9]+ records (in|out)$|^[0-9]+ bytes .*copied')
	if grep -q -F "$NOSPC" "$2" && [ -z "$other" ]; then
		ok "$1"
	else
		fail "$1" "want ENOSPC only"
		show "$(cat "$2")"
	fi
}

# readback NAME FILE: FILE reads back in full, with no error, into
# $WORK/rb; RB_LEN is its length.
readback() {
	local out
	RB_LEN=
	if ! out=$(cat -- "$2" 2>&1 >"$WORK/rb"); then
		fail "$1: reads back without an error" "$out"
		return 1
	fi
	RB_LEN=$(stat -c %s "$WORK/rb")
	check_eq "$1: reads back without an error, as long as stat says" \
		"$(stat -c %s "$2")" "$RB_LEN"
}

# prefix_of NAME IMAGE: $WORK/rb is a prefix of IMAGE.
prefix_of() {
	if cmp -s -n "$RB_LEN" "$WORK/rb" "$2" && [ "$(stat -c %s "$2")" -ge "$RB_LEN" ]; then
		ok "$1: a prefix of what was written ($RB_LEN bytes)"
	else
		fail "$1: a prefix of what was written" \
			"$RB_LEN bytes; $(cmp "$WORK/rb" "$2" 2>&1 | head -n 1)"
		return 1
	fi
}

# recorder_image SEED BYTES: what recwriter -S SEED (no patches) writes,
# at least BYTES long, in $WORK/img.
recorder_image() {
	local k=0
	[ "$2" -gt 44 ] && k=$((($2 - 44 + 319) / 320))
	"$RW" -S "$1" -n "$k" "$WORK/img"
}

# clean_op NAME FSOP-ARGS...: OK or ENOSPC, never anything else; GOT.
clean_op() {
	local name=$1
	shift
	GOT=$("$TESTBIN/fsop" "$@" 2>&1)
	case $GOT in
	OK | ENOSPC) ok "$name: $GOT" ;;
	*) fail "$name" "want OK or ENOSPC, got '$GOT'" ;;
	esac
}

# same_as_ref NAME: every recording in PRE (mount path -> twin) is intact.
declare -A PRE=()
same_as_ref() {
	local p bad=0
	for p in "${!PRE[@]}"; do
		if ! cmp -s "$M/$p" "${PRE[$p]}"; then
			bad=$((bad + 1))
			say "differs: $p ($(cmp "$M/$p" "${PRE[$p]}" 2>&1 | head -n 1))"
		fi
	done
	check_eq "$1" 0 "$bad"
}

# ---------------------------------------------------------------- before
mkdir "$M/calls" "$REF/calls" "$M/live" "$M/live/par"
for i in 1 2 3 4 5; do
	n=$((500 * i)) # 160 KB .. 800 KB: 2.4 MB in all
	"$RW" -S "$i" -n "$n" -p 4 -p 40 "$REF/calls/pre$i.wav"
	"$RW" -S "$i" -n "$n" -p 4 -p 40 "$M/calls/pre$i.wav" ||
		fail "before: recording pre$i.wav"
	sync "$M/calls/pre$i.wav" || fail "before: fsync pre$i.wav"
	PRE[calls/pre$i.wav]=$REF/calls/pre$i.wav
done
mv "$M/calls/pre2.wav" "$M/keep/pre2.wav" || fail "before: move pre2.wav into keep/"
unset 'PRE[calls/pre2.wav]'
PRE[keep/pre2.wav]=$REF/calls/pre2.wav
wait_for "before: pre2.wav in keep/ is sealed" 10 xattr_is "$M/keep/pre2.wav" user.recfs.state sealed &&
	ok "before: pre2.wav in keep/ is sealed"
setfattr -n user.note -v before "$M/calls/pre1.wav" || fail "before: setxattr"
same_as_ref "before: 5 recordings fsynced, byte for byte"

# The held recording: 2000 bytes fsynced, still open; more comes once
# the disk is full, and the rest after space was freed.
HELD_END=26000
"$RW" -S 7 -n 100 "$REF/held.img" # 32044 bytes
exec 7>"$M/calls/held.wav"
HELD=1
head -c 2000 "$REF/held.img" >&7
check "held recording: 2000 bytes fsynced, still open" sync "$M/calls/held.wav"
say "free before the writers: $(($(avail) / 1024)) KiB of $((SIZE_MB * 1024))"

# ---------------------------------------------------------------- fill
# 2 recorders in 320-byte frames, 2 more through dd (it reports how many
# bytes the writes it made were acknowledged), 3 threads of parwrite with
# writes of 1 byte to 39 KiB. Each wants more than the whole disk.
touch "$M"/live/par/w0{0,1,2}.wav # parwrite's, made while there is room
t0=$(now_ms)
for i in 1 2; do
	"$RW" -S $((10 + i)) -n "$FRAMES" "$M/live/rec$i.wav" 2>"$WORK/rec$i.err" &
	JOBS+=($!)
done
for i in 1 2; do
	"$RW" -S $((20 + i)) -n "$FRAMES" /dev/stdout 2>/dev/null |
		dd of="$M/live/dd$i.wav" bs=320 iflag=fullblock 2>"$WORK/dd$i.err" &
	JOBS+=($!)
done
# parwrite's large writes would fill the disk at once: it starts when
# each recorder has 32 KiB, into its files made beforehand.
started() {
	local w
	for w in rec1 rec2 dd1 dd2; do
		[ "$(stat -c %s "$M/live/$w.wav" 2>/dev/null || echo 0)" -ge 32768 ] || return 1
	done
}
wait_for "writers: each recorder got going" 30 started
"$PW" "$M/live/par" 3 $((SIZE_MB << 20)) >"$WORK/par.out" 2>&1 &
JOBS+=($!)
names=(rec1 rec2 dd1 dd2 par)
# Wait for all, at most 240 s; a writer still going then is a failure.
end=$(($(now_ms) + 240000))
while :; do
	left=0
	for p in "${JOBS[@]}"; do kill -0 "$p" 2>/dev/null && left=$((left + 1)); done
	[ "$left" -eq 0 ] && break
	if [ "$(now_ms)" -gt "$end" ]; then
		fail "writers: all ended within 240 s" "$left still writing"
		break
	fi
	sleep 0.1
done
declare -A RC=()
for i in "${!JOBS[@]}"; do
	wait "${JOBS[i]}"
	RC[${names[i]}]=$?
done
JOBS=()
say "writers ended after $((($(now_ms) - t0) / 1000)) s; free: $(avail) bytes"
alive "daemon alive and answering after the writers hit ENOSPC"

for w in rec1 rec2 dd1 dd2; do
	f=$WORK/$w.err
	if [ "${RC[$w]}" -ne 0 ]; then
		ok "$w: the writer failed (exit ${RC[$w]})"
	else
		fail "$w: the writer failed" "exit 0: it wrote more than the disk holds"
	fi
	nospc_only "$w: the error is ENOSPC" "$f"
done
if [ "${RC[par]}" -ne 0 ]; then
	ok "parwrite: its writers failed (exit ${RC[par]})"
else
	fail "parwrite: its writers failed" "exit 0"
fi
bad=$(grep -v -E "^parwrite: |: $NOSPC\$" "$WORK/par.out")
if [ -z "$bad" ] && grep -q -F "$NOSPC" "$WORK/par.out"; then
	ok "parwrite: every failure is ENOSPC; every file it finished verified"
else
	fail "parwrite: every failure is ENOSPC; every file it finished verified"
	show "$(cat "$WORK/par.out")"
fi

# Top up: one more recorder until ENOSPC, so that no page is left (again
# if the audit writer, cutting back a failed write, gave a page back).
for i in 1 2 3; do
	"$RW" -S 40 -n "$FRAMES" "$M/live/fill$i.wav" 2>"$WORK/fill.err"
	nospc_only "top-up recorder $i: ENOSPC" "$WORK/fill.err"
	free=$(avail)
	[ "$free" -lt 8192 ] && break
done
say "free after the top-up: $free bytes"
check_range "the store's disk is full (under 8 KiB free)" 0 8191 "$free"

# ---------------------------------------------------------------- full
# The held recording goes on: one write of 24000 bytes (more than a page
# or two the audit writer may give back meanwhile) through dd, which says
# how much of it was acknowledged; then fsync.
dd if="$REF/held.img" bs=24000 skip=2000 count=24000 iflag=skip_bytes,count_bytes \
	>&7 2>"$WORK/held.err"
held_rc=$?
held_ack=$(sed -n 's/^\([0-9]*\) bytes .*copied.*/\1/p' "$WORK/held.err")
say "held recording: dd exit $held_rc, ${held_ack:-?} of 24000 bytes acknowledged"
[ -n "$held_ack" ] || show "$(cat "$WORK/held.err")"
if [ "$held_rc" -ne 0 ]; then
	ok "held recording: the write on the full disk fails"
else
	fail "held recording: the write on the full disk fails" "dd exit 0"
fi
nospc_only "held recording: with ENOSPC" "$WORK/held.err"
check "held recording: fsync after it succeeds (what was acknowledged has its space)" \
	sync "$M/calls/held.wav"

same_as_ref "full: the recordings from before are intact"
check_eq "full: xattr from before" before "$(xget "$M/calls/pre1.wav" user.note)"

# Namespace operations on the full disk.
nobj=$(objects)
clean_op "full: create a file" open "$M/calls/new.wav" wronly,creat 0644
create_got=$GOT
clean_op "full: mkdir" mkdir "$M/calls/newdir" 0755
mkdir_got=$GOT
clean_op "full: symlink" symlink /some/where/else "$M/calls/link"
symlink_got=$GOT
for x in "new.wav:$create_got" "newdir:$mkdir_got" "link:$symlink_got"; do
	n=${x%%:*}
	if [ "${x#*:}" == OK ]; then
		check "full: $n answered OK and exists" exists "$M/calls/$n"
	else
		check_not "full: $n answered ENOSPC and does not exist" exists "$M/calls/$n"
	fi
done
made=0
for g in "$create_got" "$mkdir_got" "$symlink_got"; do [ "$g" == OK ] && made=$((made + 1)); done
check_eq "full: the store holds an object for each that answered OK, no more" \
	$((nobj + made)) "$(objects)"

clean_op "full: rename pre3.wav into keep/" rename "$M/calls/pre3.wav" "$M/keep/pre3.wav"
if [ "$GOT" == OK ]; then
	unset 'PRE[calls/pre3.wav]'
	PRE[keep/pre3.wav]=$REF/calls/pre3.wav
	wait_for "full: pre3.wav in keep/ is sealed" 10 xattr_is "$M/keep/pre3.wav" user.recfs.state sealed &&
		ok "full: pre3.wav in keep/ is sealed"
fi
clean_op "full: rename within calls/" rename "$M/calls/pre4.wav" "$M/calls/pre4b.wav"
if [ "$GOT" == OK ]; then
	unset 'PRE[calls/pre4.wav]'
	PRE[calls/pre4b.wav]=$REF/calls/pre4.wav
fi
clean_op "full: setxattr" setxattr "$M/calls/pre5.wav" user.note full
xattr_got=$GOT
alive "daemon alive and answering on the full disk"

# What the writers left: whole, readable, a prefix of what they wrote.
for i in 1 2; do
	readback "rec$i" "$M/live/rec$i.wav" || continue
	recorder_image $((10 + i)) "$RB_LEN"
	prefix_of "rec$i" "$WORK/img"
	say "rec$i: $RB_LEN bytes stored"
done
for i in 1 2; do
	ack=$(sed -n 's/^\([0-9]*\) bytes .*copied.*/\1/p' "$WORK/dd$i.err")
	readback "dd$i" "$M/live/dd$i.wav" || continue
	recorder_image $((20 + i)) "$RB_LEN"
	prefix_of "dd$i" "$WORK/img"
	check_eq "dd$i: every acknowledged byte is stored" "$ack" "$RB_LEN"
done
if readback "held recording" "$M/calls/held.wav"; then
	prefix_of "held recording" "$REF/held.img"
	check_range "held recording: the fsynced 2000 bytes survive" 2000 $HELD_END "$RB_LEN"
	check_eq "held recording: every acknowledged byte is stored" \
		$((2000 + ${held_ack:-0})) "$RB_LEN"
fi
pbad=0 pn=0
for f in "$M"/live/par/*; do
	[ -e "$f" ] || continue # none when the others filled the disk first
	pn=$((pn + 1))
	cat -- "$f" >/dev/null 2>&1 || { pbad=$((pbad + 1)); say "cannot read ${f#"$M"/}"; }
done
check_eq "parwrite's files read back without an error ($pn files)" 0 "$pbad"

# ---------------------------------------------------------------- freed
check "full: rm -rf live/ through the mount" rm -rf "$M/live"
want=$(((SIZE_MB << 20) / 2))
wait_for "free: destroyed objects give their space back" 30 avail_at_least "$want" &&
	ok "free: destroyed objects give their space back ($(($(avail) >> 10)) KiB free)"
# The held recording goes on where the full disk stopped it, on the same
# descriptor (its offset is the size), and is whole.
off=$(stat -c %s "$M/calls/held.wav")
dd if="$REF/held.img" bs=$((HELD_END - off)) skip="$off" count=$((HELD_END - off)) \
	iflag=skip_bytes,count_bytes >&7 2>"$WORK/held2.err"
check_eq "after: the held recording goes on (dd exit status)" 0 $? || show "$(cat "$WORK/held2.err")"
{ exec 7>&-; } 2>"$WORK/held.close"
HELD=
check_eq "after: the held recording closes without an error" "" "$(cat "$WORK/held.close")"
head -c "$HELD_END" "$REF/held.img" >"$REF/calls/held.wav"
check "after: the held recording reads back whole" cmp "$M/calls/held.wav" "$REF/calls/held.wav"
PRE[calls/held.wav]=$REF/calls/held.wav

"$RW" -S 50 -n 4000 -p 4 -p 40 "$REF/calls/after.wav"
check "after: a new recording" "$RW" -S 50 -n 4000 -p 4 -p 40 "$M/calls/after.wav"
check "after: it reads back exactly" cmp "$M/calls/after.wav" "$REF/calls/after.wav"
sync "$M/calls/after.wav" || fail "after: fsync after.wav"
PRE[calls/after.wav]=$REF/calls/after.wav
mkdir "$M/after-par"
check "after: 4 writers at once, each file byte for byte (parwrite)" \
	"$PW" "$M/after-par" 4 300000
check "after: mkdir" mkdir "$M/calls/dir-after"
same_as_ref "after: every recording intact"
alive "daemon alive after the episode (same pid $PID0)"
if grep -q -E 'Sanitizer|runtime error' "$LOG"; then
	fail "no sanitizer report so far"
	show "$(grep -E -A5 'Sanitizer|runtime error' "$LOG")"
fi
# ENOSPC may cost audit records (counted, below), never a metadata write,
# a seal or a destruction.
bad=$(grep -E 'metadata write failed|shred failed|cannot seal|unlinking destroyed|cannot restore' "$LOG")
check_eq "the daemon log names no failed metadata write, seal or destruction" "" "$bad" ||
	show "$bad"
say "daemon log: $(grep -c -F "$NOSPC" "$LOG") line(s) naming ENOSPC"
grep -E 'record\(s\) lost' "$LOG" | sed 's/^/    log| /'

out=$("$RECCTL" audit verify --config "$CONF" 2>&1)
rc=$?
check_eq "audit verify while mounted: exit 0" 0 "$rc" || show "$out"
say "$(head -n 1 <<<"$out")"

# ---------------------------------------------------------------- remount
umount_fs
out=$("$RECCTL" verify --config "$CONF" 2>&1)
rc=$?
check_eq "recctl verify after the episode: exit 0" 0 "$rc" || show "$out"
say "$(tail -n 1 <<<"$out")"
out=$("$RECCTL" audit verify --config "$CONF" 2>&1)
rc=$?
check_eq "recctl audit verify after unmount: exit 0" 0 "$rc" || show "$out"
say "$(head -n 1 <<<"$out")"
dropped=$("$RECCTL" audit --config "$CONF" --event dropped 2>&1)
show "$dropped"
# What the log says was lost against what the trail's dropped records
# count: a note, not a check. A dropped record stands for the losses before
# it; when the group carrying it fails too, they are carried on (and the
# log names them again), so the log's sum is at least the trail's count.
lost_log=$(sed -n 's/.*; \([0-9]*\) record(s) lost$/\1/p' "$WORK"/recfs-*.log | awk '{ s += $1 } END { print s + 0 }')
lost_trail=$(sed -n 's/.* count=\([0-9]*\).*/\1/p' <<<"$dropped" | awk '{ s += $1 } END { print s + 0 }')
say "audit records lost on the full disk: $lost_log by the log; dropped records in the trail count $lost_trail"

need_mount
PID0=$RECFS_PID
same_as_ref "remount: every recording intact"
check_eq "remount: xattr from before" before "$(xget "$M/calls/pre1.wav" user.note)"
if [ "$xattr_got" == OK ]; then
	check_eq "remount: the xattr set on the full disk" full "$(xget "$M/calls/pre5.wav" user.note)"
else
	check_eq "remount: no xattr from the failed setxattr" "" "$(xget "$M/calls/pre5.wav" user.note)"
fi
check_eq "remount: pre2.wav still sealed" sealed "$(xget "$M/keep/pre2.wav" user.recfs.state)"
if [ -n "${PRE[keep/pre3.wav]:-}" ]; then
	check_eq "remount: pre3.wav (moved on the full disk) sealed in keep/" sealed \
		"$(xget "$M/keep/pre3.wav" user.recfs.state)"
	check_not "remount: pre3.wav not back in calls/" exists "$M/calls/pre3.wav"
fi
check_not "remount: nothing of live/ came back" exists "$M/live"
for x in "new.wav:$create_got" "newdir:$mkdir_got" "link:$symlink_got"; do
	n=${x%%:*}
	if [ "${x#*:}" == OK ]; then
		check "remount: $n (OK on the full disk) is there" exists "$M/calls/$n"
	else
		check_not "remount: $n (ENOSPC on the full disk) is not" exists "$M/calls/$n"
	fi
done
if grep -q 'is damaged' "$LOG"; then
	fail "remount: no damaged object" "$(grep -c 'is damaged' "$LOG") in the log"
else
	ok "remount: no damaged object"
fi
alive "remounted daemon answers"
umount_fs
check "recctl verify at the end: exit 0" "$RECCTL" verify --config "$CONF"
say "took $((($(now_ms) - T0) / 1000)) s"
