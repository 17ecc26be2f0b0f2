#!/usr/bin/env bash
# The audit trail (docs/audit.md, issue 7), with short = 3 s: every event
# type comes from the real action through the mount (echo, sox, cat, cp,
# mv into and out of keep/, chmod, chown, rm, expiry by the clock, a
# flipped content byte, mount/unmount, catch-up) and shows in
# `recctl audit --json`, with the caller's uid for a non-root writer;
# the filters --path, --uid, --event, --since and --until; the chain
# verifies, and copies of the store with a flipped byte, a record cut out,
# two records swapped, a middle segment removed or shortened are reported
# at the right position; segments older than [audit] keep vanish; 32
# concurrent writers leave complete records; [audit] enabled = off writes
# nothing; the trail holds none of the marker names in plaintext.
. "$(dirname "$0")/lib.sh"

SHORT=3000
setup retention.short=3s retention.keep=1h
M=$MNT
PHONE="+4512345678"
CPR="010203-1234"
NPAR=32
PARSIZE=100000

audit() { "$RECCTL" audit --config "$CONF" "$@"; }

# jget LINE KEY: a field of one JSON line (string or number), or nothing.
jget() {
	local re_s="\"$2\":\"([^\"]*)\"" re_n="\"$2\":(-?[0-9]+)"
	if [[ $1 =~ $re_s ]]; then
		printf '%s\n' "${BASH_REMATCH[1]}"
	elif [[ $1 =~ $re_n ]]; then
		printf '%s\n' "${BASH_REMATCH[1]}"
	fi
}

# recs EVENT PATH [FILE]: the JSON lines of EVENT whose path is PATH.
recs() {
	grep -F "\"event\":\"$1\"," "${3:-$J}" | grep -F "\"path\":\"$2\""
}

# has_rec NAME EVENT PATH [GREP-F-PATTERN]: PASS when such a record exists
# (also holding the pattern, when given); REC is the last one.
has_rec() {
	if [ -n "${4:-}" ]; then
		REC=$(recs "$2" "$3" | grep -F -- "$4" | tail -n 1)
	else
		REC=$(recs "$2" "$3" | tail -n 1)
	fi
	if [ -n "$REC" ]; then
		ok "$1"
	else
		fail "$1" "no \"$2\" record for $3${4:+ with $4}"
		return 1
	fi
}

# field_is NAME KEY WANT: a field of REC.
field_is() { check_eq "$1" "$3" "$(jget "$REC" "$2")"; }

# lineno EVENT N: the line number in $J of the Nth record of EVENT.
lineno() { grep -n -F "\"event\":\"$1\"," "$J" | sed -n "${2}p" | cut -d: -f1; }

# frames SEGMENT: "START END" of each complete frame (docs/audit.md:
# 128-byte header, frames of u32 L, L bytes of sealed box, 32-byte MAC).
# L - 40 is a multiple of 256, so every frame starts at a multiple of 4:
# one od gives all the u32 that can be a length.
frames() {
	local -a w
	local size off=128 len
	size=$(stat -c %s "$1")
	mapfile -t w < <(od -An -v -tu4 -w4 "$1" | tr -d ' ')
	while [ $((off + 4)) -le "$size" ]; do
		len=${w[off / 4]}
		[ $((off + 4 + len + 32)) -le "$size" ] || break
		echo "$off $((off + 4 + len + 32))"
		off=$((off + 4 + len + 32))
	done
}

# segments DIR: the segment file names of a store's audit/ folder, in order.
segments() {
	find "$1/audit" -maxdepth 1 -type f -printf '%f\n' 2>/dev/null |
		grep -E '^[0-9]{8,}-[0-9]{4}-[0-9]{2}-[0-9]{2}$' | sort
}

# copy_store NAME: a copy of the store in WORK/NAME; CSTORE, CCONF.
copy_store() {
	local d=$WORK/$1
	mkdir -p "$d"
	cp -a "$STORE" "$d/store" || bail "copy_store $1: cp -a failed"
	write_conf "$d/recfs.conf" "$d/store" "$KEY"
	CSTORE=$d/store
	CCONF=$d/recfs.conf
}

