#!/usr/bin/env bash
# File I/O as PBX recorders do it, checked against the same calls on the
# local disk ($REF, ext4 in /tmp): every call's result and every byte must
# be the same on recfs.
. "$(dirname "$0")/lib.sh"

setup
need_mount
RW=$TESTBIN/recwriter

# twin NAME CMD...: run CMD with {} standing for $MNT, then for $REF; the
# outputs and exit statuses must match.
twin() {
	local name=$1 x got want
	shift
	local a=() b=()
	for x in "$@"; do
		a+=("${x//\{\}/$MNT}")
		b+=("${x//\{\}/$REF}")
	done
	got=$("${a[@]}" 2>&1; echo "status $?")
	want=$("${b[@]}" 2>&1; echo "status $?")
	check_eq "$name" "${want//$REF/\{\}}" "${got//$MNT/\{\}}"
}

# same NAME REL: the file REL is byte for byte the same on both sides.
same() {
	local out
	if out=$(cmp -- "$MNT/$2" "$REF/$2" 2>&1); then
		ok "$1"
	else
		fail "$1" "$out (sizes $(stat -c %s "$MNT/$2" 2>&1) vs $(stat -c %s "$REF/$2"))"
	fi
}

# --- Asterisk: 44-byte header, 320-byte frames, patch offsets 4 and 40
twin "asterisk: 320-byte frames, patch 4 and 40" "$RW" -k -p 4 -p 40 -n 500 {}/ast.wav
same "asterisk: content" ast.wav
check_eq "asterisk: size" $((44 + 500 * 320)) "$(stat -c %s "$MNT/ast.wav")"
check_eq "asterisk: RIFF size field patched" $((44 + 500 * 320 - 8)) \
	"$(od -An -tu4 -j4 -N4 "$MNT/ast.wav" | tr -d ' ')"
twin "asterisk: 32 KiB chunks" "$RW" -k -p 4 -p 40 -c 32768 -n 12 -S 3 {}/ast32k.wav
same "asterisk: 32 KiB chunks content" ast32k.wav

# --- overwrite in the middle, inside one block and across a block boundary
twin "overwrite in the middle" fsop seq {}/ast.wav o:rdwr w:70000:OVERWRITTEN-IN-THE-MIDDLE \
	w:4090:ACROSS-THE-BLOCK-EDGE f c
same "overwrite: content" ast.wav
head -c 10000 /dev/urandom >"$WORK/rand10k"
twin "overwrite 10000 bytes at unaligned offset 4000" dd if="$WORK/rand10k" of={}/ast.wav \
	bs=10000 count=1 seek=4000 oflag=seek_bytes conv=notrunc status=none
same "overwrite 10000 bytes: content" ast.wav

# --- truncate down and up: no stale bytes come back
twin "truncate: writer" "$RW" -n 100 -S 5 {}/t.wav
twin "truncate down to 10000" fsop truncate {}/t.wav 10000
same "truncate down: content" t.wav
twin "truncate down mid-block to 5000, up to 20000" fsop seq {}/t.wav o:rdwr t:5000 t:20000 f c
same "truncate down then up: content" t.wav
check "truncate down then up: bytes 5000..19999 are zero" \
	cmp -n 15000 <(tail -c +5001 "$MNT/t.wav") /dev/zero
twin "truncate up to 1 MiB" fsop truncate {}/t.wav 1048576
same "truncate up: content" t.wav
twin "truncate to 0" fsop seq {}/t.wav o:rdwr t:0 f e R:0:10 c
check_eq "truncate to 0: size" 0 "$(stat -c %s "$MNT/t.wav")"

# --- write beyond EOF: zeros in between
twin "write beyond EOF" fsop seq {}/gap o:wronly,creat:0644 w:0:start w:50000:END f c
same "write beyond EOF: content" gap
check "write beyond EOF: zeros in the gap" cmp -n 49995 <(tail -c +6 "$MNT/gap") /dev/zero

# --- O_APPEND
twin "O_APPEND writes at the end whatever the offset" fsop seq {}/app \
	o:wronly,creat,append:0644 W:one s:0 W:two f c
