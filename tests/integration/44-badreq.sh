#!/usr/bin/env bash
# Bad requests through the mount: over-long names, . and .. games, a
# folder moved into its own child, non-empty rmdir, writes and truncates
# at absurd offsets, over-sized xattrs and recfs's own xattr names, 10 000
# entries in one folder, 64 levels of folders. Each errno is checked on
# recfs and, where ext4 answers the same call, on an ext4 twin folder
# ($REF, under /tmp) too, so the expectation is what Linux gives. The
# daemon must survive all of it and unmount cleanly.
. "$(dirname "$0")/lib.sh"

setup
need_mount
M=$MNT
R=$REF
# Only meaningful if the twin is on ext4, as it is on Debian's default /tmp.
[ "$(stat -f -c %T "$R")" == "ext2/ext3" ] && ON_EXT4=1 || ON_EXT4=0
[ "$ON_EXT4" -eq 1 ] || say "$R is not on ext4: the ext4 comparisons are skipped"

# same NAME WANT FSOP-ARGS...: the fsop call (with @ standing for the
# root) gives WANT on recfs and, when on ext4, on the twin as well.
same() {
	local name=$1 want=$2 a got_m got_r
	local -a am=() ar=()
	shift 2
	for a in "$@"; do
		am+=("${a//@/$M}")
		ar+=("${a//@/$R}")
	done
	got_m=$("$TESTBIN/fsop" "${am[@]}" 2>&1)
	if [ "$ON_EXT4" -eq 1 ]; then
		got_r=$("$TESTBIN/fsop" "${ar[@]}" 2>&1)
		check_eq "$name" "$want|$want" "$got_m|$got_r"
	else
		check_eq "$name" "$want" "$got_m"
	fi
}

# on_both CMD...: run a shell command with @ as each root in turn.
on_both() {
	local root rc=0
	for root in "$M" "$R"; do
		eval "${*//@/$root}" 2>/dev/null || rc=1
	done
	return "$rc"
}

# --- names: 255 bytes is the limit, 256 is ENAMETOOLONG
n255=$(printf 'n%.0s' $(seq 1 255))
n256=${n255}n
same "create a 255-byte name" OK open "@/$n255" wronly,creat 0644
same "create a 256-byte name: ENAMETOOLONG" ENAMETOOLONG open "@/$n256" wronly,creat 0644
same "mkdir a 256-byte name: ENAMETOOLONG" ENAMETOOLONG mkdir "@/$n256" 0755
same "rename to a 256-byte name: ENAMETOOLONG" ENAMETOOLONG rename "@/$n255" "@/$n256"
same "symlink with a 256-byte name: ENAMETOOLONG" ENAMETOOLONG symlink x "@/$n256"
same "stat a 256-byte name: ENAMETOOLONG" ENAMETOOLONG stat "@/$n256"
same "unlink the 255-byte name" OK unlink "@/$n255"
check_eq "recfs reports 255 as its name limit (statfs)" 255 "$(stat -f -c %l "$M")"

# --- . and .. games
on_both 'mkdir -p @/a/b/c && : >@/f'
same "mv a a/b/x (a folder into its own child): EINVAL" EINVAL rename "@/a" "@/a/b/x"
same "mv a a/b/c/d (two levels down): EINVAL" EINVAL rename "@/a" "@/a/b/c/d"
same "exchange a with its child a/b: EINVAL" EINVAL rename "@/a" "@/a/b" exchange
same "mv a/b a (onto its own ancestor): ENOTEMPTY" ENOTEMPTY rename "@/a/b" "@/a"
same "rmdir a/.: EINVAL" EINVAL rmdir "@/a/."
same "rmdir a/b/..: ENOTEMPTY" ENOTEMPTY rmdir "@/a/b/.."
same "rename a file onto a/..: EBUSY" EBUSY rename "@/f" "@/a/.."
same "rename a file onto a/.. with RENAME_NOREPLACE: EEXIST" EEXIST rename "@/f" "@/a/.." noreplace
same "rename a/. away: EBUSY" EBUSY rename "@/a/." "@/x"
same "rename a/b/.. away: EBUSY" EBUSY rename "@/a/b/.." "@/x"
same "mkdir a/.: EEXIST" EEXIST mkdir "@/a/." 0755
same "mkdir a/..: EEXIST" EEXIST mkdir "@/a/.." 0755
same "unlink a/.: EISDIR" EISDIR unlink "@/a/."
same "open a/. for writing: EISDIR" EISDIR open "@/a/." wronly
same "rmdir a non-empty folder: ENOTEMPTY" ENOTEMPTY rmdir "@/a"
same "rmdir a file: ENOTDIR" ENOTDIR rmdir "@/f"
same "a file used as a folder: ENOTDIR" ENOTDIR stat "@/f/x"
same "create under a file: ENOTDIR" ENOTDIR open "@/f/x" wronly,creat 0644
same "truncate a folder: EISDIR" EISDIR truncate "@/a" 0
same "open a folder read-write: EISDIR" EISDIR open "@/a" rdwr
same "O_DIRECTORY on a file: ENOTDIR" ENOTDIR open "@/f" rdonly,directory
on_both 'ln -s loop @/loop'
same "a symlink loop: ELOOP" ELOOP stat "@/loop"
on_both 'mkdir @/gone'
check_eq "create in a folder removed under the caller's feet: ENOENT" "ENOENT|ENOENT" \
	"$(cd "$M/gone" && rmdir "$M/gone" && fsop open new wronly,creat 0644)|$(cd "$R/gone" && rmdir "$R/gone" && fsop open new wronly,creat 0644)"
