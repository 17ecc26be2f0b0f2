#!/usr/bin/env bash
# recctl against real stores (issue 6, "Tests"): status offline and while
# mounted, ls [-l] [-t], verify (healthy, one flipped content byte, while
# mounted), reap (refused while mounted, offline, and a real offline
# expiry), rekey (refused while mounted; offline, then the old key is
# refused, the data and the audit trail are intact; killed with -9 at a
# random moment and rerun: 3 rounds on a store of 300 files), keep/unkeep,
# and the audio xattrs user.recfs.duration/format for WAV files written by
# sox and by recbench, absent for a text file.
#
# Assumption (docs/format.md is the authority): an object is the file
# STORE/objects/<32 hex>, laid out as lib.sh's OBJ_* and obj_len say.
. "$(dirname "$0")/lib.sh"

T0=$(now_ms)
BUILD=${BUILD:-$(dirname "$RECFS")}
RECBENCH=$BUILD/recbench

# run CMD...: OUT = stdout, ERR = stderr, RC = exit status.
OUT=
ERR=
RC=
run() {
	OUT=$("$@" 2>"$WORK/run.err")
	RC=$?
	ERR=$(cat "$WORK/run.err")
}

# rc_is NAME WANT ARGS...: `recctl ARGS` must exit WANT. OUT, ERR and RC
# hold what it did afterwards.
rc_is() {
	local name=$1 want=$2
	shift 2
	run "$RECCTL" "$@"
	if [ "$RC" == "$want" ]; then
		ok "$name"
		return 0
	fi
	fail "$name" "want exit status $want, got $RC: recctl $*"
	show "$OUT"
	show "$ERR"
	return 1
}

# matches NAME REGEX TEXT: some line of TEXT matches REGEX (grep -E).
matches() {
	if grep -qE -- "$2" <<<"$3"; then
		ok "$1"
	else
		fail "$1" "no line matches /$2/"
		show "$3"
		return 1
	fi
}

# no_xattr NAME FILE XATTR: getfattr fails with "No such attribute", and
# the call itself gives ENODATA.
no_xattr() {
	local out rc
	out=$(getfattr --absolute-names -n "$3" --only-values -- "$2" 2>&1)
	rc=$?
	if [ "$rc" -ne 0 ] && [[ $out == *"No such attribute"* ]]; then
		ok "$1: getfattr fails"
	else
		fail "$1: getfattr fails" "exit status $rc, output '$out'"
	fi
	expect_errno "$1: ENODATA" ENODATA getxattr "$2" "$3"
}

# sums DIR: sha256 of every file under DIR, by path.
sums() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum); }

# new_key FILE: 32 random bytes, mode 0600.
new_key() {
	head -c 32 /dev/urandom >"$1" && chmod 0600 "$1"
}

sb_sum() { sha256sum <"$1/recfs.store" | cut -d' ' -f1; }

# For recctl under strace: LeakSanitizer cannot run under ptrace (an ASan
# build would exit 1), so it is off for those runs.
traced_env="ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
objects_in() { find "$1/objects" -type f | wc -l; }

HAVE_SOX=1
if ! command -v sox >/dev/null 2>&1; then
	HAVE_SOX=
	fail "sox is installed" "sox is missing: tools/deps.sh should install it; the sox checks are skipped"
fi

setup

# ================================================= a store that expires in 5 s
# Time left in seconds, and an offline reap that does reap: written first,
# reaped near the end, when its 5 s are long over.
make_store "$WORK/s" retention.short=5s
SMNT=$WORK/smnt
mkdir "$SMNT"
T_MNTS+=("$SMNT")
CONF=$WORK/s/recfs.conf MNT=$SMNT need_mount
echo "short-lived" >"$SMNT/soon.wav"
t_soon=$(now_ms)
rc_is "ls -l (5 s store): exit 0" 0 ls --config "$WORK/s/recfs.conf" -l /
read -r _ _ _ _ _ class left state _ name <<<"$(awk '$NF == "soon.wav"' <<<"$OUT")"
check_eq "ls -l (5 s store): class short" short "$class"
if [[ $left =~ ^[0-5]s$ ]]; then
	ok "ls -l (5 s store): time left in seconds ($left)"
