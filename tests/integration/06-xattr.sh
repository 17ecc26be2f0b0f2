#!/usr/bin/env bash
# user.* extended attributes: set, get, list, remove, flags, persistence;
# the user.recfs.* names are the filesystem's and cannot be written.
. "$(dirname "$0")/lib.sh"

setup
need_mount
f=$MNT/rec.wav
echo audio >"$f"
mkdir "$MNT/dir"

# names of user.* attributes other than recfs's own, sorted
unames() {
	getfattr --absolute-names -h -d -m '^user\.' -- "$1" 2>/dev/null |
		sed -n 's/^\(user\.[^=]*\).*/\1/p' | grep -v '^user\.recfs\.' | sort | xargs
}

check "setfattr user.caller" setfattr -n user.caller -v "+4587654321" "$f"
check_eq "getfattr user.caller" "+4587654321" "$(xget "$f" user.caller)"
check "setfattr a value with spaces and symbols" setfattr -n user.note -v "call % @ = > : + done" "$f"
check_eq "getfattr the value with spaces" "call % @ = > : + done" "$(xget "$f" user.note)"
check "setfattr an empty value" setfattr -n user.empty -v "" "$f"
expect_errno "getxattr an empty value" OK getxattr "$f" user.empty
check "setfattr a binary value" setfattr -n user.bin -v 0x00ff0a0d00 "$f"
check_eq "getfattr the binary value" "0x00ff0a0d00" \
	"$(getfattr --absolute-names -e hex -n user.bin "$f" | sed -n 's/^user.bin=//p')"
big=$(head -c 3000 /dev/zero | tr '\0' 'v')
check "setfattr a 3000-byte value" setfattr -n user.big -v "$big" "$f"
check_eq "getfattr the 3000-byte value" "$big" "$(xget "$f" user.big)"
check_eq "listxattr" "user.big user.bin user.caller user.empty user.note" "$(unames "$f")"

expect_errno "XATTR_CREATE on an existing name: EEXIST" EEXIST setxattr "$f" user.caller x create
expect_errno "XATTR_REPLACE on a missing name: ENODATA" ENODATA setxattr "$f" user.nope x replace
expect_errno "XATTR_REPLACE on an existing name" OK setxattr "$f" user.caller "+4511111111" replace
check_eq "XATTR_REPLACE: new value" "+4511111111" "$(xget "$f" user.caller)"
expect_errno "XATTR_CREATE of a new name" OK setxattr "$f" user.created v create
expect_errno "getxattr a missing name: ENODATA" ENODATA getxattr "$f" user.nope
check "setfattr -x removes" setfattr -x user.created "$f"
expect_errno "removed name: ENODATA" ENODATA getxattr "$f" user.created
expect_errno "remove a missing name: ENODATA" ENODATA removexattr "$f" user.created
check "xattr on a folder" setfattr -n user.case -v 2026-0042 "$MNT/dir"
check_eq "xattr on a folder: value" 2026-0042 "$(xget "$MNT/dir" user.case)"
check_eq "xattrs did not change the content" audio "$(cat "$f")"

# recfs's own names are read-only
check "user.recfs.state readable" test -n "$(xget "$f" user.recfs.state)"
for n in retention expires state sha256 anything; do
	expect_errno "setxattr user.recfs.$n: EPERM" EPERM setxattr "$f" "user.recfs.$n" x
done
expect_errno "removexattr user.recfs.retention: EPERM" EPERM removexattr "$f" user.recfs.retention
check_eq "user.recfs.retention unchanged" short "$(xget "$f" user.recfs.retention)"

umount_fs
need_mount
check_eq "remount: xattr names" "user.big user.bin user.caller user.empty user.note" "$(unames "$f")"
check_eq "remount: user.caller" "+4511111111" "$(xget "$f" user.caller)"
check_eq "remount: user.note" "call % @ = > : + done" "$(xget "$f" user.note)"
check_eq "remount: user.big" "$big" "$(xget "$f" user.big)"
check_eq "remount: binary value" "0x00ff0a0d00" \
	"$(getfattr --absolute-names -e hex -n user.bin "$f" | sed -n 's/^user.bin=//p')"
check_eq "remount: folder xattr" 2026-0042 "$(xget "$MNT/dir" user.case)"
check "remount: removed name stays removed" test -z "$(xget "$f" user.created)"
