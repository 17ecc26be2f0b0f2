#!/usr/bin/env bash
# Tampered store: a flipped byte, a block copied within a file and a block
# moved between files give EIO for that block (read with O_DIRECT: exactly
# its range; through the page cache: the pages holding it), never wrong bytes,
# the object id goes to the log; a damaged object header leaves that one
# object out; everything else is served.
#
# Layout used (docs/format.md, lib.sh's OBJ_*): content block k in the page
# at OBJ_DATA_OFF + k * OBJ_PAGE as nonce(24) + ciphertext(OBJ_BLOCK) +
# tag(16). Files here are whole blocks long.
. "$(dirname "$0")/lib.sh"

setup
need_mount
BLK=$OBJ_BLOCK
SLOT=$OBJ_PAGE
BASE=$OBJ_DATA_OFF

# Five files, each a different number of blocks, so their objects can be
# told apart by size: E 1, D 2, A 3, C 4, B 5 blocks.
for spec in E:1 D:2 A:3 C:4 B:5; do
	n=${spec%:*}
	head -c $((${spec#*:} * BLK)) /dev/urandom >"$REF/$n"
	cp "$REF/$n" "$MNT/$n"
done
umount_fs

mapfile -t objs < <(find "$STORE/objects" -type f -size +${BASE}c -printf '%s %p\n' | sort -n)
if [ "${#objs[@]}" -ne 5 ]; then
	show "$(printf '%s\n' "${objs[@]}")"
	bail "five objects hold content" "found ${#objs[@]}"
fi
declare -A OBJ
i=0
for n in E D A C B; do
	OBJ[$n]=${objs[$i]#* }
	check_eq "object of $n: size is $BASE + blocks * $SLOT" $((BASE + (i + 1) * SLOT)) "${objs[$i]%% *}"
	i=$((i + 1))
done
id() { basename "${OBJ[$1]}"; }

# copy_slot FROM K TO J: stored block K of object FROM over block J of TO.
copy_slot() {
	dd if="$1" of="$3" bs=$SLOT count=1 iflag=skip_bytes oflag=seek_bytes \
		skip=$((BASE + $2 * SLOT)) seek=$((BASE + $4 * SLOT)) conv=notrunc status=none
}
# A: one byte of block 0's ciphertext flipped
flip_byte "${OBJ[A]}" $((BASE + 100))
# C: block 0 copied over block 1 (same file, wrong index)
copy_slot "${OBJ[C]}" 0 "${OBJ[C]}" 1
# B: D's block 0 copied over B's block 2 (another file)
copy_slot "${OBJ[D]}" 0 "${OBJ[B]}" 2
# E: its header damaged (inside the wrapped key)
flip_byte "${OBJ[E]}" 64

need_mount

# readblock FILE K: block K of FILE as the mount gives it (stdout), status.
readblock() { dd if="$1" bs=$BLK skip="$2" count=1 status=none; }

# bad NAME FILE K: block K gives EIO and no wrong bytes.
bad() {
	expect_errno "$1: block $3 read gives EIO" EIO read "$MNT/$2" $(($3 * BLK)) $BLK
	expect_errno "$1: one byte of block $3 gives EIO" EIO read "$MNT/$2" $(($3 * BLK + 7)) 1
	local got
	got=$(readblock "$MNT/$2" "$3" 2>/dev/null | wc -c)
	if [ "$got" -eq 0 ] || cmp -s -n "$got" <(readblock "$MNT/$2" "$3" 2>/dev/null) \
		<(readblock "$REF/$2" "$3"); then
		ok "$1: block $3 never gives wrong bytes"
	else
		fail "$1: block $3 never gives wrong bytes" "$got bytes returned that differ"
	fi
}
# good NAME FILE K...: those blocks read back exactly. With O_DIRECT: the
# page cache reads whole pages, and a page holding part of a damaged block
# fails as a whole, also for the neighbour's bytes in it.
good() {
	local name=$1 f=$2 k
	shift 2
	for k in "$@"; do
		if cmp -s <(dd if="$MNT/$f" iflag=direct,skip_bytes bs=$BLK skip=$((k * BLK)) \
			count=1 status=none) <(readblock "$REF/$f" "$k"); then
			ok "$name: block $k intact"
		else
			fail "$name: block $k intact"
		fi
	done
}

bad "flipped byte in A" A 0
good "flipped byte in A" A 1 2
check_not "flipped byte in A: cat fails" cat "$MNT/A"
bad "block copied within C" C 1
good "block copied within C" C 0 2 3
bad "block moved from D into B" B 2
good "block moved from D into B" B 0 1 3 4
check "D untouched: reads in full" cmp "$MNT/D" "$REF/D"
check "the log names A's object" grep -q "$(id A)" "$LOG"
check "the log names B's object" grep -q "$(id B)" "$LOG"
check "the log names C's object" grep -q "$(id C)" "$LOG"

# E: damaged header: left out, reported, the rest served
check_eq "damaged header: E left out of the listing" "A B C D keep" "$(ls "$MNT" | xargs)"
check "the log names E's object" grep -q "$(id E)" "$LOG"

# the filesystem keeps working
check "a new file can be written" cp "$REF/D" "$MNT/G"
check "and read back" cmp "$MNT/G" "$REF/D"
check "a damaged file can be deleted" rm "$MNT/A"
umount_fs

# A shred that fails (here: the object file made immutable) is tried again
# until it works: left alone, a deleted file would be back after a restart.
need_mount
before=$(find "$STORE/objects" -type f -size +0 | sort)
head -c 10000 /dev/urandom >"$MNT/victim.wav"
victim=$(comm -13 <(echo "$before") <(find "$STORE/objects" -type f -size +0 | sort) | head -n 1)
if [ -z "$victim" ] || ! chattr +i "$victim" 2>/dev/null; then
	say "no immutable attribute here (chattr +i); the shred-retry check is skipped"
else
	check "rm while the object cannot be shredded" rm "$MNT/victim.wav"
	sleep 2.5
	check "the object stays while its shred fails" test -e "$victim"
	check "the log says the shred failed" grep -q "shred failed" "$LOG"
	chattr -i "$victim"
	for i in $(seq 1 50); do [ -e "$victim" ] || break; sleep 0.1; done
	check "once it can be, the object is shredded and unlinked" test ! -e "$victim"
	check_not "the name stays gone" test -e "$MNT/victim.wav"
fi
umount_fs