else
	fail "ls -l (5 s store): time left in seconds" "want 0s..5s, got '$left'"
	show "$OUT"
fi
check_eq "ls -l (5 s store): state closed" closed "$state"
umount_fs

# ================================================= the main store, mounted
need_mount
if [ -n "$HAVE_SOX" ]; then
	check "sox writes a 3.5 s WAV onto the mount" sox -n -r 8000 -c 1 "$MNT/a.wav" synth 3.5 sine 440
else
	echo "no sox: not audio" >"$MNT/a.wav"
fi
echo "a text file, not audio" >"$MNT/b.txt"
echo "kept from the start" >"$MNT/keep/k.wav"
wait_for "kept file sealed" 5 xattr_is "$MNT/keep/k.wav" user.recfs.state sealed

# --- status
rc_is "status MNT: exit 0" 0 status "$MNT"
S_MNT=$OUT
matches "status MNT: mounted yes, with the mount point" "^mounted +yes $MNT\$" "$S_MNT"
matches "status MNT: 2 short files" "^short +2 files, [0-9]+ bytes\$" "$S_MNT"
matches "status MNT: 1 kept file" "^keep +1 files, 20 bytes\$" "$S_MNT"
matches "status MNT: next expiry, in 29m" \
	"^next expiry +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z \(in (29|30)m\)\$" "$S_MNT"
matches "status MNT: oldest kept recording" "^oldest kept .* /keep/k\.wav \(expires in (29|30)d\)\$" "$S_MNT"
matches "status MNT: health" "^health +0 damaged" "$S_MNT"
rc_is "status --config while mounted: exit 0" 0 status --config "$CONF"
matches "status --config while mounted: mounted yes" "^mounted +yes" "$OUT"
check_eq "status --config while mounted: same counts as status MNT" \
	"$(grep -E '^(short|keep|folders|next expiry) ' <<<"$S_MNT")" \
	"$(grep -E '^(short|keep|folders|next expiry) ' <<<"$OUT")"
rc_is "status of a folder not on a recfs: exit 1" 1 status "$REF"
matches "status of a folder not on a recfs: message" "^recctl: .*not on a mounted recfs" "$ERR"
write_conf "$WORK/nostore.conf" "$WORK/no-such-store" "$KEY"
rc_is "status on a missing store: exit 1" 1 status --config "$WORK/nostore.conf"
matches "status on a missing store: message" "^recctl: .*no-such-store" "$ERR"
check "status on a missing store: not created" test ! -e "$WORK/no-such-store"

# --- audio xattrs: sox, recbench, a text file
if [ -n "$HAVE_SOX" ]; then
	check_eq "sox WAV: user.recfs.duration" 3.50 "$(getfattr --absolute-names -n user.recfs.duration --only-values "$MNT/a.wav" 2>&1)"
	fmt=$(getfattr --absolute-names -n user.recfs.format --only-values "$MNT/a.wav" 2>&1)
	if [[ $fmt == *WAV* && $fmt == *8000Hz* && $fmt == *mono* ]]; then
		ok "sox WAV: user.recfs.format ($fmt)"
	else
		fail "sox WAV: user.recfs.format" "want WAV, 8000Hz, mono; got '$fmt'"
	fi
fi
no_xattr "text file: no user.recfs.duration" "$MNT/b.txt" user.recfs.duration
no_xattr "text file: no user.recfs.format" "$MNT/b.txt" user.recfs.format
mkdir "$MNT/bench"
run "$RECBENCH" -n 1 --duration 2 --call-seconds 1 "$MNT/bench"
if [ "$RC" -eq 0 ]; then ok "recbench -n 1 onto the mount: exit 0"; else
	fail "recbench -n 1 onto the mount: exit 0" "exit status $RC"
	show "$OUT"
	show "$ERR"
