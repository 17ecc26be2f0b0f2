#!/usr/bin/env bash
# No plaintext at rest, measured (issue 5, point 8). Every place a user's
# data can go gets its own random marker (16 hex digits, new every run): file
# names, folder names, user.* xattr names and values, symlink targets, and
# content: a WAV made by sox with the marker in a LIST/INFO comment chunk, an
# AIFF made by sox --comment, files of raw marker bytes, a recwriter
# recording. The files are kept (sealed), renamed (files and folders),
# chmod/chown'ed, truncated, unlinked (also while open), a folder is
# deleted, some expire while mounted (short = 3 s), some while unmounted
# (caught up at the next mount), some are reaped by `recctl reap`, one is
# damaged; recctl status/ls/verify/audit run on the store, then
# `recctl rekey`. After each stage, with the daemon stopped, every marker
# is searched (raw bytes and UTF-16LE, contents and names) in every file of
# the store, the audit trail, each daemon's stderr at the default log level,
# recctl's stderr, the daemon's syslog output (a daemonized mount in a
# private mount and pid namespace whose /dev/log is a socket of this test)
# and new files outside the work directory: none may appear. A FAIL line
# names the marker's origin and the file it was found in.
#
# recctl verify also runs while mounted with a FIFO in the store: it must
# return (it opens what it checks through the mount, so that the daemon
# logs the read).
#
# Not vacuous: the same scanner finds a marker planted in a plain file, a
# UTF-16LE copy and a file name; the store holds object files at each scan;
# the live markers read back through the mount, and `recctl ls` and
# `recctl audit` (decrypting) show names whose ciphertext the scan searched.
. "$(dirname "$0")/lib.sh"

SHORT=3000
# log.level= drops the key: the daemon and recctl log at their default level
setup retention.short=3s retention.keep=1h log.level=
M=$MNT
touch "$WORK/stamp"

# ---------------------------------------------------------------- markers

declare -A ORIGIN=() # marker -> where it was put
MARKERS=()

