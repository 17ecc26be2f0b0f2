#!/usr/bin/env bash
# Everything survives unmount and remount: names, types, modes, owners,
# sizes, times, link targets, user xattrs, content, holes. Twice, to catch
# metadata slots that only survive one rewrite.
. "$(dirname "$0")/lib.sh"

setup
need_mount
M=$MNT

# manifest: a stable description of the whole tree (atime left out: reads
# may change it; recfs's own xattrs left out: they are checked elsewhere).
manifest() {
	(
		cd "$M" || exit 1
		find . -printf '%p %y %m %U %G %s %n %T@ %C@ %l\n' | LC_ALL=C sort
		find . -type f -print0 | sort -z | xargs -0 -r sha256sum
		find . ! -type l -print0 | sort -z |
			xargs -0 -r getfattr -h -d -m '^user\.' -e hex --absolute-names 2>/dev/null |
			grep -v '^user\.recfs\.'
	)
}

mkdir -p "$M/2026/11/28" "$M/keep/case-17"
"$TESTBIN/recwriter" -p 4 -p 40 -n 300 "$M/2026/11/28/call-1.wav"
"$TESTBIN/recwriter" -H 78 -c 262144 -n 3 -p 74 -p 4 -S 4 "$M/2026/11/28/call-2.wav"
: >"$M/2026/11/28/empty.wav"
printf 'meta: %s\n' "sip:+4512345678" >"$M/2026/11/28/call-1.meta"
fsop seq "$M/sparse" o:wronly,creat:0644 w:0:head w:3000000:tail c >/dev/null
truncate -s 10M "$M/sparse"
echo kept >"$M/keep/case-17/evidence.txt"
umask 000
fsop open "$M/m0151" wronly,creat 0151 >/dev/null
umask 022
mkdir "$M/sticky" "$M/sgid"
chmod 1777 "$M/sticky"
chmod 2750 "$M/sgid"
echo own >"$M/sgid/owned"
chown 12345:54321 "$M/sgid/owned"
chmod 4710 "$M/sgid/owned"
ln -s "$(head -c 4095 /dev/zero | tr '\0' 'x')" "$M/longlink"
ln -s 2026/11/28/call-1.wav "$M/shortlink"
mkfifo "$M/sticky/fifo"
fsop mknod "$M/sticky/sock" sock 0600 >/dev/null
setfattr -n user.caller -v "+4512345678" "$M/2026/11/28/call-1.wav"
setfattr -n user.bin -v 0x000102ff "$M/2026/11/28/call-1.wav"
setfattr -n user.case -v 17 "$M/keep/case-17"
touch -d "2020-05-06 07:08:09.123456789 UTC" "$M/2026/11/28/empty.wav"
touch -m -d "2021-01-01 00:00:00 UTC" "$M/2026/11/28"
fsop utimens "$M/shortlink" 1111111111.5 1222222222.25 >/dev/null
mkdir "$M/gone"
echo x >"$M/gone/f"
rm -r "$M/gone"
echo overwritten >"$M/over"
echo replaced >"$M/over.new"
mv "$M/over.new" "$M/over"

m1=$(manifest)
# Destroyed objects leave the store within a second (one sync per batch).
sleep 1.5
objs1=$(objects)
umount_fs
need_mount
m2=$(manifest)
if [ "$m1" == "$m2" ]; then
	ok "remount: the whole tree is the same"
else
	fail "remount: the whole tree is the same"
	show "$(diff <(echo "$m1") <(echo "$m2"))"
fi
check_eq "remount: same number of objects" "$objs1" "$(objects)"
check_eq "remount: removed folder stays removed" no "$(test -e "$M/gone" && echo yes || echo no)"
check_eq "remount: replaced file has the new content" replaced "$(cat "$M/over")"

# a second round: change things, remount again
echo more >>"$M/2026/11/28/call-1.meta"
setfattr -n user.caller -v "+4599999999" "$M/2026/11/28/call-1.wav"
chmod 0640 "$M/m0151"
mv "$M/shortlink" "$M/2026/moved-link"
m3=$(manifest)
umount_fs
need_mount
m4=$(manifest)
if [ "$m3" == "$m4" ]; then
	ok "second remount: the whole tree is the same"
else
	fail "second remount: the whole tree is the same"
	show "$(diff <(echo "$m3") <(echo "$m4"))"
fi
