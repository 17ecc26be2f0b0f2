#!/usr/bin/env bash
# The short class with short = 3 s: a closed file vanishes on time; a file
# open for writing never expires and counts from its close; a reopen counts
# from the new close; a file open only for reading leaves the tree on time
# but its handle keeps reading; the user.recfs.* xattrs show it and cannot
# be written.
. "$(dirname "$0")/lib.sh"

SHORT=3000
setup retention.short=3s retention.keep=8s
need_mount
M=$MNT

# recfs_names FILE: the user.recfs.* names listed for FILE
recfs_names() {
	getfattr --absolute-names -h -d -m '^user\.recfs\.' -- "$1" 2>/dev/null |
		sed -n 's/^\(user\.recfs\.[a-z0-9]*\)=.*/\1/p' | sort | xargs
}

# --- set everything going
echo hello-a >"$M/a.wav"
ta=$(now_ms)
echo hello-idle >"$M/idle.wav"
sleep 600 >>"$M/idle.wav" &
idle_pid=$!
echo hello-ro >"$M/ro.wav"
tr=$(now_ms)
"$TESTBIN/fsop" seq "$M/ro.wav" o:rdonly z:5500 R:0:8 c >"$WORK/ro.out" &
ro_pid=$!
echo first >"$M/b.wav"
tb=$(now_ms)
mkdir "$M/sub"
echo in-a-folder >"$M/sub/c.wav"
tc=$(now_ms)

# --- what the xattrs say
check_eq "closed file: retention short" short "$(xget "$M/a.wav" user.recfs.retention)"
check_eq "closed file: state closed" closed "$(xget "$M/a.wav" user.recfs.state)"
exp=$(xget "$M/a.wav" user.recfs.expires)
if ems=$(iso_ms "$exp"); then
	ok "expires is ISO-8601 UTC ($exp)"
	check_range "expires is the close time + short" $((ta + SHORT - 1500)) $((ta + SHORT + 1500)) "$ems"
else
	fail "expires is ISO-8601 UTC" "got '$exp'"
fi
expect_errno "short file: no user.recfs.sha256" ENODATA getxattr "$M/a.wav" user.recfs.sha256
listed=$(recfs_names "$M/a.wav")
for n in user.recfs.expires user.recfs.retention user.recfs.state; do
	[[ " $listed " == *" $n "* ]] && ok "listxattr shows $n" || fail "listxattr shows $n" "got '$listed'"
done
check_eq "open for writing: state recording" recording "$(xget "$M/idle.wav" user.recfs.state)"
check_eq "open for writing: retention short" short "$(xget "$M/idle.wav" user.recfs.retention)"
# On the file held open, which cannot expire under a slow machine's feet.
for n in retention expires state sha256 other; do
	expect_errno "setxattr user.recfs.$n: EPERM" EPERM setxattr "$M/idle.wav" "user.recfs.$n" keep
done
expect_errno "removexattr user.recfs.state: EPERM" EPERM removexattr "$M/idle.wav" user.recfs.state
check "setfattr user.recfs.retention fails" bash -c "! setfattr -n user.recfs.retention -v keep '$M/idle.wav' 2>/dev/null"
check_eq "retention unchanged by the attempts" short "$(xget "$M/idle.wav" user.recfs.retention)"

# --- reopen b at +2 s: it counts from the new close
sleep_until $((tb + 2000))
echo second >>"$M/b.wav"
tb2=$(now_ms)

expect_expiry \
	"closed file vanishes on time" "$M/a.wav" $((ta + SHORT)) \
	"file held open for reading leaves the tree on time" "$M/ro.wav" $((tr + SHORT)) \
	"closed file in a folder vanishes on time" "$M/sub/c.wav" $((tc + SHORT)) \
	"reopened file counts from its last close" "$M/b.wav" $((tb2 + SHORT))

wait "$ro_pid"
check_eq "the reader's handle still reads after expiry" "OK OK hello-ro OK" "$(cat "$WORK/ro.out")"

# --- the idle writer: well past its first deadline, still there
sleep_until $((ta + SHORT + SLACK_MS + 1000))
check "open for writing: survives past the deadline" test -f "$M/idle.wav"
check_eq "open for writing: still recording" recording "$(xget "$M/idle.wav" user.recfs.state)"
kill "$idle_pid"
wait "$idle_pid" 2>/dev/null
ti=$(now_ms)
wait_for "state closed after the writer ends" 2 xattr_is "$M/idle.wav" user.recfs.state closed &&
	ok "state closed after the writer ends"
check_eq "content of the long-open file" hello-idle "$(cat "$M/idle.wav")"
expect_expiry "open file expires short after its close" "$M/idle.wav" $((ti + SHORT))

# --- the folder's attributes follow an expiry: the kernel keeps them for a
# minute, so recfs must tell it (mtime, and the link count when a folder
# goes)
mkdir -p "$M/att/sub"
echo x >"$M/att/f.wav"
# An open file never expires: it keeps att from going empty (and then
# expiring itself) while it is looked at.
exec 7>"$M/att/held.wav"
sleep 0.2
m0=$(stat -c %Y.%y "$M/att")
check_eq "folder with a subfolder: 3 links" 3 "$(stat -c %h "$M/att")"
wait_for "the file and the empty subfolder expire" 10 \
	bash -c "[ ! -e '$M/att/f.wav' ] && [ ! -e '$M/att/sub' ]" &&
	ok "the file and the empty subfolder expire"
check_eq "after the subfolder expired: 2 links" 2 "$(stat -c %h "$M/att")"
check "after the expiry: the folder's mtime moved" test "$(stat -c %Y.%y "$M/att")" != "$m0"
exec 7>&-
