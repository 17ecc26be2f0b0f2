#!/usr/bin/env bash
# Modes, owners, times, huge sparse files, and cp -a / tar into the mount.
. "$(dirname "$0")/lib.sh"

setup
need_mount
M=$MNT

# mtime and ctime as "seconds.nanoseconds"
mtime() { stat -c %.9Y "$1"; }
ctime() { stat -c %.9Z "$1"; }
atime() { stat -c %.9X "$1"; }
# later A B: A is strictly later than B (decimal timestamps).
later() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }'; }
tick() { sleep 0.02; }

# --- modes are kept exactly, special bits too
umask 000
expect_errno "create with mode 0151" OK open "$M/m151" wronly,creat 0151
check_eq "create: mode 0151 kept" 151 "$(stat -c %a "$M/m151")"
expect_errno "mkdir with mode 0151" OK mkdir "$M/d151" 0151
check_eq "mkdir: mode 0151 kept" 151 "$(stat -c %a "$M/d151")"
umask 022
expect_errno "create with mode 0666 under umask 022" OK open "$M/m644" wronly,creat 0666
check_eq "umask applies" 644 "$(stat -c %a "$M/m644")"
for m in 0 151 1755 600 1644; do
	expect_errno "chmod file $m" OK chmod "$M/m644" "$m"
	check_eq "chmod file $m: kept" "$m" "$(stat -c %a "$M/m644")"
done
# A recording is never a program: setuid/setgid are dropped from files
# (recfs tells the kernel it clears them itself: FUSE_HANDLE_KILLPRIV_V2).
for m in 4755:755 2755:755 6711:711 7777:1777; do
	expect_errno "chmod file ${m%:*}" OK chmod "$M/m644" "${m%:*}"
	check_eq "chmod file ${m%:*}: setuid/setgid dropped" "${m#*:}" "$(stat -c %a "$M/m644")"
done
umask 000
expect_errno "create with mode 6755" OK open "$M/m6755" wronly,creat 06755
check_eq "create with mode 6755: setuid/setgid dropped" 755 "$(stat -c %a "$M/m6755")"
umask 022
for m in 1777 2775 3770 755 700; do
	expect_errno "chmod folder $m" OK chmod "$M/d151" "$m"
	check_eq "chmod folder $m: kept" "$m" "$(stat -c %a "$M/d151")"
done
check_eq "type bits: regular file" "regular empty file" "$(stat -c %F "$M/m644")"
check_eq "type bits: folder" "directory" "$(stat -c %F "$M/d151")"

# --- owners
echo x >"$M/own"
check_eq "new file belongs to the caller" "0 0" "$(stat -c '%u %g' "$M/own")"
expect_errno "chown to 12345:54321" OK chown "$M/own" 12345 54321
check_eq "chown: kept" "12345 54321" "$(stat -c '%u %g' "$M/own")"
expect_errno "chown -1 keeps the owner, sets the group" OK chown "$M/own" -1 777
check_eq "chown -1: owner kept" "12345 777" "$(stat -c '%u %g' "$M/own")"
mkdir "$M/downed"
expect_errno "chown a folder" OK chown "$M/downed" 4242 4343
check_eq "chown folder: kept" "4242 4343" "$(stat -c '%u %g' "$M/downed")"
ln -s own "$M/lown"
check "chown -h a symlink" chown -h 555:556 "$M/lown"
check_eq "chown -h: the link itself changed" "555 556" "$(stat -c '%u %g' "$M/lown")"
check_eq "chown -h: the target did not" "12345 777" "$(stat -c '%u %g' "$M/own")"