fi
mapfile -d '' -t wavs < <(find "$MNT/bench" -type f -name '*.wav' -print0 | sort -z)
nb=${#wavs[@]}
check_range "recbench: WAV files written" 1 100000 "$nb"
if [ "$nb" -gt 0 ]; then
	f=${wavs[0]}
	check_eq "recbench WAV: user.recfs.duration (1 s calls)" 1.00 \
		"$(getfattr --absolute-names -n user.recfs.duration --only-values "$f" 2>&1)"
	fmt=$(getfattr --absolute-names -n user.recfs.format --only-values "$f" 2>&1)
	if [[ $fmt == WAV* && $fmt == *PCM16* && $fmt == *" 8000Hz "* ]]; then
		ok "recbench WAV: user.recfs.format ($fmt)"
	else
		fail "recbench WAV: user.recfs.format" "want 'WAV PCM16 8000Hz ...', got '$fmt'"
	fi
	# all of them, one getfattr per attribute
	fmts=$(getfattr --absolute-names -n user.recfs.format -- "${wavs[@]}" 2>&1 |
		grep -c '^user\.recfs\.format="WAV PCM16 8000Hz ')
	check_eq "recbench WAVs: every one has format 'WAV PCM16 8000Hz ...'" "$nb" "$fmts"
	durs=$(getfattr --absolute-names -n user.recfs.duration -- "${wavs[@]}" 2>&1 | grep '^user\.recfs\.duration=')
	full=$(grep -c '="1\.00"$' <<<"$durs")
	# a call cut at the end of the run may be shorter
	check_range "recbench WAVs: duration 1.00 for all (but one call cut at the end)" $((nb - 1)) "$nb" "$full"
	check_eq "recbench WAVs: every one has a duration of at most 1.00" "$nb" \
		"$(grep -cE '="(0\.[0-9]{2}|1\.00)"$' <<<"$durs")"
fi

# --- keep / unkeep
mkdir -p "$MNT/2026/11"
echo "keep me for a while" >"$MNT/2026/11/c.wav"
rc_is "keep PATH: exit 0" 0 keep "$MNT/2026/11/c.wav"
check "keep: the file is in keep/" test -f "$MNT/keep/c.wav"
check "keep: the file left its folder" test ! -e "$MNT/2026/11/c.wav"
check_eq "keep: retention=keep" keep "$(xget "$MNT/keep/c.wav" user.recfs.retention)"
rc_is "unkeep PATH: exit 0" 0 unkeep "$MNT/keep/c.wav"
check "unkeep: the file is in the root" test -f "$MNT/c.wav"
check "unkeep: the file left keep/" test ! -e "$MNT/keep/c.wav"
check_eq "unkeep: retention=short" short "$(xget "$MNT/c.wav" user.recfs.retention)"
check_eq "keep/unkeep: content unchanged" "keep me for a while" "$(cat "$MNT/c.wav")"
echo x >"$REF/x.wav"
rc_is "keep of a file not on a recfs: exit 1" 1 keep "$REF/x.wav"
check "keep of a file not on a recfs: left alone" test -f "$REF/x.wav"
rc_is "keep without a PATH: exit 2" 2 keep

# --- reap and rekey refuse while mounted
new_key "$WORK/new.key"
SB0=$(sb_sum "$STORE")
rc_is "reap while mounted: refused, exit 3" 3 reap --config "$CONF"
matches "reap while mounted: message" "^recctl: .*in use" "$ERR"
rc_is "rekey while mounted: refused, exit 3" 3 rekey --config "$CONF" --new-key "$WORK/new.key"
matches "rekey while mounted: message" "^recctl: .*in use" "$ERR"
check "rekey while mounted: no rekey.pending" test ! -e "$STORE/rekey.pending"
check_eq "rekey while mounted: superblock unchanged" "$SB0" "$(sb_sum "$STORE")"

# --- verify while mounted: read-only
# Folder timestamps reach the store within a second (housekeeping): let
# them land first, so only verify could change anything.
sleep 1.5
O0=$(store_digest "$STORE/objects")
rc_is "verify while mounted: exit 0" 0 verify --config "$CONF"
matches "verify while mounted: 0 damaged" "^checked +[0-9]+ objects, [0-9]+ bytes of content: 0 damaged\$" "$OUT"
check_eq "verify while mounted: no object changed" "$O0" "$(store_digest "$STORE/objects")"
check_eq "verify while mounted: the mount still serves" "a text file, not audio" "$(cat "$MNT/b.txt")"

# --- verify while mounted, beside a recording fsynced after every frame:
# the daemon rewrites its last block in place, which verify must not take
# for damage (it did, when the block grew between its taking the length
# and reading the block).
FRAME=$(head -c 320 /dev/zero | tr '\0' x)
steps=(o:wronly,creat,append:0644)
for ((i = 0; i < 500; i++)); do steps+=("W:$FRAME" y); done
# One call after another until told to stop.
while [ ! -e "$WORK/live.stop" ] &&
	"$TESTBIN/fsop" seq "$MNT/live.raw" "${steps[@]}" c >/dev/null 2>&1; do :; done &
LIVE=$!
T_PIDS+=("$LIVE")
sleep 0.5
live_bad=0
for ((runs = 0; runs < 10; runs++)); do
	# Nor a message about a block that then read well.
	if ! "$RECCTL" verify --config "$CONF" >"$WORK/verify.out" 2>&1 ||
		grep -q "does not authenticate" "$WORK/verify.out"; then
		live_bad=$((live_bad + 1))
		cp "$WORK/verify.out" "$WORK/verify.bad"
	fi
	sleep 0.1
done
check "verify beside a live recording: it was still recording" kill -0 "$LIVE"
if ! check_eq "verify beside a live recording: no run of 10 reports damage" 0 "$live_bad"; then
	sed 's/^/    | /' "$WORK/verify.bad"
fi
touch "$WORK/live.stop"
wait "$LIVE"
rm -f "$MNT/live.raw"

# --- ls: z-first.wav closes before a-later.wav, so it expires first
echo first >"$MNT/z-first.wav"
sleep 0.2
echo later >"$MNT/a-later.wav"
rc_is "ls /: exit 0" 0 ls --config "$CONF" /
check_eq "ls /: the names the mount shows (folders with /)" "$(ls -1p "$MNT")" "$OUT"
rc_is "ls -l /: exit 0" 0 ls --config "$CONF" -l /
L=$OUT
matches "ls -l: header" "^mode +uid +gid +size +modified +class +left +state +duration +name\$" "$L"
read -r _ _ _ size _ class left state dur _ <<<"$(awk '$NF == "a.wav"' <<<"$L")"
check_eq "ls -l: a.wav size" "$(stat -c %s "$MNT/a.wav")" "$size"
check_eq "ls -l: a.wav class" short "$class"
if [[ $left =~ ^(29|30)m$ ]]; then
	ok "ls -l: a.wav time left ($left)"
else
	fail "ls -l: a.wav time left" "want 29m, got '$left'"
fi
check_eq "ls -l: a.wav state" closed "$state"
[ -n "$HAVE_SOX" ] && check_eq "ls -l: a.wav duration (sox, 3.5 s)" 3.5s "$dur"
read -r _ _ _ _ _ class _ _ dur _ <<<"$(awk '$NF == "b.txt"' <<<"$L")"
check_eq "ls -l: b.txt duration -" - "$dur"
matches "ls -l: keep/ is a folder of class keep" "^040[0-7]{3} .* keep +- +- +- +keep/\$" "$L"
rc_is "ls -l /keep: exit 0" 0 ls --config "$CONF" -l /keep
read -r _ _ _ _ _ class left state dur _ <<<"$(awk '$NF == "k.wav"' <<<"$OUT")"
check_eq "ls -l /keep: k.wav class keep" keep "$class"
if [[ $left =~ ^(29|30)d$ ]]; then
	ok "ls -l /keep: k.wav time left ($left)"
else
	fail "ls -l /keep: k.wav time left" "want 29d, got '$left'"
fi
check_eq "ls -l /keep: k.wav state" sealed "$state"
check_eq "ls -l /keep: the header and k.wav only" 2 "$(wc -l <<<"$OUT")"
rc_is "ls -l /bench: exit 0" 0 ls --config "$CONF" -l /bench
matches "ls -l /bench: a recbench WAV of 1.0s" " 1\.0s rb-[^ ]+\.wav\$" "$OUT"
rc_is "ls -l -t /: exit 0" 0 ls --config "$CONF" -l -t /
LT=$OUT
pos() { awk -v n="$2" '$NF == n { print NR; exit }' <<<"$1"; }
zf=$(pos "$LT" z-first.wav) al=$(pos "$LT" a-later.wav)
if [ -n "$zf" ] && [ -n "$al" ] && [ "$zf" -lt "$al" ]; then
	ok "ls -l -t: the file closed first comes first"
else
	fail "ls -l -t: the file closed first comes first" "z-first.wav at line '$zf', a-later.wav at '$al'"
	show "$LT"
fi
zf=$(pos "$L" z-first.wav) al=$(pos "$L" a-later.wav)
if [ -n "$zf" ] && [ -n "$al" ] && [ "$al" -lt "$zf" ]; then
	ok "ls -l (no -t): by name"
else
	fail "ls -l (no -t): by name" "a-later.wav at line '$al', z-first.wav at '$zf'"
fi
# folders (no deadline) after every file
last_file=$(awk 'NR > 1 && $1 !~ /^04/ { n = NR } END { print n + 0 }' <<<"$LT")
first_dir=$(awk 'NR > 1 && $1 ~ /^04/ { print NR; exit }' <<<"$LT")
if [ -n "$first_dir" ] && [ "$last_file" -lt "$first_dir" ]; then
	ok "ls -l -t: folders (nothing due) last"
else
	fail "ls -l -t: folders (nothing due) last" "last file at line $last_file, first folder at '$first_dir'"
fi
rc_is "ls -lt: exit 0" 0 ls --config "$CONF" -lt /
check_eq "ls -lt equals ls -l -t (but for the time column)" \
	"$(awk '{ $7 = ""; print }' <<<"$LT")" "$(awk '{ $7 = ""; print }' <<<"$OUT")"
rc_is "ls -l of one file: exit 0" 0 ls --config "$CONF" -l /b.txt
check_eq "ls -l of one file: one line" b.txt "$(awk '{ print $NF }' <<<"$OUT")"
rc_is "ls of a missing path: exit 1" 1 ls --config "$CONF" -l /no/such
matches "ls of a missing path: message" "^recctl: /no/such: no such file" "$ERR"

# --- a file big enough to damage one of its blocks later
BIG=200000
head -c "$BIG" /dev/urandom >"$MNT/big.bin"
BIG_OBJ_SIZE=$(obj_len "$BIG")
SUMS0=$(sums "$MNT")
umount_fs

# ================================================= the main store, offline
rc_is "status --config offline: exit 0" 0 status --config "$CONF"
matches "status offline: mounted no" "^mounted +no\$" "$OUT"
matches "status offline: 1 kept file" "^keep +1 files, " "$OUT"
matches "status offline: next expiry" "^next expiry +[0-9]{4}-" "$OUT"
n_obj=$(objects)
rc_is "reap offline: exit 0" 0 reap --config "$CONF"
matches "reap offline: nothing due" "^reaped 0\$" "$OUT"
check_eq "reap offline: nothing destroyed" "$n_obj" "$(objects)"
# recctl_reads: recctl's reads of b.txt in the trail (the verifies so far
# ran on the mounted store: the daemon logged those).
recctl_reads() {
	"$RECCTL" audit --config "$CONF" --event close-read --path /b.txt --json 2>/dev/null |
		grep -c '"comm":"recctl"'
}
reads0=$(recctl_reads)
rc_is "verify offline, healthy store: exit 0" 0 verify --config "$CONF"
matches "verify offline: 0 damaged" "^checked +[0-9]+ objects, [0-9]+ bytes of content: 0 damaged\$" "$OUT"
# Its reads are accountable: recctl appends them to the trail itself.
check_eq "verify offline: its read of b.txt is in the trail" $((reads0 + 1)) "$(recctl_reads)"

# A daemon may mount while verify reads a stopped store: verify holds the
# store's lock only to append its reads at the end (systemd gives a
# daemon that cannot mount five tries). Every pread of recctl is slowed
# by 2 ms (strace; some 3 500 of them here, so about 7 s) so that the
# mount lands inside the walk; verify's reads then reach the trail
# through the mount.
tv=$(now_ms)
env "$traced_env" strace -qq -o /dev/null -e trace=pread64 \
	-e inject=pread64:delay_enter=2000 \
	"$RECCTL" verify --config "$CONF" >"$WORK/slow-verify.out" 2>&1 &
VP=$!
T_PIDS+=("$VP")
sleep 1
if mount_fs; then
	ok "a daemon mounts while verify reads the stopped store"
	check "verify was still reading" kill -0 "$VP"
	wait "$VP"
	check_eq "that verify: exit 0" 0 "$?"
	forget_pid "$VP"
	say "the slowed verify took $(($(now_ms) - tv)) ms"
	umount_fs
	check_eq "that verify: its read of b.txt reached the trail through the mount" \
		$((reads0 + 2)) "$(recctl_reads)"
else
	fail "a daemon mounts while verify reads the stopped store"
	kill_pid "$VP"
fi

# --- verify finds a flipped byte in a content block, by path and id
mapfile -t cand < <(find "$STORE/objects" -type f -size "${BIG_OBJ_SIZE}c")
if check_eq "the object of big.bin, found by its size ($BIG_OBJ_SIZE bytes)" 1 "${#cand[@]}"; then
	obj=${cand[0]}
	hex=$(basename "$obj")
	at=$((OBJ_DATA_OFF + 2 * OBJ_PAGE + 100))
	flip_byte "$obj" "$at"
	rc_is "verify, a byte flipped in block 2: exit 1" 1 verify --config "$CONF"
	matches "verify: a 'damaged' line names big.bin and its object" \
		"^damaged +/big\.bin \(object $hex\)" "$OUT"
	check_eq "verify: only big.bin damaged" 1 "$(grep -c '^damaged ' <<<"$OUT")"
	matches "verify: summary says 1 damaged" "^checked .*: 1 damaged\$" "$OUT"
	flip_byte "$obj" "$at"
	rc_is "verify, the byte restored: exit 0" 0 verify --config "$CONF"
fi

# --- rekey, offline
SB0=$(sb_sum "$STORE")
rc_is "rekey without --new-key: exit 2" 2 rekey --config "$CONF"
head -c 16 /dev/urandom >"$WORK/short.key"
chmod 0600 "$WORK/short.key"
rc_is "rekey with a 16-byte new key: exit 1" 1 rekey --config "$CONF" --new-key "$WORK/short.key"
matches "rekey with a 16-byte new key: message" "^recctl: .*short\.key" "$ERR"
check_eq "refused rekeys: superblock unchanged" "$SB0" "$(sb_sum "$STORE")"
check "refused rekeys: no rekey.pending" test ! -e "$STORE/rekey.pending"
cp "$CONF" "$WORK/old.conf"
rc_is "rekey --new-key offline: exit 0" 0 rekey --config "$CONF" --new-key "$WORK/new.key"
matches "rekey: re-wrapped every object key, none damaged" "^re-wrapped $(objects) object keys \(0 damaged" "$OUT"
check "rekey: rekey.pending removed" test ! -e "$STORE/rekey.pending"
# The command an admin reruns when unsure whether it finished.
rc_is "rekey: the same command again after it completed: exit 0" 0 \
	rekey --config "$CONF" --new-key "$WORK/new.key"
expect_refused "old key after the rekey" "$WORK/old.conf" "$MNT" "wrong key"
rc_is "old key after the rekey: recctl status refused, exit 1" 1 status --config "$WORK/old.conf"
matches "old key after the rekey: recctl says wrong key" "^recctl: wrong key" "$ERR"
write_conf "$CONF" "$STORE" "$WORK/new.key"
need_mount
check_eq "new key: every file reads back byte-identical (sha256)" "$SUMS0" "$(sums "$MNT")"
[ -n "$HAVE_SOX" ] && check_eq "new key: sox WAV duration still 3.50" 3.50 "$(xget "$MNT/a.wav" user.recfs.duration)"
umount_fs
rc_is "new key: verify exit 0" 0 verify --config "$CONF"
rc_is "new key: audit verify exit 0" 0 audit verify --config "$CONF"
rc_is "audit: the rekey is in the trail" 0 audit --config "$CONF" --event rekey
rk=$(grep -m1 ' rekey ' <<<"$OUT")
if ms=$(iso_ms "${rk%% *}"); then
	check_range "audit: the rekey record carries the time it happened (ms)" $((T0 - 60000)) $(($(now_ms) + 60000)) "$ms"
else
	fail "audit: the rekey record has an ISO-8601 time" "got '$rk'"
fi

# ================================================= the 5 s store: a real reap
sleep_until $((t_soon + 5000 + 500))
n_obj=$(find "$WORK/s/store/objects" -type f | wc -l)
rc_is "reap offline, one file past its time: exit 0" 0 reap --config "$WORK/s/recfs.conf"
matches "reap offline: reaped 1" "^reaped 1\$" "$OUT"
check_eq "reap offline: its object destroyed" $((n_obj - 1)) "$(find "$WORK/s/store/objects" -type f | wc -l)"
rc_is "after the reap: ls exit 0" 0 ls --config "$WORK/s/recfs.conf" /
check_eq "after the reap: soon.wav gone" "" "$(grep -x soon.wav <<<"$OUT")"

# ================================================= rekey killed with -9, rerun
RDIR=$WORK/r
RSTORE=$RDIR/store
RMNT=$WORK/rmnt
make_store "$RDIR"
mkdir "$RMNT"
T_MNTS+=("$RMNT")
CONF=$RDIR/recfs.conf MNT=$RMNT need_mount
for ((i = 1; i <= 300; i++)); do
	printf 'recording %d of 300, %d\n' "$i" "$RANDOM" >"$RMNT/r$i.wav"
done
RSUMS=$(sums "$RMNT")
check_eq "300 files written" 300 "$(find "$RMNT" -type f | wc -l)"
umount_fs

# ours PID: a child of this shell, still running (bash reaps its children
# on its own, so a PID that ended may already belong to someone else).
ours() {
	local k v ppid='' state=''
	{ while read -r k v _; do
		case $k in
		State:) state=$v ;;
		PPid:) ppid=$v ;;
		esac
	done <"/proc/$1/status"; } 2>/dev/null
	[ "$ppid" == "$$" ] && [ -n "$state" ] && [ "$state" != Z ]
}