# expect_break NAME CONF WANT: `recctl audit verify` exits 1 and its
# output holds WANT.
expect_break() {
	local out rc
	out=$("$RECCTL" audit verify --config "$2" 2>&1)
	rc=$?
	check_eq "$1: verify exits 1" 1 "$rc"
	if [[ $out == *"$3"* ]]; then
		ok "$1: verify names $3"
	else
		fail "$1: verify names $3" "got: $out"
	fi
	say "$1: $(head -n 1 <<<"$out")"
}

# ================================================================ mount 1
need_mount

# --- create (echo, sox), chmod, chown, rename, unlink
echo hello >"$M/a.wav"
sox -q -n -r 8000 -c 1 -b 16 "$M/tone.wav" synth 0.5 sine 440 ||
	fail "sox writes through the mount"
chmod 0600 "$M/a.wav"
chown 12:34 "$M/a.wav"
mkdir "$M/sub"
mv "$M/a.wav" "$M/sub/b.wav"
rm "$M/sub/b.wav"

# --- a rename over a file erases it; an exchange moves both
echo old >"$M/over.wav"
echo new >"$M/src.wav"
mv "$M/src.wav" "$M/over.wav"
echo x1 >"$M/x1.wav"
echo x2 >"$M/keep/x2.wav"
check "renameat2 RENAME_EXCHANGE of x1.wav and keep/x2.wav" \
	fsop rename "$M/x1.wav" "$M/keep/x2.wav" exchange

# --- read 1000 bytes, copy
head -c 1000 /dev/urandom >"$REF/r1000.bin"
cp "$REF/r1000.bin" "$M/r1000.bin"
t_r=$(now_ms)
cat "$M/r1000.bin" >"$WORK/cat.out"
check "cat reads the 1000 bytes" cmp "$WORK/cat.out" "$REF/r1000.bin"
cp "$M/r1000.bin" "$M/copy.bin"
t_c=$(now_ms)

# --- keep, seal, unkeep
echo "keep me" >"$M/k.wav"
mv "$M/k.wav" "$M/keep/k.wav"
wait_for "kept file sealed" 3 xattr_is "$M/keep/k.wav" user.recfs.state sealed && ok "kept file sealed"
ksum=$(sha256sum <"$M/keep/k.wav" | cut -d' ' -f1)
mv "$M/keep/k.wav" "$M/k2.wav"

# --- a kept file of 5 blocks, damaged later
head -c 20480 /dev/urandom >"$M/keep/dmg.wav"

# --- marker names: a caller's number and a CPR-like number
mkdir "$M/patient-$CPR"
echo call >"$M/patient-$CPR/call-$PHONE.wav"
cat "$M/patient-$CPR/call-$PHONE.wav" >/dev/null
mv "$M/patient-$CPR/call-$PHONE.wav" "$M/patient-$CPR/renamed.wav"

# --- a non-root caller
mkdir "$M/pub"
chmod 0777 "$M/pub"
# shellcheck disable=SC2016 # $1 is the inner shell's
check "uid 12345 creates a file in a 0777 folder" \
	setpriv --reuid=12345 --regid=12345 --clear-groups sh -c 'echo x >"$1"' sh "$M/pub/u12345.wav"

# --- 32 concurrent writers (in keep/: they outlive short = 3 s)
mkdir "$M/keep/par"
check "parwrite: $NPAR concurrent writers" "$TESTBIN/parwrite" "$M/keep/par" $NPAR $PARSIZE

# --- expiry by the clock
wait_for "r1000.bin expires" 10 test ! -e "$M/r1000.bin" && ok "r1000.bin expires"
wait_for "copy.bin expires" 10 test ! -e "$M/copy.bin" && ok "copy.bin expires"

# --- overdue while unmounted: caught up at the next mount
echo o1 >"$M/o1.wav"
echo o2 >"$M/o2.wav"
t_o=$(now_ms)
umount_fs

# the first whole second after the unmount splits the trail in two
split_s=$(($(now_ms) / 1000 + 1))
SPLIT=$(date -u -d "@$split_s" +%Y-%m-%dT%H:%M:%SZ)
SPLIT9=${SPLIT%Z}.000000000Z