# mk VAR ORIGIN: a new random marker in VAR.
mk() {
	local m
	m=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
	[ ${#m} -eq 16 ] && [ -z "${ORIGIN[$m]:-}" ] || bail "markers: cannot make a marker"
	printf -v "$1" '%s' "$m"
	ORIGIN[$m]=$2
	MARKERS+=("$m")
}

mk N_WAV "sox WAV: file name before the rename"
mk N_WAV2 "sox WAV: file name after the rename"
mk C_WAV "sox WAV: LIST/INFO/ICMT comment in the content"
mk XN_WAV "sox WAV: user.* xattr name"
mk XV_WAV "sox WAV: user.* xattr value"
mk XV_OLD "sox WAV: xattr value replaced by another"
mk XN_RM "sox WAV: xattr name, removed"
mk XV_RM "sox WAV: xattr value, removed"
mk D_CASE "kept folder: name before the rename"
mk D_CASE2 "kept folder: name after the rename"
mk N_AIFF "sox AIFF in keep/: file name before a rename inside keep/"
mk N_AIFF2 "sox AIFF in keep/: file name after the rename"
mk C_AIFF "sox AIFF: --comment in the content"
mk N_RAW "raw marker bytes file (kept): name"
mk C_RAW "raw marker bytes file (kept): content"
mk N_TRUNC "truncated file (kept): name"
mk C_TRUNC_KEEP "truncated file: content before the cut"
mk C_TRUNC_CUT "truncated file: content cut away"
mk D_PERM "chmod/chown'ed folder (kept): name"
mk N_PERM "chmod/chown'ed file (kept): name"
mk C_PERM "chmod/chown'ed file: content"
mk N_LNK "symlink in keep/: name"
mk T_LNK "symlink in keep/: target"
mk N_FIFO "FIFO in keep/: name"
mk N_DEL "unlinked file: name"
mk C_DEL "unlinked file: content"
mk XV_DEL "unlinked file: xattr value"
mk N_ODEL "file unlinked while open: name"
mk C_ODEL "file unlinked while open: content"
mk D_GONE "deleted folder (rm -rf): name"
mk D_GONE2 "deleted folder: sub-folder name"
mk N_GONE "deleted folder: file name"
mk C_GONE "deleted folder: file content"
mk D_EXP "folder expired while mounted: name"
mk N_EXP "file expired while mounted: name"
mk C_EXP "file expired while mounted: content"
mk XN_EXP "file expired while mounted: xattr name"
mk XV_EXP "file expired while mounted: xattr value"
mk N_UNK "kept, unkept, then expired: name"
mk C_UNK "kept, unkept, then expired: content"
mk D_LATE "folder emptied by the catch-up, then expired: name"
mk N_LATE "recwriter recording expired while unmounted (catch-up): name"
mk C_LATE "recwriter recording expired while unmounted: content"
mk XV_LATE "recording expired while unmounted: xattr value"
mk N_DMG "damaged kept file: name"
mk C_DMG "damaged kept file: content"
mk N_REAP "file destroyed by recctl reap: name"
mk C_REAP "file destroyed by recctl reap: content"
mk XV_REAP "file destroyed by recctl reap: xattr value"
mk N_M3 "file made after the rekey (mount 3): name"
mk C_M3 "file made after the rekey: content"
mk D_SYS "daemon mode (syslog): folder name"
mk N_SYS "daemon mode: file name before the rename"
mk N_SYS2 "daemon mode: file name after the rename, expired"
mk C_SYS "daemon mode: content"
mk XV_SYS "daemon mode: xattr value"
mk N_SYSDEL "daemon mode: file unlinked while open: name"
mk C_SYSDEL "daemon mode: file unlinked while open: content"

PATS=$WORK/markers.txt
printf '%s\n' "${MARKERS[@]}" >"$PATS"
# the UTF-16LE forms, as one PCRE alternation: "3\x00a\x00..."
RE16=$(printf '%s\n' "${MARKERS[@]}" | sed 's/./&\\x00/g' | paste -sd'|')
say "${#MARKERS[@]} markers, 16 random hex digits each"

# scan_hits PATH...: "FORM<TAB>MARKER<TAB>FILE" for every marker found in
# a file's content (raw or UTF-16LE) or in a name under PATH...
scan_hits() {
	{
		grep -r -H -a -o -F -f "$PATS" -- "$@" 2>/dev/null |
			sed -nE 's/^(.*):([0-9a-f]{16})$/raw\t\2\t\1/p'
		grep -r -H -a -o -P -- "$RE16" "$@" 2>/dev/null | tr -d '\000' |
			sed -nE 's/^(.*):([0-9a-f]{16})$/utf-16le\t\2\t\1/p'
		find "$@" -print 2>/dev/null | grep -F -f "$PATS" |
			while IFS= read -r p; do
				for m in "${MARKERS[@]}"; do
					[[ $p == *"$m"* ]] && printf 'name\t%s\t%s\n' "$m" "$p"
				done
			done
	} | sort -u
}

# scan_clean LABEL PATH...: PASS when no marker is anywhere in PATH...;
# otherwise one FAIL per marker and file (at most 20), naming the origin.
scan_clean() {
	local label=$1 hits nf nb n=0 form m f
	shift
	nf=$(find "$@" -type f 2>/dev/null | wc -l)
	nb=$(find "$@" -type f -printf '%s\n' 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
	hits=$(scan_hits "$@")
	if [ -z "$hits" ]; then
		ok "$label: no marker ($nf files, $nb bytes)"
		return 0
	fi
	while IFS=$'\t' read -r form m f; do
		n=$((n + 1))
		[ "$n" -le 20 ] || continue
		fail "$label: the marker of '${ORIGIN[$m]:-?}' ($form)" "found in $f"
	done <<<"$hits"
	[ "$n" -le 20 ] || say "... and $((n - 20)) more hits"
	return 1
}

# scan_store STAGE: every file and name of the store, and its parts.
scan_store() {
	local st=$1 n
	n=$(objects)
	check_range "$st: the store holds object files ($n)" 1 1000000 "$n"
	check_range "$st: the audit trail holds segments" 1 100000 \
		"$(find "$STORE/audit" -type f 2>/dev/null | wc -l)"
	scan_clean "$st: whole store, recursively ($(find "$STORE" -mindepth 1 -maxdepth 1 -printf '%f ' | xargs))" "$STORE"
	scan_clean "$st: objects/" "$STORE/objects"
	scan_clean "$st: audit trail segments, audit/" "$STORE/audit"
	scan_clean "$st: wrapped keys, keys/" "$STORE/keys"
	scan_clean "$st: superblock recfs.store and clock mark" "$STORE/recfs.store" "$STORE/clock"
	[ -e "$STORE/rekey.pending" ] && scan_clean "$st: rekey.pending" "$STORE/rekey.pending"
	scan_clean "$st: the mount point underneath" "$MNT"
	return 0
}

# scan_log LABEL FILE: the file is a real log (holds WANT) and clean.
scan_log() {
	local label=$1 file=$2 want=$3
	if grep -q -F -- "$want" "$file" 2>/dev/null; then
		ok "$label: is a log ($(wc -l <"$file") lines, holds '$want')"
	else
		fail "$label: is a log" "no '$want' in $file"
	fi
	scan_clean "$label" "$file"
}

RC_N=0
# rctl NAME WANT ARGS...: recctl ARGS must exit WANT within RT seconds
# (default 120); OUT and ERR are its stdout and stderr files (stderr is
# scanned later: it is recctl's log).
rctl() {
	local name=$1 want=$2 rc
	shift 2
	RC_N=$((RC_N + 1))
	OUT=$WORK/recctl-$RC_N.out
	ERR=$WORK/recctl-$RC_N.err
	timeout -k 5 "${RT:-120}" "$RECCTL" "$@" >"$OUT" 2>"$ERR"
	rc=$?
	if [ "$rc" -eq "$want" ]; then
		ok "$name"
	elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		fail "$name" "recctl $1 still running after ${RT:-120} s; killed"
	else
		fail "$name" "exit status $rc, want $want: recctl $1"
		show "$(cat "$ERR")"
	fi
}

# shown_markers: the markers that occur in stdin.
shown_markers() { grep -a -o -F -f "$PATS" | sort -u; }

# missing LIST-OF-MARKERS SHOWN: the origins of markers not shown.
missing() {
	local m out=
	for m in $1; do
		grep -q -x -F "$m" <<<"$2" || out+="${ORIGIN[$m]}; "
	done
	printf '%s' "$out"
}

# le32 VALUE: 4 bytes, little-endian.
le32() {
	# shellcheck disable=SC2059 # the format is the bytes
	printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $(($1 & 255)) $(($1 >> 8 & 255)) \
		$(($1 >> 16 & 255)) $(($1 >> 24 & 255)))"
}

# ================================================================ control
# The scanner is not blind: a marker planted in plain files is found, with
# its origin and file.
CTL=$WORK/control
mkdir -p "$CTL/sub"
{ head -c 3000 /dev/urandom; printf '%s' "$C_RAW"; head -c 3000 /dev/urandom; } >"$CTL/sub/blob"
{ head -c 100 /dev/urandom; printf '%s' "$XV_DEL" | sed 's/./&\x00/g'; } >"$CTL/utf16"
: >"$CTL/name-$N_WAV.wav"
head -c 10000 /dev/urandom >"$CTL/noise"
hits=$(scan_hits "$CTL")
TAB=$'\t'
check_eq "scanner finds a planted marker (raw bytes inside random data)" \
	"raw$TAB$C_RAW$TAB$CTL/sub/blob" "$(grep '^raw' <<<"$hits")"
check_eq "scanner finds a planted marker (UTF-16LE)" \
	"utf-16le$TAB$XV_DEL$TAB$CTL/utf16" "$(grep '^utf-16le' <<<"$hits")"
check_eq "scanner finds a planted marker (file name)" \
	"name$TAB$N_WAV$TAB$CTL/name-$N_WAV.wav" "$(grep '^name' <<<"$hits")"
out=$(scan_clean "control: scan_clean reports a planted marker" "$CTL/sub/blob")
# (a subshell: the expected FAIL line is captured, not counted)
check "control: scan_clean FAILs naming the origin and the file" \
	grep -q -F "FAIL: $T_NAME: control: scan_clean reports a planted marker: the marker of '${ORIGIN[$C_RAW]}' (raw) -- found in $CTL/sub/blob" <<<"$out"
check "control: scan_clean passes a folder of random bytes" \
	grep -q '^PASS: .*: no marker (1 files, 10000 bytes)$' <(scan_clean "noise" "$CTL/noise")
rm -rf "$CTL"

# ================================================================ mount 1
need_mount

# --- expires while mounted: a file in a folder (the folder 3 s later), and
# a file kept, sealed, then moved out again
mkdir "$M/exp-$D_EXP"
yes "$C_EXP" | head -c 7000 >"$M/exp-$D_EXP/exp-$N_EXP.wav"
setfattr -n "user.$XN_EXP" -v "$XV_EXP" "$M/exp-$D_EXP/exp-$N_EXP.wav"
yes "$C_UNK" | head -c 5000 >"$M/unk-$N_UNK.wav"
mv "$M/unk-$N_UNK.wav" "$M/keep/"
wait_for "unkeep: kept file sealed" 5 xattr_is "$M/keep/unk-$N_UNK.wav" user.recfs.state sealed
mv "$M/keep/unk-$N_UNK.wav" "$M/"

# --- a WAV by sox, a LIST/INFO/ICMT comment appended and the RIFF size
# patched in place (as recorders do); renamed, folder renamed, then kept
mkdir -p "$M/2026/11/case-$D_CASE"
W=$M/2026/11/case-$D_CASE/call-$N_WAV.wav
check "sox writes a WAV into the mount" sox -n -r 8000 -c 1 -b 16 "$W" synth 0.5 sine 440
txt="comment $C_WAV"
tl=$((${#txt} + 1))
{
	printf 'LIST'
	le32 $((4 + 8 + tl + tl % 2))
	printf 'INFOICMT'
	le32 "$tl"
	printf '%s\0' "$txt"
	[ $((tl % 2)) -eq 1 ] && printf '\0'
} >>"$W"
le32 $(($(stat -c %s "$W") - 8)) | dd of="$W" bs=1 seek=4 conv=notrunc status=none
check "the WAV holds the comment marker (read through the mount)" grep -q -a -F "$C_WAV" "$W"
check "the WAV is still a WAV to sox" soxi "$W"
setfattr -n "user.$XN_WAV" -v "$XV_OLD" "$W"
setfattr -n "user.$XN_WAV" -v "$XV_WAV" "$W"
setfattr -n "user.$XN_RM" -v "$XV_RM" "$W"
setfattr -x "user.$XN_RM" "$W"
mv "$W" "$M/2026/11/case-$D_CASE/call-$N_WAV2.wav"
mv "$M/2026/11/case-$D_CASE" "$M/2026/11/case-$D_CASE2"
mv "$M/2026/11/case-$D_CASE2" "$M/keep/"
W=$M/keep/case-$D_CASE2/call-$N_WAV2.wav
wait_for "kept WAV sealed" 5 xattr_is "$W" user.recfs.state sealed && ok "kept WAV sealed"

# --- an AIFF by sox with a comment, made in keep/, renamed there
A=$M/keep/aiff-$N_AIFF.aiff
check "sox writes an AIFF with --comment into keep/" \
	sox -n -r 8000 -c 1 -b 16 --comment "caller $C_AIFF" "$A" synth 0.3 sine 300
check "the AIFF holds the comment marker" grep -q -a -F "$C_AIFF" "$A"
mv "$A" "$M/keep/aiff-$N_AIFF2.aiff"

# --- raw marker bytes, kept
yes "$C_RAW" | head -c 60000 >"$M/raw-$N_RAW.bin"
mv "$M/raw-$N_RAW.bin" "$M/keep/"

# --- truncated, then kept
T=$M/trunc-$N_TRUNC.wav
{ yes "$C_TRUNC_KEEP" | head -c 6000; yes "$C_TRUNC_CUT" | head -c 10000; } >"$T"
truncate -s 6000 "$T"
check_eq "truncated file: 6000 bytes, the cut marker gone" "6000 0" \
	"$(stat -c %s "$T") $(grep -a -c -F "$C_TRUNC_CUT" "$T")"
mv "$T" "$M/keep/"

# --- chmod/chown on a folder and a file, then kept
mkdir "$M/perm-$D_PERM"
yes "$C_PERM" | head -c 3000 >"$M/perm-$D_PERM/perm-$N_PERM.wav"
chmod 0600 "$M/perm-$D_PERM/perm-$N_PERM.wav"
chown 1234:4321 "$M/perm-$D_PERM/perm-$N_PERM.wav" "$M/perm-$D_PERM"
chmod 0750 "$M/perm-$D_PERM"
mv "$M/perm-$D_PERM" "$M/keep/"
chmod 0640 "$M/keep/perm-$D_PERM/perm-$N_PERM.wav"

# --- a kept file to be damaged later
yes "$C_DMG" | head -c 20480 >"$M/keep/dmg-$N_DMG.bin"

# --- unlinked; unlinked while open; a folder deleted
yes "$C_DEL" | head -c 9000 >"$M/del-$N_DEL.wav"
setfattr -n user.caller -v "$XV_DEL" "$M/del-$N_DEL.wav"
cat "$M/del-$N_DEL.wav" >/dev/null
rm "$M/del-$N_DEL.wav"
yes "$C_ODEL" | head -c 5000 >"$M/odel-$N_ODEL.wav"
exec 7<"$M/odel-$N_ODEL.wav"
rm "$M/odel-$N_ODEL.wav"
check_eq "a file unlinked while open still reads" "$C_ODEL" "$(head -n 1 <&7)"
exec 7<&-
mkdir -p "$M/gone-$D_GONE/sub-$D_GONE2"
yes "$C_GONE" | head -c 4000 >"$M/gone-$D_GONE/sub-$D_GONE2/gone-$N_GONE.wav"
rm -rf "$M/gone-$D_GONE"

# --- the expiries
wait_for "expired file gone" 10 test ! -e "$M/exp-$D_EXP/exp-$N_EXP.wav" && ok "expired file gone"
wait_for "unkept file expired" 10 test ! -e "$M/unk-$N_UNK.wav" && ok "unkept file expired"
wait_for "emptied folder expired" 10 test ! -e "$M/exp-$D_EXP" && ok "emptied folder expired"

# no_shredded: no object file waits, zeroed, for its unlink (empty files
# are the daemon's spare objects)
no_shredded() {
	local f
	for f in "$STORE"/objects/*; do
		[ -s "$f" ] || continue
		[ -n "$(head -c 64 "$f" | tr -d '\000')" ] || return 1
	done
}

# --- the operator tools while mounted, with nothing due to expire and no
# destruction pending: a snapshot taken while the daemon shreds an object
# can read it half zeroed and report it damaged. verify reads through the
# mount (the daemon logs those reads).
wait_for "the destroyed objects are unlinked" 10 no_shredded
rctl "recctl status MNT: exit 0" 0 status "$M"
rctl "recctl status --config (mounted): exit 0" 0 status --config "$CONF"
rctl "recctl ls -l /keep (mounted): exit 0" 0 ls --config "$CONF" -l /keep
check "recctl ls shows the kept names (stdout, by design)" \
	grep -q -F "raw-$N_RAW.bin" "$OUT"
rctl "recctl verify (mounted): exit 0" 0 verify --config "$CONF"
rctl "recctl audit verify (mounted): exit 0" 0 audit verify --config "$CONF"

# --- a symlink and a FIFO in keep/
ln -s "tgt-$T_LNK" "$M/keep/ln-$N_LNK"
mkfifo "$M/keep/fifo-$N_FIFO"

# --- what the mount shows now: every live marker, none of the dead
LIVE="$N_WAV2 $C_WAV $XN_WAV $XV_WAV $D_CASE2 $N_AIFF2 $C_AIFF $N_RAW $C_RAW $N_TRUNC
$C_TRUNC_KEEP $D_PERM $N_PERM $C_PERM $N_LNK $T_LNK $N_FIFO $N_DMG $C_DMG"
DEAD="$N_WAV $XV_OLD $XN_RM $XV_RM $D_CASE $N_AIFF $C_TRUNC_CUT $N_DEL $C_DEL $XV_DEL
$N_ODEL $C_ODEL $D_GONE $D_GONE2 $N_GONE $C_GONE"
# mount_view: names, link targets, xattrs and contents of everything
mount_view() {
	find "$M" -print
	find "$M" -type l -exec readlink {} \;
	getfattr -R -h -d -m - --absolute-names "$M" 2>/dev/null
	find "$M" -type f -exec cat {} + 2>/dev/null
}
view=$(mount_view | shown_markers)
check_eq "through the mount: every live marker reads back" "" "$(missing "$LIVE" "$view")"
check_eq "through the mount: no deleted, replaced, renamed-away or cut marker" "" \
	"$(for m in $DEAD; do grep -x -F "$m" <<<"$view" | while read -r x; do printf '%s; ' "${ORIGIN[$x]}"; done; done)"

# While mounted, verify opens each checked node through the mount so that
# the daemon logs the read; now the store holds a FIFO (keep/fifo-*), which
# such an open(O_RDONLY) waits on for a writer.
RT=5 rctl "recctl verify (mounted, the store holds a FIFO): exit 0 within 5 s" 0 verify --config "$CONF"

# --- alive at the unmount, overdue at the next mount
mkdir "$M/late-$D_LATE"
L=$M/late-$D_LATE/late-$N_LATE.wav
"$TESTBIN/recwriter" -p 4 -p 40 -n 40 "$L"
yes "$C_LATE" | head -c 2000 >>"$L"
setfattr -n user.note -v "$XV_LATE" "$L"
t_late=$(now_ms)
umount_fs
n_late=$(objects)

# ================================================================ scan 1
rctl "recctl status (offline): exit 0" 0 status --config "$CONF"
rctl "recctl ls -l -t / (offline): exit 0" 0 ls --config "$CONF" -l -t /
rctl "recctl ls -l of the kept folder (offline): exit 0" 0 ls --config "$CONF" -l "/keep/case-$D_CASE2"
check "recctl ls -l: the sox WAV is audio of 0.5 s" grep -q -E " 0\.5s +call-$N_WAV2\.wav\$" "$OUT"
rctl "recctl verify (offline, logs its reads): exit 0" 0 verify --config "$CONF"
rctl "recctl audit verify (offline): exit 0" 0 audit verify --config "$CONF"
rctl "recctl audit --json (offline): exit 0" 0 audit --config "$CONF" --json
AUD=$OUT
# the trail recorded the names whose ciphertext the scan searches
TRAIL="$N_WAV $N_WAV2 $D_CASE $D_CASE2 $N_AIFF $N_AIFF2 $N_DEL $N_ODEL $D_GONE $N_GONE
$D_EXP $N_EXP $N_UNK $N_TRUNC $D_PERM $N_PERM $N_LATE"
check_eq "recctl audit (decrypted) shows the names of every event" "" \
	"$(missing "$TRAIL" "$(shown_markers <"$AUD")")"
check "recctl audit: the expire receipt of the expired file" \
	grep -q -E "\"event\":\"expire\",.*exp-$N_EXP\.wav" "$AUD"

S="scan 1 (after mount 1 and the recctl tools)"
scan_store "$S"
scan_log "$S: daemon stderr, mount 1" "$WORK/recfs-1.log" "mounted at"
cat "$WORK"/recctl-*.err >"$WORK/recctl-stderr-1.txt"
scan_clean "$S: recctl stderr (its log)" "$WORK/recctl-stderr-1.txt"

# ================================================================ mount 2
# past the late file's deadline: the catch-up destroys it before serving
sleep_until $((t_late + SHORT + 700))
# a content block of a kept file damaged (its object found by the id in
# its create record): reads fail and the log says so, by object id
dmg_id=$(grep -F '"event":"create",' "$AUD" | grep -F "dmg-$N_DMG.bin" | sed -nE 's/.*"id":"([0-9a-f]{32})".*/\1/p' | head -n 1)
dmg_obj=$(find "$STORE/objects" -type f -name "${dmg_id:-none}")
if [ -n "$dmg_obj" ]; then
	flip_byte "$dmg_obj" $(($(stat -c %s "$dmg_obj") - 3 * OBJ_PAGE + 100))
	ok "damaged: the kept file's object found and one byte flipped"
else
	fail "damaged: the kept file's object found" "id '$dmg_id'"
fi
need_mount
check "catch-up: the overdue recording is gone before serving" test ! -e "$L"
check_range "catch-up: the log reports it" 1 1000 \
	"$(sed -nE 's/.*caught up: ([0-9]+) expired.*/\1/p' "$LOG" | head -n 1)"
wait_for "catch-up: the overdue object destroyed" 10 objects_at_most $((n_late - 1)) &&
	ok "catch-up: the overdue object destroyed"
if [ -n "$dmg_obj" ]; then
	check_not "damaged: reading the kept file fails" cat "$M/keep/dmg-$N_DMG.bin"
	wait_for "damaged: the log names the block" 5 grep -q "does not authenticate" "$LOG" &&
		ok "damaged: the log names the block"
fi
# for recctl reap: overdue while unmounted, with the emptied folder
yes "$C_REAP" | head -c 3000 >"$M/reap-$N_REAP.wav"
setfattr -n user.note -v "$XV_REAP" "$M/reap-$N_REAP.wav"
t_reap=$(now_ms)
umount_fs
check_eq "the file for recctl reap outlived the mount" 1 \
	"$("$RECCTL" ls --config "$CONF" / 2>/dev/null | grep -c -E "^reap-$N_REAP\.wav\$")"

S="scan 2 (after the catch-up at mount 2)"
scan_store "$S"
scan_log "$S: daemon stderr, mount 2" "$WORK/recfs-2.log" "caught up"

# ================================================================ reap, rekey
sleep_until $((t_reap + SHORT + 700))
rctl "recctl reap (offline): exit 0" 0 reap --config "$CONF"
check_range "recctl reap: reaped the overdue file (and the emptied folder, unless it expired while mounted)" 1 1000 "$(sed -nE 's/^reaped ([0-9]+)$/\1/p' "$OUT")"
check_eq "recctl reap: the file and the emptied folder are gone" 0 \
	"$("$RECCTL" ls --config "$CONF" / 2>/dev/null | grep -c -E "^(reap-$N_REAP\.wav|late-$D_LATE/)\$")"
rctl "recctl verify after the damage: exit 1" 1 verify --config "$CONF"
head -c 32 /dev/urandom >"$WORK/new.key"
chmod 0600 "$WORK/new.key"
rctl "recctl rekey --new-key: exit 0" 0 rekey --config "$CONF" --new-key "$WORK/new.key"
check "rekey: re-wrapped the object keys" grep -q '^re-wrapped [1-9][0-9]* object keys' "$OUT"
write_conf "$CONF" "$STORE" "$WORK/new.key" retention.short=3s retention.keep=1h log.level=
rctl "recctl audit --json (new key): exit 0" 0 audit --config "$CONF" --json
check "recctl audit: the expire receipt written by recctl reap" \
	grep -q -E "\"event\":\"expire\",.*reap-$N_REAP\.wav" "$OUT"

S="scan 3 (after recctl reap and recctl rekey)"
scan_store "$S"
cat "$WORK"/recctl-*.err >"$WORK/recctl-stderr-3.txt"
scan_clean "$S: recctl stderr (its log), every run" "$WORK/recctl-stderr-3.txt"

# ================================================================ mount 3
need_mount
view=$(mount_view | shown_markers)
check_eq "new key: every kept marker still reads back" "" \
	"$(missing "$N_WAV2 $C_WAV $XV_WAV $D_CASE2 $N_AIFF2 $C_AIFF $N_RAW $C_RAW $C_TRUNC_KEEP $N_PERM $C_PERM $T_LNK" "$view")"
yes "$C_M3" | head -c 5000 >"$M/keep/m3-$N_M3.wav"
umount_fs

S="scan 4 (after a mount with the new key)"
scan_store "$S"
scan_log "$S: daemon stderr, mount 3" "$WORK/recfs-3.log" "unmounted"

# ================================================================ syslog
# Daemonized, recfs logs to syslog. In a private mount and pid namespace,
# /dev/log is a socket of this test (an overlay on /dev: the host's /dev is
# untouched); the namespace's end kills whatever is left in it.
PY=$(command -v python3)
SMNT=$WORK/mnt-sys
SYSLOG=$WORK/syslog.txt
SERR=$WORK/recfs-daemon.err
mkdir -p "$SMNT" "$WORK/ov/up" "$WORK/ov/wk"
: >"$SYSLOG"
cat >"$WORK/inner.sh" <<'EOF'
# runs as pid 1 of a new pid and mount namespace; prints RESULT lines
set -u
res() { printf 'RESULT\t%s\t%s\t%s\n' "$1" "$2" "${3:-}"; }
now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((10#$t / 1000)); }
waitfor() { local end=$(($(now_ms) + $1 * 1000)); shift
	until "$@" 2>/dev/null; do [ "$(now_ms)" -gt "$end" ] && return 1; sleep 0.05; done; }
mount -t overlay overlay -o "lowerdir=/dev,upperdir=$OV/up,workdir=$OV/wk" /dev ||
	{ res FAIL "daemon mode: a private /dev/log" "overlay mount failed"; exit 0; }
"$PY" -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
os.chmod("/dev/log", 0o666)
f = open(sys.argv[1], "ab", buffering=0)
while True:
    f.write(s.recv(65536) + b"\n")
' "$SYSLOG" &
lpid=$!
waitfor 10 test -S /dev/log || { res FAIL "daemon mode: a private /dev/log" "no socket"; exit 0; }
res PASS "daemon mode: a private /dev/log socket listens"
"$RECFS" --config "$CONF" "$SMNT" </dev/null >"$SERR.out" 2>"$SERR"
rc=$?
if [ "$rc" -ne 0 ] || ! mountpoint -q "$SMNT"; then
	res FAIL "daemon mode: recfs daemonizes and mounts" "exit status $rc"
	exit 0
fi
res PASS "daemon mode: recfs daemonizes and mounts"
dpid=
for p in /proc/[0-9]*; do
	[ "${p#/proc/}" != "$$" ] || continue
	tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -q -F -- "$RECFS --config" && dpid=${p#/proc/}
done
mkdir "$SMNT/sys-$D_SYS"
yes "$C_SYS" | head -c 6000 >"$SMNT/sys-$D_SYS/sys-$N_SYS.wav"
setfattr -n user.caller -v "$XV_SYS" "$SMNT/sys-$D_SYS/sys-$N_SYS.wav"
mv "$SMNT/sys-$D_SYS/sys-$N_SYS.wav" "$SMNT/sys-$D_SYS/sys-$N_SYS2.wav"
yes "$C_SYSDEL" | head -c 3000 >"$SMNT/sysdel-$N_SYSDEL.wav"
exec 7<"$SMNT/sysdel-$N_SYSDEL.wav"
rm "$SMNT/sysdel-$N_SYSDEL.wav"
head -c 100 <&7 >/dev/null
exec 7<&-
if waitfor 10 test ! -e "$SMNT/sys-$D_SYS/sys-$N_SYS2.wav"; then
	res PASS "daemon mode: a file expires"
else
	res FAIL "daemon mode: a file expires" "still there after 10 s"
fi
# the reaper's "expired N" line
waitfor 5 grep -q "expired" "$SYSLOG"
fusermount3 -u "$SMNT" || res FAIL "daemon mode: fusermount3 -u" "exit status $?"
if [ -n "$dpid" ] && waitfor 30 test ! -e "/proc/$dpid"; then
	res PASS "daemon mode: recfs exits after the unmount"
else
	res FAIL "daemon mode: recfs exits after the unmount" "pid '${dpid:-not found}'"
fi
# the last line, logged after the unmount
waitfor 5 grep -q "trail closed" "$SYSLOG"
kill "$lpid"
EOF
if [ -z "$PY" ]; then
	say "no python3: the daemon-mode syslog capture is skipped"
else
	inner=$(OV=$WORK/ov PY=$PY RECFS=$RECFS CONF=$CONF SMNT=$SMNT SYSLOG=$SYSLOG SERR=$SERR \
		D_SYS=$D_SYS N_SYS=$N_SYS N_SYS2=$N_SYS2 C_SYS=$C_SYS XV_SYS=$XV_SYS \
		N_SYSDEL=$N_SYSDEL C_SYSDEL=$C_SYSDEL \
		timeout -k 5 90 unshare --mount --propagation private --pid --mount-proc \
		--kill-child bash "$WORK/inner.sh" 2>&1)
	while IFS=$'\t' read -r tag res name detail; do
		if [ "$tag" == RESULT ] && [ "$res" == PASS ]; then
			ok "$name"
		elif [ "$tag" == RESULT ]; then
			fail "$name" "$detail"
		else
			say "inner: $tag${res:+ $res}${name:+ $name}"
		fi
	done <<<"$inner"
	grep -q -P '^RESULT\tPASS\tdaemon mode: recfs daemonizes' <<<"$inner" ||
		fail "daemon mode: ran" "no result from the namespace"
	for w in "mounted at" "expired" "unmounted" "audit: trail closed"; do
		check "syslog capture holds recfs's '$w' line" grep -q -E "recfs\[[0-9]+\]: $w" "$SYSLOG"
	done
	say "syslog capture: $(wc -l <"$SYSLOG") lines"
	scan_clean "scan 5 (daemon mode): syslog output" "$SYSLOG"
	scan_clean "scan 5 (daemon mode): stderr before daemonizing" "$SERR" "$SERR.out"
	scan_store "scan 5 (after the daemon-mode mount)"
fi

# ================================================================ elsewhere
# Files created or changed during the run outside the work directory where
# a process might drop one: /tmp and /var/tmp (two levels: other test runs'
# and builds' trees are left out), /dev/shm, /var/log, /run, and the
# daemons' working directories (this one; / once daemonized).
mapfile -t NEW < <(
	{
		find /tmp /var/tmp -xdev -maxdepth 2 -type f -newer "$WORK/stamp" 2>/dev/null
		find /dev/shm /var/log /run -xdev -type f -newer "$WORK/stamp" 2>/dev/null
		find "$PWD" / -maxdepth 1 -type f -newer "$WORK/stamp" 2>/dev/null
	} | grep -v -E "^($WORK/|/tmp/(recfs-run|recfs-test|build|bash_jobs))" | sort -u
)
if [ "${#NEW[@]}" -gt 0 ]; then
	scan_clean "new files outside the work dir (/tmp, /var/tmp, /dev/shm, /var/log, /run, cwd, /)" "${NEW[@]}"
else
	ok "new files outside the work dir (/tmp, /var/tmp, /dev/shm, /var/log, /run, cwd, /): none"
fi