# nap MS: sleep without starting a process (a read that times out on a
# FIFO nobody writes to), so short delays stay short on a busy machine.
mkfifo "$WORK/never"
exec 9<>"$WORK/never"
nap() {
	local d
	printf -v d '%d.%03d' $(($1 / 1000)) $(($1 % 1000))
	read -r -t "$d" -u 9 _
	return 0
}

# Each round: the current key -> a new one, killed with -9 after a random
# 20..80 ms. Should the rotation not have begun by then (a slow start on a
# busy machine: no rekey.pending yet), the kill waits for it to begin, so
# that it lands inside the rotation.
key=$RDIR/key
for round in 1 2 3; do
	R="interrupted rekey $round"
	conf=$RDIR/round$round.conf # the current key, as the admin has it
	write_conf "$conf" "$RSTORE" "$key"
	new=$RDIR/key$round
	new_key "$new"
	sb=$(sb_sum "$RSTORE")
	objs0=$(sums "$RSTORE/objects")
	delay=$((20 + RANDOM % 61))
	t=$(now_ms)
	"$RECCTL" rekey --config "$conf" --new-key "$new" >"$WORK/rekey$round.out" 2>&1 &
	pid=$!
	T_PIDS+=("$pid")
	nap "$delay"
	# (no process is started between the start and the kill)
	w=0
	while [ ! -e "$RSTORE/rekey.pending" ] && ours "$pid" && [ "$w" -lt 10000 ]; do
		nap 2
		w=$((w + 2))
	done
	ours "$pid" && kill -KILL "$pid"
	t=$(($(now_ms) - t))
	wait "$pid" 2>/dev/null
	rc=$?
	forget_pid "$pid"
	if [ -e "$RSTORE/rekey.pending" ]; then
		[ "$(sb_sum "$RSTORE")" == "$sb" ] && where="before the switch" || where="after the switch"
	else
		[ "$(sb_sum "$RSTORE")" == "$sb" ] && where="not begun" || where=finished
	fi
	changed=$(diff <(echo "$objs0") <(sums "$RSTORE/objects") | grep -c '^>')
	case $rc in
	137) say "$R: killed after ${t} ms ($where; $changed of $(objects_in "$RSTORE") objects re-wrapped)" ;;
	0)
		say "$R: it finished before the kill at ${t} ms; the round counts all the same"
		check_eq "$R: exit 0 means the rotation finished" finished "$where"
		;;
	*)
		fail "$R: rekey exit status" "$rc"
		show "$(cat "$WORK/rekey$round.out")"
		;;
	esac
	case $where in
	"before the switch")
		expect_refused "$R: old key" "$conf" "$RMNT" "key rotation .*was interrupted"
		;;
	"after the switch" | finished)
		expect_refused "$R: old key (the superblock switched)" "$conf" "$RMNT" "wrong key"
		;;
	"not begun")
		rc_is "$R: killed before it began: the old key still opens the store" 0 status --config "$conf"
		;;
	esac
	if [ -e "$RSTORE/rekey.pending" ]; then
		write_conf "$RDIR/try-new.conf" "$RSTORE" "$new"
		expect_refused "$R: new key before the rerun" "$RDIR/try-new.conf" "$RMNT" \
			"key rotation .*was interrupted|wrong key"
	fi
	rc_is "$R: rerunning the same rekey command: exit 0" 0 rekey --config "$conf" --new-key "$new"
	check "$R: rekey.pending gone after the rerun" test ! -e "$RSTORE/rekey.pending"
	key=$new
	write_conf "$RDIR/recfs.conf" "$RSTORE" "$key"
	if CONF=$RDIR/recfs.conf MNT=$RMNT mount_fs; then
		check_eq "$R: every file reads back identical with the new key" "$RSUMS" "$(sums "$RMNT")"
		umount_fs
	fi
