#!/usr/bin/env bash
# recctl init, a first mount, the keep folder, daemon mode, passphrase stores.
. "$(dirname "$0")/lib.sh"

setup

# --- what init made
check "init: store superblock exists" test -f "$STORE/recfs.store"
check "init: objects/ exists" test -d "$STORE/objects"
check_eq "init: key file mode 0600" 600 "$(stat -c %a "$KEY")"
check_eq "init: key file holds 32 bytes" 32 "$(stat -c %s "$KEY")"

before=$(store_digest; sha256sum "$KEY")
check_not "init: refuses an existing store" "$RECCTL" init --config "$CONF"
check_eq "init: existing store and key untouched" "$before" "$(store_digest; sha256sum "$KEY")"

# --- first mount: the root holds keep/ and nothing else
need_mount
check_eq "mount: root lists only keep" "keep" "$(ls -A "$MNT")"
check "mount: keep is a directory" test -d "$MNT/keep"
check_eq "mount: root link count 3 (itself, .., keep)" 3 "$(stat -c %h "$MNT")"
check "statfs works" stat -f "$MNT"
check "df works" df "$MNT"
check "fs type is fuse" bash -c "grep -q ' $MNT fuse' /proc/self/mounts"
opts=$(awk -v m="$MNT" '$2 == m { print $4 }' /proc/self/mounts)
case ",$opts," in
*,allow_other,*) ok "mount: allow_other on by default" ;;
*) fail "mount: allow_other on by default" "options: $opts" ;;
esac
case ",$opts," in
*,default_permissions,*) ok "mount: default_permissions on by default" ;;
*) fail "mount: default_permissions on by default" "options: $opts" ;;
esac

# root and keep/ cannot be removed or renamed
mkdir "$MNT/d"
expect_errno "keep/ cannot be removed" EPERM rmdir "$MNT/keep"
expect_errno "keep/ cannot be renamed" EPERM rename "$MNT/keep" "$MNT/keep2"
expect_errno "keep/ cannot be replaced by a rename" EPERM rename "$MNT/d" "$MNT/keep"
check "keep/ still there" test -d "$MNT/keep"
rmdir "$MNT/d"
echo hello >"$MNT/hello.txt"
umount_fs

# remount: keep/ is not created twice, the file is back
need_mount
check_eq "remount: root lists hello.txt and keep" "hello.txt keep" "$(ls -A "$MNT" | xargs)"
check_eq "remount: content" hello "$(cat "$MNT/hello.txt")"
umount_fs

# --- keep_dir is configurable
make_store "$WORK/gem" retention.keep_dir=gem
CONF=$WORK/gem/recfs.conf need_mount
check_eq "keep_dir=gem: root lists only gem" "gem" "$(ls -A "$MNT")"
expect_errno "keep_dir=gem: gem/ cannot be removed" EPERM rmdir "$MNT/gem"
umount_fs

# --- without -f it daemonizes; fusermount3 -u ends it
timeout 20 "$RECFS" --config "$CONF" "$MNT" </dev/null >"$WORK/daemon.out" 2>&1
rc=$?
check_eq "daemon mode: recfs returns 0 (within 20 s)" 0 "$rc"
for ((i = 0; i < 50; i++)); do mountpoint -q "$MNT" && break; sleep 0.1; done
if mountpoint -q "$MNT"; then
	ok "daemon mode: mounted"
	# The daemon's PID, for cleanup should it not exit: the only process
	# whose command line names this test's own config file.
	dpid=$(pgrep -f -x -- "$RECFS --config $CONF $MNT" | head -n 1)
	[ -n "$dpid" ] && T_PIDS+=("$dpid")
	check_eq "daemon mode: content" hello "$(cat "$MNT/hello.txt")"
	fusermount3 -u "$MNT"
	gone=no
	for ((i = 0; i < 100; i++)); do
		if [ -z "$dpid" ] || ! kill -0 "$dpid" 2>/dev/null; then gone=yes; break; fi
		sleep 0.1
	done
	check_eq "daemon mode: daemon exits after fusermount3 -u" yes "$gone"
else
	fail "daemon mode: mounted"
	show "$(cat "$WORK/daemon.out")"
fi

# --- a passphrase store
mkdir -p "$WORK/pp"
printf 'correct horse battery staple\n' >"$WORK/pp/pass"
chmod 0600 "$WORK/pp/pass"
make_store "$WORK/pp" store.key_file= store.passphrase_file="$WORK/pp/pass"
check "passphrase store: no key file created" test ! -e "$WORK/pp/key"
CONF=$WORK/pp/recfs.conf need_mount
echo secret >"$MNT/p.txt"
umount_fs
CONF=$WORK/pp/recfs.conf need_mount
check_eq "passphrase store: content after remount" secret "$(cat "$MNT/p.txt")"
umount_fs
printf 'wrong horse battery staple\n' >"$WORK/pp/wrongpass"
write_conf "$WORK/pp/wrong.conf" "$WORK/pp/store" "" store.passphrase_file="$WORK/pp/wrongpass"
before=$(store_digest "$WORK/pp/store")
expect_refused "wrong passphrase" "$WORK/pp/wrong.conf" "$MNT" "wrong key|passphrase"
check_eq "wrong passphrase: store untouched" "$before" "$(store_digest "$WORK/pp/store")"