# --- utimensat: touch -d, touch -m, UTIME_OMIT, UTIME_NOW
echo t >"$M/times"
check "touch -d sets both times" touch -d "2001-02-03 04:05:06.123456789 UTC" "$M/times"
check_eq "touch -d: atime" 981173106.123456789 "$(atime "$M/times")"
check_eq "touch -d: mtime" 981173106.123456789 "$(mtime "$M/times")"
check "touch -m -d sets only mtime" touch -m -d "2002-03-04 05:06:07.5 UTC" "$M/times"
check_eq "touch -m: atime untouched (UTIME_OMIT)" 981173106.123456789 "$(atime "$M/times")"
check_eq "touch -m: mtime" 1015218367.500000000 "$(mtime "$M/times")"
c0=$(ctime "$M/times")
tick
expect_errno "utimensat(UTIME_OMIT, UTIME_NOW)" OK utimens "$M/times" omit now
check_eq "UTIME_OMIT: atime kept" 981173106.123456789 "$(atime "$M/times")"
m1=$(mtime "$M/times")
check "UTIME_NOW: mtime is now" later "$m1" "$(($(date +%s) - 5))"
check "utimensat changes ctime" later "$(ctime "$M/times")" "$c0"
expect_errno "utimensat(UTIME_NOW, UTIME_OMIT)" OK utimens "$M/times" now omit
check_eq "UTIME_OMIT: mtime kept" "$m1" "$(mtime "$M/times")"
check "UTIME_NOW: atime is now" later "$(atime "$M/times")" "$(($(date +%s) - 5))"
expect_errno "utimensat(omit, omit) is allowed" OK utimens "$M/times" omit omit
times_m=$(mtime "$M/times")
expect_errno "utimensat on a folder" OK utimens "$M/downed" 1000000000.25 2000000000.75
check_eq "utimensat on a folder: mtime" 2000000000.750000000 "$(mtime "$M/downed")"
expect_errno "utimensat on a symlink itself" OK utimens "$M/lown" 1234567890 1234567890
check_eq "utimensat on a symlink: link mtime" 1234567890.000000000 "$(mtime "$M/lown")"

# --- mtime and ctime change exactly when POSIX says
f=$M/clock
dm0=$(mtime "$M") dc0=$(ctime "$M")
tick
echo 1 >"$f"
m0=$(mtime "$f") c0=$(ctime "$f")
tick
cat "$f" >/dev/null
check_eq "read: mtime unchanged" "$m0" "$(mtime "$f")"
check_eq "read: ctime unchanged" "$c0" "$(ctime "$f")"
echo 2 >>"$f"
m1=$(mtime "$f") c1=$(ctime "$f")
check "write: mtime advances" later "$m1" "$m0"
check "write: ctime advances" later "$c1" "$c0"
tick
chmod 600 "$f"
check_eq "chmod: mtime unchanged" "$m1" "$(mtime "$f")"
check "chmod: ctime advances" later "$(ctime "$f")" "$c1"
c2=$(ctime "$f")
tick
fsop truncate "$f" 1 >/dev/null
check "truncate: mtime advances" later "$(mtime "$f")" "$m1"
check "truncate: ctime advances" later "$(ctime "$f")" "$c2"
m2=$(mtime "$f") c2=$(ctime "$f")
tick
setfattr -n user.t -v 1 "$f"
check_eq "setxattr: mtime unchanged" "$m2" "$(mtime "$f")"
check "setxattr: ctime advances" later "$(ctime "$f")" "$c2"
tick
dm1=$(mtime "$M") dc1=$(ctime "$M")
check "create in a folder: folder mtime advances" later "$dm1" "$dm0"
check "create in a folder: folder ctime advances" later "$dc1" "$dc0"
c3=$(ctime "$f")
mkdir "$M/cdir"
dm2=$(mtime "$M")
tick
mv "$f" "$M/cdir/"
check "rename: moved file's ctime advances" later "$(ctime "$M/cdir/clock")" "$c3"
check_eq "rename: moved file's mtime unchanged" "$m2" "$(mtime "$M/cdir/clock")"
check "rename: old folder mtime advances" later "$(mtime "$M")" "$dm2"
dm3=$(mtime "$M/cdir")
tick
rm "$M/cdir/clock"
check "unlink: folder mtime advances" later "$(mtime "$M/cdir")" "$dm3"

# --- truncate -s 1T costs no disk and reads as zeros
du0=$(du -sk "$STORE" | cut -f1)
check "truncate -s 1T" truncate -s 1T "$M/huge"
check_eq "1T: size" 1099511627776 "$(stat -c %s "$M/huge")"
check "1T: reads zeros at 0" cmp -n 65536 "$M/huge" /dev/zero
check "1T: reads zeros at 512 GiB" cmp -n 65536 \
	<(dd if="$M/huge" bs=65536 skip=$((1 << 23)) count=1 status=none) /dev/zero
