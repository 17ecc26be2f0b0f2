#!/usr/bin/env bash
# Bad input before mounting: wrong key, missing or damaged store, unknown
# format version, busy store or mount point, missing mount point, bad
# config. Each: exit status != 0, one line "recfs: ...", nothing mounted,
# the store unchanged. Afterwards the store still mounts with its data.
#
# Assumption (docs/format.md is the authority): the superblock starts with
# an 8-byte magic followed by the format version as a 32-bit little-endian
# integer at bytes 8..11.
. "$(dirname "$0")/lib.sh"

setup
need_mount
echo precious >"$MNT/precious.wav"
umount_fs
D0=$(store_digest)
unchanged() { check_eq "$1: store unchanged" "$D0" "$(store_digest)"; }
not_mounted() { check_eq "$1: nothing mounted" 0 "$(mount_count "${2:-$MNT}")"; }

check "recfs --version" "$RECFS" --version
check "recfs --help" "$RECFS" --help

# --- keys
head -c 32 /dev/urandom >"$WORK/wrong.key"
chmod 0600 "$WORK/wrong.key"
write_conf "$WORK/wrongkey.conf" "$STORE" "$WORK/wrong.key"
expect_refused "wrong key" "$WORK/wrongkey.conf" "$MNT" "^recfs: wrong key for store $STORE"
unchanged "wrong key"
not_mounted "wrong key"

write_conf "$WORK/nokey.conf" "$STORE" "$WORK/no-such.key"
expect_refused "missing key file" "$WORK/nokey.conf" "$MNT" "no-such.key"
unchanged "missing key file"

head -c 16 /dev/urandom >"$WORK/short.key"
chmod 0600 "$WORK/short.key"
write_conf "$WORK/shortkey.conf" "$STORE" "$WORK/short.key"
expect_refused "key file of 16 bytes" "$WORK/shortkey.conf" "$MNT" "short.key"
unchanged "key file of 16 bytes"

# --- the store
write_conf "$WORK/nostore.conf" "$WORK/no-such-store" "$KEY"
expect_refused "missing store" "$WORK/nostore.conf" "$MNT" "no-such-store"
check "missing store: not created" test ! -e "$WORK/no-such-store"

mkdir "$WORK/emptystore"
write_conf "$WORK/emptystore.conf" "$WORK/emptystore" "$KEY"
expect_refused "store folder without a superblock" "$WORK/emptystore.conf" "$MNT" "emptystore"
check_eq "store folder without a superblock: left empty" "" "$(ls -A "$WORK/emptystore")"

cp "$STORE/recfs.store" "$WORK/sb.orig"
SB=$STORE/recfs.store
size=$(stat -c %s "$SB")
# damaged NAME REGEX: the superblock as now damaged must be refused and
# left as it is; then the original is put back.
damaged() {
	local d
	d=$(store_digest)
	expect_refused "$1" "$CONF" "$MNT" "$2"
	check_eq "$1: store unchanged" "$d" "$(store_digest)"
	cp "$WORK/sb.orig" "$SB"
}
flip_byte "$SB" 0
damaged "superblock: magic damaged" "."
flip_byte "$SB" $((size / 2))
damaged "superblock: a byte flipped in the middle" "."
flip_byte "$SB" $((size - 1))
damaged "superblock: last byte flipped" "."
truncate -s 16 "$SB"
damaged "superblock: cut to 16 bytes" "."
: >"$SB"
damaged "superblock: empty file" "."
put_u32 "$SB" 8 1
damaged "superblock: format version 1 (older)" "format version 1; this recfs reads version 2"
put_u32 "$SB" 8 3
damaged "superblock: format version 3" "[Vv]ersion"
put_u32 "$SB" 8 9999
damaged "superblock: format version 9999" "[Vv]ersion"
rm "$SB"
expect_refused "superblock missing" "$CONF" "$MNT" "."
cp "$WORK/sb.orig" "$SB"
unchanged "after the superblock tests"

# --- mount points
expect_refused "missing mount point" "$CONF" "$WORK/no-such-mnt" "no-such-mnt"
check "missing mount point: not created" test ! -e "$WORK/no-such-mnt"
: >"$WORK/filemnt"
expect_refused "mount point is a file" "$CONF" "$WORK/filemnt" "filemnt"
unchanged "mount point errors"

# --- config errors: FILE:LINE
bad() {
	printf '[store]\npath = %s\nkey_file = %s\n%s\n' "$STORE" "$KEY" "$2" >"$WORK/bad.conf"
	expect_refused "config: $1" "$WORK/bad.conf" "$MNT" "$WORK/bad.conf:$3"
}
bad "unknown key" "bogus = 1" 4
bad "bad duration" "[retention]
short = 10 minutes" 5
bad "unknown section" "[nonsense]
x = 1" "(4|5)"
expect_refused "config file missing" "$WORK/no-such.conf" "$MNT" "no-such.conf"
unchanged "config errors"

# --- busy: the store is locked while mounted, the mount point is in use
need_mount
mkdir "$WORK/mnt2"
T_MNTS+=("$WORK/mnt2")
expect_refused "same store mounted twice" "$CONF" "$WORK/mnt2" "."
not_mounted "same store mounted twice" "$WORK/mnt2"
expect_refused "same store again on the same mount point" "$CONF" "$MNT" "."
make_store "$WORK/other"
expect_refused "another store on a busy mount point" "$WORK/other/recfs.conf" "$MNT" "."
check_eq "busy: one mount on the mount point" 1 "$(mount_count "$MNT")"
check_eq "busy: the first mount still serves" precious "$(cat "$MNT/precious.wav")"
umount_fs

# --- after all that the store mounts and its data is intact
need_mount
check_eq "the store still mounts: content" precious "$(cat "$MNT/precious.wav")"
umount_fs