done
exec 9<&-

# A rekey killed between its switch to the new key and putting the clock
# mark it wrote under that key in place (rename clock.new -> clock): the
# mark must still authenticate, for the rerun and for the next mount. A
# first rekey, traced, tells which rename that is; the second is killed
# there (strace fault injection).
R="rekey killed before the clock mark's rename"
keyA=$RDIR/keyA keyB=$RDIR/keyB
new_key "$keyA"
new_key "$keyB"
write_conf "$RDIR/a.conf" "$RSTORE" "$keyA"
check "$R: the store has a clock mark" test -s "$RSTORE/clock"
env "$traced_env" strace -qq -o "$WORK/renames" -e trace=rename,renameat,renameat2 \
	"$RECCTL" rekey --config "$RDIR/recfs.conf" --new-key "$keyA" >/dev/null 2>&1
check_eq "$R: a traced rekey: exit 0" 0 "$?"
nth=$(grep -n 'clock\.new' "$WORK/renames" | head -1 | cut -d: -f1)
call=$(grep -m1 'clock\.new' "$WORK/renames" | sed 's/(.*//')
if check "$R: the rekey renames clock.new into place" test -n "$nth"; then
	env "$traced_env" strace -qq -o /dev/null -e trace="$call" \
		-e inject="$call":error=EINTR:signal=KILL:when="$nth" \
		"$RECCTL" rekey --config "$RDIR/a.conf" --new-key "$keyB" >/dev/null 2>&1
	check "$R: killed after the switch (rekey.pending, clock.new left)" \
		test -e "$RSTORE/rekey.pending" -a -e "$RSTORE/clock.new"
	rc_is "$R: rerunning it: exit 0" 0 rekey --config "$RDIR/a.conf" --new-key "$keyB"
	check_not "$R: the rerun read the mark" grep -q "clock mark does not" <<<"$ERR"
	check "$R: clock.new gone after the rerun" test ! -e "$RSTORE/clock.new"
	write_conf "$RDIR/recfs.conf" "$RSTORE" "$keyB"
	if CONF=$RDIR/recfs.conf MNT=$RMNT mount_fs; then
		check_not "$R: the mount read the mark" grep -q "clock mark does not" "$LOG"
		umount_fs
	fi
fi
rc_is "after the interrupted rekeys: verify exit 0" 0 verify --config "$RDIR/recfs.conf"
matches "after the interrupted rekeys: 0 damaged" ": 0 damaged\$" "$OUT"
rc_is "after the interrupted rekeys: audit verify exit 0" 0 audit verify --config "$RDIR/recfs.conf"

say "run time $(($(now_ms) - T0)) ms"