check "1T: reads zeros in the last 4 KiB" cmp \
	<(dd if="$M/huge" bs=4096 skip=$(((1 << 28) - 1)) count=1 status=none) <(head -c 4096 /dev/zero)
expect_errno "1T: write one byte at the very end" "OK OK OK" seq "$M/huge" o:wronly w:1099511627775:Z c
check_eq "1T: size after writing the last byte" 1099511627776 "$(stat -c %s "$M/huge")"
check_eq "1T: the last byte" Z "$(tail -c 1 "$M/huge")"
du1=$(du -sk "$STORE" | cut -f1)
check_range "1T: the store grew by less than 1 MiB" 0 1024 $((du1 - du0))
say "store: ${du0} KiB before, ${du1} KiB after a 1 TiB file"
df_free=$(df -k --output=avail "$STORE" | tail -n 1)
expect_errno "truncate to 4 EiB: EFBIG" EFBIG truncate "$M/huge" $((1 << 62))
check_range "EFBIG: the store did not grow" 0 1024 $(($(du -sk "$STORE" | cut -f1) - du0))
check_range "EFBIG: the disk did not fill" $((df_free - 10240)) $((df_free + 1000000000)) \
	"$(df -k --output=avail "$STORE" | tail -n 1)"
check "truncate 1T down to 10" truncate -s 10 "$M/huge"
check "after truncate down: 10 zero bytes" cmp "$M/huge" <(head -c 10 /dev/zero)

# --- cp -a and tar into the mount keep modes, owners, times, links, FIFOs
src=$WORK/src
mkdir -p "$src/sub/deeper"
echo hi >"$src/sub/file.txt"
head -c 100000 /dev/urandom >"$src/sub/deeper/audio.raw"
chmod 2751 "$src/sub"
chmod 0151 "$src/sub/file.txt"
chown 12345:54321 "$src/sub/deeper/audio.raw"
ln -s file.txt "$src/sub/link"
mkfifo -m 0604 "$src/sub/fifo"
touch -h -d "2010-01-01 00:00:00.5 UTC" "$src/sub/link"
touch -d "2011-01-01 00:00:00.25 UTC" "$src/sub/file.txt" "$src/sub/deeper" "$src/sub"
tree() { (cd "$1" && find . -mindepth 1 -printf '%p %y %m %U %G %T@ %l\n' | sort); }
# tar's default format keeps whole seconds only
tree_s() { tree "$1" | sed -E 's/ ([0-9]+)\.[0-9]+ / \1 /'; }
sums() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
mkdir "$M/cpa" "$M/tar"
check "cp -a into the mount" cp -a "$src/." "$M/cpa/"
check_eq "cp -a: names, types, modes, owners, mtimes, targets" "$(tree "$src")" "$(tree "$M/cpa")"
check_eq "cp -a: content" "$(sums "$src")" "$(sums "$M/cpa")"
check "tar into the mount" bash -c "tar -C '$src' -cf - . | tar -C '$M/tar' -xpf -"
check_eq "tar: names, types, modes, owners, mtimes, targets" "$(tree_s "$src")" "$(tree_s "$M/tar")"
check_eq "tar: content" "$(sums "$src")" "$(sums "$M/tar")"
check "tar out of the mount" bash -c "tar -C '$M/tar' -cf - . | tar -C '$WORK' -tvf - >/dev/null"

# --- and after a remount
umount_fs
need_mount
check_eq "remount: mode 0151" 151 "$(stat -c %a "$M/m151")"
check_eq "remount: owner" "12345 777" "$(stat -c '%u %g' "$M/own")"
check_eq "remount: times" "2000000000.750000000 $times_m" "$(mtime "$M/downed") $(mtime "$M/times")"
check_eq "remount: cp -a tree" "$(tree "$src")" "$(tree "$M/cpa")"

# --- small writes cost one round trip each: the kernel does not ask for
# security.capability before every write (FUSE_HANDLE_KILLPRIV_V2, fs/fusedev.c)
umount_fs
need_mount -d
dd if=/dev/zero of="$M/frames" bs=320 count=200 status=none
check_eq "200 small writes: all arrived" 64000 "$(stat -c %s "$M/frames")"
asks=$(grep -c 'opcode: GETXATTR' "$LOG")
check "200 small writes: at most one security.capability lookup ($asks)" test "$asks" -le 1