# --- damage dmg.wav's first content block, the daemon stopped
J1=$WORK/j1.json
audit --json >"$J1" 2>"$WORK/j1.err" || fail "recctl audit after unmount 1" "$(cat "$WORK/j1.err")"
dmg_id=$(jget "$(recs create /keep/dmg.wav "$J1" | tail -n 1)" id)
dmg_obj=
[ -n "$dmg_id" ] && dmg_obj=$(find "$STORE/objects" -type f -name "$dmg_id" | head -n 1)
if [ -z "$dmg_obj" ]; then
	say "no object named by the create record's id '$dmg_id'; looking by size"
	dmg_obj=$(find "$STORE/objects" -type f -size "$(obj_len 20480)c" | head -n 1)
fi
[ -n "$dmg_obj" ] || bail "damaged: the object of keep/dmg.wav is found"
flip_byte "$dmg_obj" $((OBJ_DATA_OFF + 100)) # content block 0

sleep_until $((t_o + SHORT + 800))
sleep_until $((split_s * 1000 + 100))

# ================================================================ mount 2
need_mount
expect_errno "damaged: reading the flipped block gives EIO" EIO read "$M/keep/dmg.wav" 0 4096
check_not "damaged: cat fails" cat "$M/keep/dmg.wav"
check "overdue o1.wav is gone" test ! -e "$M/o1.wav"
umount_fs

# ================================================================ mount 3
# nothing but mount and unmount: a third segment
need_mount
umount_fs

J=$WORK/all.json
audit --json >"$J" 2>"$WORK/all.err"
check_eq "recctl audit --json exits 0" 0 $?
show "$(cat "$WORK/all.err")"
total=$(wc -l <"$J")
say "the trail holds $total records"
check_eq "every line is one JSON object with time, event, uid, gid, pid, comm, path" 0 \
	"$(grep -c -v -E '^\{"time":"[0-9T:.-]+Z","event":"[a-z-]+","uid":[0-9]+,"gid":[0-9]+,"pid":-?[0-9]+,"comm":"[^"]*","path":"[^"]*".*\}$' "$J")"

# --- create, open-write, close-write, chmod, chown, rename, unlink
has_rec "create: echo >a.wav" create /a.wav && field_is "create: uid 0" uid 0
has_rec "open-write: a.wav" open-write /a.wav
has_rec "close-write: a.wav" close-write /a.wav && field_is "close-write: size 6" size 6
has_rec "create: sox tone.wav" create /tone.wav '"comm":"sox"'
if has_rec "close-write: tone.wav" close-write /tone.wav; then
	d=$(jget "$REC" duration_ms)
	check_range "close-write: tone.wav duration_ms about 500" 450 550 "${d:-none}"
fi
has_rec "chmod: a.wav" chmod /a.wav && field_is "chmod: mode 0600 (384)" mode 384
if has_rec "chown: a.wav" chown /a.wav; then
	field_is "chown: uid2 12" uid2 12
	field_is "chown: gid2 34" gid2 34
fi
has_rec "rename: a.wav -> sub/b.wav" rename /a.wav '"path2":"/sub/b.wav"'
has_rec "unlink: rm sub/b.wav" unlink /sub/b.wav

# --- rename over, exchange
has_rec "create: the first over.wav" create /over.wav
over_id=$(jget "$REC" id)
if has_rec "rename over: a deletion receipt for the over.wav it replaced" unlink /over.wav; then
	field_is "rename over: the receipt names the replaced file's id" id "${over_id:-none}"
fi
has_rec "rename over: src.wav -> over.wav" rename /src.wav '"path2":"/over.wav"'
has_rec "exchange: x1.wav into keep/" keep /x1.wav '"path2":"/keep/x2.wav"'
has_rec "exchange: keep/x2.wav out" unkeep /keep/x2.wav '"path2":"/x1.wav"'

# --- open-read, close-read with bytes, cp
has_rec "open-read: cat r1000.bin" open-read /r1000.bin '"comm":"cat"'
has_rec "close-read: cat r1000.bin" close-read /r1000.bin '"comm":"cat"' &&
	field_is "close-read by cat: bytes 1000" bytes 1000
has_rec "cp: open-read of the source" open-read /r1000.bin '"comm":"cp"'
has_rec "cp: close-read of the source" close-read /r1000.bin '"comm":"cp"' &&
	field_is "cp: bytes 1000 read from the source" bytes 1000
has_rec "cp: create of the copy" create /copy.bin '"comm":"cp"'
has_rec "cp: close-write of the copy" close-write /copy.bin && field_is "cp: copy size 1000" size 1000