check_eq "the tree is as it was: recfs" "a a/b a/b/c f loop" \
	"$(cd "$M" && find a f loop | sort | xargs)"
expect_errno "rmdir of keep/ itself: EPERM (recfs)" EPERM rmdir "$M/keep"
expect_errno "rename keep/: EPERM (recfs)" EPERM rename "$M/keep" "$M/keep2"

# --- writes and truncates at absurd offsets
on_both 'printf abc >@/big'
same "pwrite at 2^63-1: EINVAL" "OK EINVAL OK" seq "@/big" o:wronly w:9223372036854775807:x c
same "pwrite at 2^63-2 (2 bytes, to 2^63): EINVAL" "OK EINVAL OK" seq "@/big" o:wronly w:9223372036854775806:xy c
same "pwrite at a negative offset: EINVAL" "OK EINVAL OK" seq "@/big" o:wronly w:-1:x c
same "pread at a negative offset: EINVAL" "OK EINVAL OK" seq "@/big" o:rdonly r:-1:10 c
same "truncate to -1: EINVAL" EINVAL truncate "@/big" -1
same "truncate to 2^63-1: EFBIG" EFBIG truncate "@/big" 9223372036854775807
same "truncate to 2^62: EFBIG" EFBIG truncate "@/big" 4611686018427387904
same "truncate to 32 TiB: EFBIG" EFBIG truncate "@/big" 35184372088832
# show FILE: its first 64 bytes, NULs as dots (never read a huge file whole)
show_start() { head -c 64 "$1" | tr '\0' .; }
check_eq "after the refused truncates: the file is unchanged" "abc|abc" "$(show_start "$M/big")|$(show_start "$R/big")"
# A write that cannot be stored must fail at the write, with EFBIG, and
# change nothing. (recfs's own limit is just below ext4's 16 TiB: its
# blocks carry 40 bytes each on the host.)
same "pwrite 1 byte at 2^62: EFBIG at the write, close OK" "OK EFBIG OK" \
	seq "@/big" o:wronly w:4611686018427387904:x c
same "pwrite 1 byte at 32 TiB: EFBIG at the write, close OK" "OK EFBIG OK" \
	seq "@/big" o:wronly w:35184372088832:x c
check_eq "after the refused writes: size unchanged" "3|3" "$(stat -c %s "$M/big")|$(stat -c %s "$R/big")"
on_both 'printf def >>@/big'
check_eq "after the refused writes: an append still lands at 3" "abcdef|abcdef" \
	"$(show_start "$M/big")|$(show_start "$R/big")"

# --- xattrs: the kernel's limits, recfs's 3656-byte area, its own names
on_both ': >@/x'
v3000=$(head -c 3000 /dev/zero | tr '\0' v)
v4000=$(head -c 4000 /dev/zero | tr '\0' v)
v65536=$(head -c 65536 /dev/zero | tr '\0' v)
n255x=user.$(printf 'x%.0s' $(seq 1 250))
same "xattr value of 65537 bytes: E2BIG" E2BIG setxattr "@/x" user.big "${v65536}v"
same "xattr name of 256 bytes: ERANGE" ERANGE setxattr "@/x" "${n255x}x" v
same "xattr name of 255 bytes" OK setxattr "@/x" "$n255x" v
same "xattr in an unknown namespace: EOPNOTSUPP" EOPNOTSUPP setxattr "@/x" bogus.x v
got=$(fsop setxattr "$M/x" user.big "$v65536")
if [[ $got == E2BIG || $got == ENOSPC ]]; then
	ok "xattr value of 65536 bytes: E2BIG or ENOSPC ($got)"
else
	fail "xattr value of 65536 bytes: E2BIG or ENOSPC" "got $got"
