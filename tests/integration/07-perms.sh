#!/usr/bin/env bash
# Permissions are enforced for another uid (default_permissions,
# allow_other), new nodes belong to the caller, setgid folders pass their
# group on; [access] owner/group in the config override the caller.
. "$(dirname "$0")/lib.sh"

setup
need_mount
M=$MNT
# fsop where uid 12345 can surely run it
install -m 0755 "$TESTBIN/fsop" "$WORK/fsop"

# other EXPECT NAME ARGS...: fsop as uid/gid 12345 with no groups.
other() {
	local want=$1 name=$2 got
	shift 2
	got=$(setpriv --reuid=12345 --regid=12345 --clear-groups "$WORK/fsop" "$@" 2>&1)
	check_eq "uid 12345: $name" "$want" "$got"
}

check "root folder made world-searchable" chmod 0755 "$M"
check_eq "uid 12345 can stat the mount (allow_other)" 0 \
	"$(setpriv --reuid=12345 --regid=12345 --clear-groups stat -c %u "$M")"

echo secret >"$M/secret"
chmod 0600 "$M/secret"
echo public >"$M/public"
chmod 0644 "$M/public"
other EACCES "cannot read a 0600 root file" open "$M/secret" rdonly
other OK "can read a 0644 root file" open "$M/public" rdonly
other EACCES "cannot write a 0644 root file" open "$M/public" wronly
other EACCES "cannot truncate a 0644 root file" truncate "$M/public" 0
other EPERM "cannot chmod a root file" chmod "$M/public" 0666
other EPERM "cannot chown a root file" chown "$M/public" 12345 12345
other EPERM "cannot set explicit times on a root file" utimens "$M/public" 1 1
other EACCES "cannot set user xattrs on a root file it cannot write" setxattr "$M/public" user.x y
check_eq "root files untouched" "secret public" "$(cat "$M/secret" "$M/public" | xargs)"

mkdir -m 0755 "$M/rootdir"
echo r >"$M/rootdir/r"
other EACCES "cannot create in a 0755 root folder" open "$M/rootdir/new" wronly,creat 0644
other EACCES "cannot mkdir in a 0755 root folder" mkdir "$M/rootdir/new" 0755
other EACCES "cannot unlink in a 0755 root folder" unlink "$M/rootdir/r"
other EACCES "cannot rename in a 0755 root folder" rename "$M/rootdir/r" "$M/rootdir/r2"
check "nothing was created in the 0755 folder" test ! -e "$M/rootdir/new"
mkdir -m 0700 "$M/private"
other EACCES "cannot open a 0700 root folder" opendir "$M/private"
other EACCES "cannot look up inside a 0700 root folder" stat "$M/private/x"

mkdir "$M/open"
chmod 0777 "$M/open"
other OK "can create in a 0777 folder" open "$M/open/mine" wronly,creat 0640
check_eq "its file belongs to uid/gid 12345" "12345 12345 640" "$(stat -c '%u %g %a' "$M/open/mine")"
other OK "can mkdir in a 0777 folder" mkdir "$M/open/mydir" 0750
check_eq "its folder belongs to uid/gid 12345" "12345 12345 750" "$(stat -c '%u %g %a' "$M/open/mydir")"
other "OK OK OK" "can write its own file" seq "$M/open/mine" o:wronly W:mine c
other OK "can chmod its own file" chmod "$M/open/mine" 0600
other EPERM "cannot give its file away" chown "$M/open/mine" 0 0
other OK "can set a user xattr on its own file" setxattr "$M/open/mine" user.x y
other OK "can set UTIME_NOW on its own file" utimens "$M/open/mine" now now
echo rw >"$M/open/shared"
chmod 0666 "$M/open/shared"
other OK "can set UTIME_NOW on a root file it may write" utimens "$M/open/shared" now now
other OK "can unlink a root file in a 0777 folder" unlink "$M/open/shared"
other OK "can rename its own file" rename "$M/open/mine" "$M/open/mine2"

# sticky folder: only the owner may remove or rename
mkdir "$M/sticky"
chmod 1777 "$M/sticky"
echo s >"$M/sticky/roots"
chmod 0666 "$M/sticky/roots"
other EPERM "sticky folder: cannot unlink a root file" unlink "$M/sticky/roots"
other EPERM "sticky folder: cannot rename a root file" rename "$M/sticky/roots" "$M/sticky/x"
other OK "sticky folder: can create" open "$M/sticky/mine" wronly,creat 0644
other OK "sticky folder: can unlink its own" unlink "$M/sticky/mine"
check "sticky folder: root's file still there" test -f "$M/sticky/roots"

# setgid folder: new nodes take the folder's group, subfolders the bit
mkdir "$M/sg"
chown 0:54321 "$M/sg"
chmod 2777 "$M/sg"
other OK "setgid folder: create" open "$M/sg/f" wronly,creat 0644
check_eq "setgid folder: new file gets the folder's group" "12345 54321" "$(stat -c '%u %g' "$M/sg/f")"
other OK "setgid folder: mkdir" mkdir "$M/sg/sub" 0755
check_eq "setgid folder: new folder gets the group and the setgid bit" "12345 54321 2755" \
	"$(stat -c '%u %g %a' "$M/sg/sub")"

# all of it after a remount
umount_fs
need_mount
check_eq "remount: owners and modes" "12345 12345 600|12345 54321 2755|0 0 600" \
	"$(stat -c '%u %g %a' "$M/open/mine2" "$M/sg/sub" "$M/secret" | paste -sd'|')"
other EACCES "remount: still cannot read the 0600 root file" open "$M/secret" rdonly
umount_fs

# [access] owner and group from the config override the caller's
make_store "$WORK/acc" access.owner=4242 access.group=4343
CONF=$WORK/acc/recfs.conf need_mount
echo x >"$M/forced"
mkdir "$M/forceddir"
check_eq "[access] owner/group: new file" "4242 4343" "$(stat -c '%u %g' "$M/forced")"
check_eq "[access] owner/group: new folder" "4242 4343" "$(stat -c '%u %g' "$M/forceddir")"