# --- keep, seal, unkeep
has_rec "keep: mv k.wav keep/" keep /k.wav '"path2":"/keep/k.wav"'
if has_rec "seal: keep/k.wav" seal /keep/k.wav; then
	field_is "seal: sha256 equals sha256sum" sha256 "$ksum"
	field_is "seal: size 8" size 8
fi
has_rec "unkeep: mv keep/k.wav out" unkeep /keep/k.wav '"path2":"/k2.wav"'

# --- expiry by the clock: deletion receipts
for p in /r1000.bin:$t_r /copy.bin:$t_c; do
	f=${p%%:*}
	tw=${p#*:}
	has_rec "expire: $f" expire "$f" || continue
	field_is "expire $f: class short" class short
	if dl=$(iso_ms "$(jget "$REC" deadline)"); then
		check_range "expire $f: deadline = close + short" $((tw + SHORT - 1000)) $((tw + SHORT + 500)) "$dl"
	else
		fail "expire $f: deadline is ISO-8601" "$REC"
	fi
	check_range "expire $f: lateness_ms < 1500" 0 1499 "$(jget "$REC" lateness_ms)"
	if tm=$(iso_ms "$(jget "$REC" time)") && [ -n "${dl:-}" ]; then
		check_range "expire $f: time = deadline + lateness" -2 2 \
			$((tm - dl - $(jget "$REC" lateness_ms)))
	fi
done

# --- damaged, mount/unmount, catch-up
has_rec "damaged: cat of the flipped block" damaged /keep/dmg.wav
check_eq "mount: one record per mount" 3 "$(grep -c -F '"event":"mount",' "$J")"
check_eq "unmount: one record per unmount" 3 "$(grep -c -F '"event":"unmount",' "$J")"
check_eq "catchup: one record per mount" 3 "$(grep -c -F '"event":"catchup",' "$J")"
REC=$(grep -F '"event":"catchup",' "$J" | sed -n 2p)
check_range "catchup at mount 2: count >= 1" 1 1000000 "$(jget "$REC" count)"
u1=$(lineno unmount 1)
c2=$(lineno catchup 2)
for f in /o1.wav /o2.wav; do
	if has_rec "catch-up: expire record for $f" expire "$f"; then
		n=$(grep -n -F "\"path\":\"$f\"" "$J" | grep -F '"event":"expire",' | cut -d: -f1)
		check_range "catch-up: $f expired between unmount 1 and catchup 2" "${u1:-0}" "${c2:-0}" "$n"
		check_range "catch-up: $f lateness_ms is the downtime" 500 60000 "$(jget "$REC" lateness_ms)"
	fi
done

# --- the caller's uid
if has_rec "create by uid 12345" create /pub/u12345.wav; then
	field_is "create by uid 12345: uid" uid 12345
	field_is "create by uid 12345: gid" gid 12345
fi

# --- 32 writers: create, open-write, close-write for every file
want=$(for ((i = 0; i < NPAR; i++)); do
	for e in close-write create open-write; do printf '%s /keep/par/w%02d.wav\n' $e "$i"; done
done | sort)
got=$(grep -F '"path":"/keep/par/w' "$J" |
	sed -E 's/.*"event":"([a-z-]+)".*"path":"([^"]*)".*/\1 \2/' |
	grep -E '^(create|open-write|close-write) ' | sort -u)
check_eq "$NPAR writers: every file has create, open-write and close-write" "" \
	"$(comm -23 <(echo "$want") <(echo "$got") | xargs)"
want=$(for ((i = 0; i < NPAR; i++)); do
	printf '/keep/par/w%02d.wav %d\n' "$i" $((44 + PARSIZE + i * 1021))
done)
got=$(grep -F '"event":"close-write",' "$J" | grep -F '"path":"/keep/par/w' |
	sed -E 's/.*"path":"([^"]*)".*"size":([0-9]+).*/\1 \2/' | sort)
check_eq "$NPAR writers: one close-write each, with the file's size" "$want" "$got"
check_eq "no dropped records" 0 "$(grep -c -F '"event":"dropped",' "$J")"

# --- filters
out=$(audit --json --path '*12345678*')
check_range "--path '*12345678*': some records" 1 1000 "$(grep -c . <<<"$out")"
check_eq "--path '*12345678*': only records naming the number" 0 "$(grep -c -v -F 12345678 <<<"$out")"
check_eq "--path '*12345678*': every record naming the number" "$(grep -F 12345678 "$J")" "$out"
grep -q -F "\"path\":\"/patient-$CPR/call-$PHONE.wav\"" <<<"$out" &&
	grep -q -F '"event":"create",' <<<"$out" && grep -q -F '"event":"open-read",' <<<"$out" &&
	grep -q -F '"event":"rename",' <<<"$out"
check_eq "--path: create, open-read and rename of the caller's recording" 0 $?

# renamed without the number: found again by its id (docs/audit.md)
id=$(jget "$(recs create "/patient-$CPR/call-$PHONE.wav")" id)
check "--path: the renamed recording's expire receipt found by its id" \
	grep -q -F "\"path\":\"/patient-$CPR/renamed.wav\",\"id\":\"${id:-none}\"" <(grep -F '"event":"expire",' "$J")

out=$(audit --json --uid 12345)
check_eq "--uid 12345: only that uid" 0 "$(grep -c -v -F '"uid":12345,' <<<"$out")"
check_eq "--uid 12345: every record of that uid" "$(grep -F '"uid":12345,' "$J")" "$out"
check "--uid 12345: holds the create" grep -q -F '"path":"/pub/u12345.wav"' <<<"$out"

out=$(audit --json --event expire,unlink)
check_eq "--event expire,unlink: only those events" 0 \
	"$(grep -c -v -E '"event":"(expire|unlink)",' <<<"$out")"
check_eq "--event expire,unlink: all of them" "$(grep -E '"event":"(expire|unlink)",' "$J")" "$out"
check "--event expire,unlink: holds an unlink" grep -q -F '"event":"unlink",' <<<"$out"
check "--event expire,unlink: holds an expire" grep -q -F '"event":"expire",' <<<"$out"

since=$(audit --json --since "$SPLIT")
until=$(audit --json --until "$SPLIT")
ns=$(grep -c . <<<"$since")
nu=$(grep -c . <<<"$until")
say "--since/--until $SPLIT: $ns and $nu records"
check_eq "--since T plus --until T: every record once" "$total" $((ns + nu))
rec_times() { sed -E 's/^\{"time":"([^"]*)".*/\1/' | sort; }
first=$(rec_times <<<"$since" | head -n 1)
last=$(rec_times <<<"$until" | tail -n 1)
[[ ! $first < $SPLIT9 ]]
check_eq "--since T: no record before T (first $first)" 0 $?
[[ $last < $SPLIT9 ]]
check_eq "--until T: no record at or after T (last $last)" 0 $?
check "--since T: holds mount 2's damaged record" grep -q -F '"event":"damaged",' <<<"$since"
check "--until T: holds mount 1's create of a.wav" grep -q -F '"path":"/a.wav"' <<<"$until"

# --- no plaintext in the trail
for m in "$PHONE" "4512345678" "12345678" "$CPR" "0102031234" "patient-" "u12345.wav"; do
	check_eq "trail: no '$m' in plaintext" "" "$(grep -r -a -l -F -- "$m" "$STORE/audit")"
done

# ================================================================ chain
out=$(audit verify 2>&1)
check_eq "verify: exits 0" 0 $?
mapfile -t SEGS < <(segments "$STORE")
nseg=${#SEGS[@]}
# one segment per mount; one more if a UTC midnight fell inside the test
check_range "one segment per mount" 3 4 "$nseg"
check_eq "segments numbered from 1 without a gap" "$(seq -f %08g 1 "$nseg" | xargs)" \
	"$(printf '%s\n' "${SEGS[@]}" | cut -c1-8 | xargs)"
check_eq "verify: reports every record in every segment" \
	"audit trail intact: $total records in $nseg segments" "$(head -n 1 <<<"$out")"
S1=${SEGS[0]}
S2=${SEGS[1]:-none}
mapfile -t FR < <(frames "$STORE/audit/$S1")
nfr=${#FR[@]}
say "segment $S1: $nfr frames"
[ "$nfr" -ge 10 ] || bail "segment 1 holds at least 10 frames" "$nfr"
k=$((nfr / 2))                 # record numbers count from 1
read -r ks ke <<<"${FR[k - 1]}"
read -r k1s k1e <<<"${FR[k]}"

# a byte flipped in the middle of record k
copy_store flip
flip_byte "$CSTORE/audit/$S1" $(((ks + ke) / 2))
expect_break "flipped byte" "$CCONF" "audit/$S1: record $k (byte $ks)"
out=$("$RECCTL" audit --config "$CCONF" --json 2>/dev/null)
check_eq "flipped byte: recctl audit exits 1" 1 $?
check_eq "flipped byte: recctl audit shows the $((k - 1)) records before the break" \
	$((k - 1)) "$(grep -c . <<<"$out")"

# record k cut out
copy_store cut
{ head -c "$ks" "$STORE/audit/$S1" && tail -c +$((ke + 1)) "$STORE/audit/$S1"; } >"$CSTORE/audit/$S1"
expect_break "record cut out" "$CCONF" "audit/$S1: record $k (byte $ks)"

# records k and k+1 swapped
copy_store swap
{
	head -c "$ks" "$STORE/audit/$S1"
	tail -c +$((k1s + 1)) "$STORE/audit/$S1" | head -c $((k1e - k1s))
	tail -c +$((ks + 1)) "$STORE/audit/$S1" | head -c $((ke - ks))
	tail -c +$((k1e + 1)) "$STORE/audit/$S1"
} >"$CSTORE/audit/$S1"
check_eq "swap: the segment keeps its size" "$(stat -c %s "$STORE/audit/$S1")" "$(stat -c %s "$CSTORE/audit/$S1")"
expect_break "two records swapped" "$CCONF" "audit/$S1: record $k (byte $ks)"

# the middle segment removed
copy_store noseg
rm "$CSTORE/audit/$S2"
expect_break "middle segment removed" "$CCONF" "BROKEN"

# the middle segment's last record cut (whole records: a valid chain)
copy_store trunc
mapfile -t FR2 < <(frames "$STORE/audit/$S2")
read -r ls _ <<<"${FR2[${#FR2[@]} - 1]}"
truncate -s "$ls" "$CSTORE/audit/$S2"
expect_break "middle segment cut short by one record" "$CCONF" "BROKEN"

# the first segment cut in the middle of a record
copy_store trunc2
truncate -s $(((ks + ke) / 2)) "$CSTORE/audit/$S1"
expect_break "first segment cut mid-record" "$CCONF" "audit/$S1: record $k (byte $ks)"

check "verify: the original still intact" audit verify

# ================================================================ retention
# the clock 2 days ahead, [audit] keep = 1 h: every segment so far names a
# day that ended more than 1 h ago
write_conf "$WORK/ret.conf" "$STORE" "$KEY" retention.short=3s retention.keep=1h \
	audit.keep=1h testing.clock_offset=2d
CONF=$WORK/ret.conf need_mount
umount_fs
mapfile -t after < <(segments "$STORE")
future=$(date -u -d "@$(($(date +%s) + 2 * 86400))" +%F)
newseg=$(printf '%08d-%s' $((nseg + 1)) "$future")
check_eq "audit keep: the old segments destroyed, only the new mount's remains" "$newseg" "${after[*]}"
check_eq "audit keep: no other file under audit/" "$newseg" \
	"$(find "$STORE/audit" -mindepth 1 -printf '%f\n' | xargs)"
out=$("$RECCTL" audit verify --config "$WORK/ret.conf" 2>&1)
check_eq "audit keep: verify still passes" 0 $?
check "audit keep: verify reports the destroyed segments" grep -q "before number $((nseg + 1)) were destroyed" <<<"$out"
show "$out"

# ================================================================ audit off
make_store "$WORK/off" audit.enabled=off
CONF=$WORK/off/recfs.conf need_mount
echo x >"$M/off.wav"
cat "$M/off.wav" >/dev/null
mv "$M/off.wav" "$M/keep/"
chmod 0600 "$M/keep/off.wav"
mkdir "$M/d"
echo y >"$M/d/y.wav"
rm "$M/d/y.wav"
sleep 1.2
umount_fs
check_eq "audit off: no file under audit/" "" "$(find "$WORK/off/store/audit" -type f 2>/dev/null)"
check "audit off: no audit/ folder either" test ! -e "$WORK/off/store/audit"
check_eq "audit off: recctl audit shows nothing" "" \
	"$("$RECCTL" audit --config "$WORK/off/recfs.conf" 2>/dev/null)"