fi
expect_errno "xattr value of 4000 bytes (over the 3656-byte area): ENOSPC" ENOSPC setxattr "$M/x" user.big "$v4000"
expect_errno "xattr value of 3000 bytes fits" OK setxattr "$M/x" user.a "$v3000"
expect_errno "a second 3000-byte xattr no longer fits: ENOSPC" ENOSPC setxattr "$M/x" user.b "$v3000"
expect_errno "after ENOSPC the first is intact" OK getxattr "$M/x" user.a
check_eq "after ENOSPC the first has its value" "$v3000" "$(xget "$M/x" user.a)"
n=100
while [ "$(fsop setxattr "$M/x" "user.k$n" 0123456789)" == OK ] && [ "$n" -lt 999 ]; do n=$((n + 1)); done
check_eq "equal small xattrs fill the rest of the area, then ENOSPC" ENOSPC \
	"$(fsop setxattr "$M/x" "user.k$n" 0123456789)"
say "after the 3000-byte one, $((n - 100)) more 10-byte xattrs fitted"
expect_errno "trusted.* is not stored: EOPNOTSUPP (recfs keeps user.* only)" EOPNOTSUPP setxattr "$M/x" trusted.x v
expect_errno "security.* is not stored: EOPNOTSUPP" EOPNOTSUPP setxattr "$M/x" security.x v
for a in retention expires state sha256 other; do
	expect_errno "setxattr user.recfs.$a: EPERM" EPERM setxattr "$M/x" "user.recfs.$a" v
done
expect_errno "setxattr user.recfs.state with XATTR_CREATE: EPERM" EPERM setxattr "$M/x" user.recfs.state v create
expect_errno "removexattr user.recfs.state: EPERM" EPERM removexattr "$M/x" user.recfs.state
check_eq "user.recfs.state still computed" closed "$(xget "$M/x" user.recfs.state)"

# --- 10 000 entries in one folder: BADREQ_ENTRIES (default 10000), made
# in at most BADREQ_SECS (default 40) seconds; a slow (sanitizer) build
# goes on with as many as it made by then.
N=${BADREQ_ENTRIES:-10000}
budget_ms=$((${BADREQ_SECS:-40} * 1000))
mkdir "$M/many"
t0=$(now_ms)
err=0
for ((i = 0; i < N; i++)); do
	: >"$M/many/call-$i.wav" || { err=1; break; }
	if [ $((i % 100)) -eq 99 ] && [ $(($(now_ms) - t0)) -gt "$budget_ms" ]; then
		i=$((i + 1))
		break
	fi
done
t1=$(now_ms)
check_eq "files created in one folder without an error" 0 "$err"
[ "$i" -lt "$N" ] && [ "$err" -eq 0 ] && say "time budget used up after $i of $N files"
N=$i
check_eq "ls lists $N names" "$N" "$(ls -f "$M/many" | grep -c '^call-')"
check_eq "no name listed twice" "$N" "$(ls -f "$M/many" | grep '^call-' | sort -u | wc -l)"
check_eq "stat of all $N: regular, empty" "$N regular empty file" \
	"$(cd "$M/many" && find . -maxdepth 1 -name 'call-*' -print0 | xargs -0 stat -c '%F' | sort | uniq -c | xargs)"
check_eq "folder link count with $N files" 2 "$(stat -c %h "$M/many")"
t2=$(now_ms)
check "rm -rf of the folder" rm -rf "$M/many"
t3=$(now_ms)
check "the folder is gone" test ! -e "$M/many"
say "$N entries: create $((t1 - t0)) ms, list and stat $((t2 - t1)) ms, remove $((t3 - t2)) ms"

# --- 64 levels deep
deep=$M
for ((i = 1; i <= 64; i++)); do deep+=/d$i; done
check "mkdir -p of 64 levels" mkdir -p "$deep"
check "write a file at the bottom" "$TESTBIN/recwriter" -n 50 -S 64 "$deep/bottom.wav"
"$TESTBIN/recwriter" -n 50 -S 64 "$R/bottom.wav"
check "read it back" cmp "$deep/bottom.wav" "$R/bottom.wav"
check_eq "find sees 64 levels" 64 "$(find "$M/d1" -type d | wc -l)"

# --- the daemon lived through it all
check "the daemon is still running" kill -0 "$RECFS_PID"
check "still mounted" mountpoint -q "$M"
umount_fs
need_mount
check "after a remount: the file 64 levels down is intact" cmp "$deep/bottom.wav" "$R/bottom.wav"
check_eq "after a remount: the refused writes left big as it was" "6 abcdef" \
	"$(stat -c %s "$M/big") $(show_start "$M/big")"
check_eq "after a remount: the xattrs that fitted are there" "$v3000" "$(xget "$M/x" user.a)"
umount_fs