echo three >>"$MNT/app"
echo three >>"$REF/app"
same "O_APPEND: content" app
check_eq "O_APPEND: text" "onetwothree" "$(cat "$MNT/app")"

# --- FreePBX: reopen without O_TRUNC and append
twin "freepbx: first part" "$RW" -k -n 50 -S 7 {}/fp.wav
twin "freepbx: reopen O_APPEND, append" "$RW" -k -o append -n 50 -S 7 {}/fp.wav
twin "freepbx: reopen O_WRONLY, seek end, write" fsop seq {}/fp.wav o:wronly e W:tail f c
same "freepbx: content" fp.wav

# --- FreeSWITCH: create empty, close, reopen, ftruncate to 44, write
twin "freeswitch: create, close, reopen, ftruncate 44" fsop seq {}/fs.wav \
	o:wronly,creat,trunc:0644 c o:rdwr f t:44 f s:44 W:frames e c
same "freeswitch: content" fs.wav
check "freeswitch: 44 zero bytes of header" cmp -n 44 "$MNT/fs.wav" /dev/zero

# --- FreeSWITCH probes <dir>/<rate>/ and expects ENOENT, never a folder
expect_errno "probe: stat of a missing rate folder gives ENOENT" ENOENT stat "$MNT/rec/8000"
expect_errno "probe: create in a missing folder gives ENOENT" ENOENT \
	open "$MNT/rec/8000/x.wav" wronly,creat 0644
check "probe: nothing was created" test ! -e "$MNT/rec"
twin "probe: mkdir -p then create" bash -c 'mkdir -p {}/rec/8000 && echo x >{}/rec/8000/x.wav'
same "probe: content" rec/8000/x.wav

# --- ffmpeg: 256 KiB chunks, patches at 74 and 4
twin "ffmpeg: 256 KiB chunks, patch 74 and 4" "$RW" -k -H 78 -c 262144 -n 6 -p 74 -p 4 -S 9 {}/ff.wav
same "ffmpeg: content" ff.wav

# --- sox: O_RDWR
twin "sox: O_RDWR writer" "$RW" -k -o rw -n 200 -p 4 -p 40 -S 11 {}/sox.wav
same "sox: content" sox.wav

# --- rtpengine: metadata file written in tmp/, renamed into metadata/
mkdir "$MNT/tmp" "$MNT/metadata" "$REF/tmp" "$REF/metadata"
twin "rtpengine: write in tmp/" fsop seq {}/tmp/call.meta o:wronly,creat,excl:0640 W:CALL-ID:abc f c
twin "rtpengine: rename into metadata/" fsop rename {}/tmp/call.meta {}/metadata/call.meta
same "rtpengine: content" metadata/call.meta
check_eq "rtpengine: tmp/ empty" "" "$(ls -A "$MNT/tmp")"

# --- open flags
twin "O_CREAT|O_EXCL on an existing file: EEXIST" fsop open {}/app wronly,creat,excl 0644
twin "O_TRUNC empties" fsop seq {}/app o:wronly,trunc f c
same "O_TRUNC: content" app
# shellcheck disable=SC2016 # expanded by the inner bash
twin "O_TRUNC of a file with content, then a write past the old end" bash -c \
	'printf "hello world" >{}/otrunc && "$TESTBIN/fsop" seq {}/otrunc o:rdwr,trunc w:8192:Z c'
same "O_TRUNC then a write: old bytes read as zeros" otrunc
twin "open a missing file without O_CREAT: ENOENT" fsop open {}/nope rdonly
twin "open a directory for writing: EISDIR" fsop open {}/rec wronly
twin "fsync" fsop seq {}/sync o:wronly,creat:0644 W:x y c

# --- an unlinked file stays usable through its handle
twin "unlinked file: write, fstat, read through the handle" fsop seq {}/ul \
	o:rdwr,creat:0644 w:0:hello u w:5:-world f R:0:11 c
check "unlinked file: gone from the tree" test ! -e "$MNT/ul"

# --- everything survives a remount
umount_fs
need_mount
for f in ast.wav ast32k.wav t.wav gap app otrunc fp.wav fs.wav rec/8000/x.wav ff.wav sox.wav \
	metadata/call.meta sync; do
	same "after remount: $f" "$f"
done
