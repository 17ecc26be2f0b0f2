#!/usr/bin/env bash
# make install into a temporary DESTDIR (never the real system); the
# installed systemd units (systemd-analyze verify, and their command lines
# run by hand the way systemd would run them, credentials included);
# mount.recfs run directly; and mount -t recfs / fstab through mount(8),
# which only looks in /sbin for helpers, so that part runs in a private
# mount namespace with the DESTDIR's sbin laid over /sbin by a read-only
# overlay (skipped where that is not possible).
. "$(dirname "$0")/lib.sh"

setup
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$(dirname "$RECFS")}
DEST=$WORK/dest
HELPER=$DEST/usr/sbin/mount.recfs
UNITS=$DEST/usr/lib/systemd/system
command -v make >/dev/null || bail "environment: make is not installed"

# installed_daemon CONF MNT: the PID of the daemonized recfs mount.recfs
# started for CONF at MNT (its command line names this test's files).
installed_daemon() {
	pgrep -f -x -- "$DEST/usr/sbin/recfs --config $1 $2( -o .*)?" | head -n 1
}

# gone_within SECONDS PID: true once PID has exited.
gone_within() {
	local i
	for ((i = 0; i < $1 * 10; i++)); do
		kill -0 "$2" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# unmounted_within SECONDS DIR: true once nothing is mounted on DIR.
unmounted_within() {
	local i
	for ((i = 0; i < $1 * 10; i++)); do
		mountpoint -q "$2" || return 0
		sleep 0.1
	done
	return 1
}

# unit_cmd UNIT KEY: the first KEY= command line of an installed unit,
# without systemd's prefix characters (-, +, @, !, :).
unit_cmd() {
	local line
	line=$(sed -n "s/^$2=//p" "$UNITS/$1" | head -n 1)
	while [[ $line == [-+@!:]* ]]; do line=${line:1}; done
	printf '%s\n' "$line"
}

# as_systemd LINE CREDDIR MNT [MAINPID]: LINE with the specifiers and
# variables systemd would expand (%d, %f, $MAINPID, $$), and the installed
# recfs/recctl replaced by the build's own (identical, checked below), so
# that lib.sh recognises the daemon as this test's.
as_systemd() {
	local s=$1
	s=${s//%d/$2}
	s=${s//%f/$3}
	s=${s//\$MAINPID/${4:-}}
	s=${s//\$\$/\$}
	s=${s//\/usr\/sbin\/recfs /$RECFS }
	s=${s//\/usr\/sbin\/recctl /$RECCTL }
	printf '%s\n' "$s"
}

# ------------------------------------------------------------ make install
out=$(make -s -C "$TOP" -o all install BUILD="$BUILD" DESTDIR="$DEST" PREFIX=/usr 2>&1)
rc=$?
if [ "$rc" -eq 0 ]; then
	ok "make install DESTDIR PREFIX=/usr: exit 0"
else
	fail "make install DESTDIR PREFIX=/usr: exit 0" "exit status $rc"
	show "$out"
	exit 1
fi

for f in usr/sbin/recfs usr/sbin/recctl usr/sbin/mount.recfs; do
	check_eq "installed $f, mode 755" 755 "$(stat -c %a "$DEST/$f" 2>&1)"
done
check "installed recfs is the build's" cmp -s "$RECFS" "$DEST/usr/sbin/recfs"
check "installed recctl is the build's" cmp -s "$RECCTL" "$DEST/usr/sbin/recctl"
check "installed mount.recfs is tools/mount.recfs" cmp -s "$TOP/tools/mount.recfs" "$HELPER"
if [ -x "$BUILD/recbench" ]; then
	check "installed usr/bin/recbench (built)" cmp -s "$BUILD/recbench" "$DEST/usr/bin/recbench"
else
	check "no usr/bin/recbench (not built)" test ! -e "$DEST/usr/bin/recbench"
fi
for f in usr/share/man/man8/recfs.8 usr/share/man/man8/recctl.8 \
	usr/share/man/man8/mount.recfs.8 usr/share/man/man5/recfs.conf.5 \
	usr/lib/systemd/system/recfs@.service usr/lib/systemd/system/recfs-reap.service \
	usr/lib/systemd/system/recfs-reap.timer \
	usr/share/doc/recfs/examples/recfs.conf \
	usr/share/doc/recfs/examples/systemd/recfs@.service \
	usr/share/doc/recfs/examples/systemd/recfs-reap.service \
	usr/share/doc/recfs/examples/systemd/recfs-reap.timer \
	etc/recfs/recfs.conf; do
	check_eq "installed $f, mode 644" 644 "$(stat -c %a "$DEST/$f" 2>&1)"
done
check "installed the admin guide" test -f "$DEST/usr/share/doc/recfs/admin-guide.md"
check "PREFIX=/usr: no extra /sbin link" test ! -e "$DEST/sbin/mount.recfs"
# Every program the units run exists: recfs and recctl under DESTDIR, the
# rest (sh, fusermount3, mountpoint) on this system.
missing=
for p in $(sed -n 's/^Exec[A-Za-z]*=[-+@!:]*\([^ ]*\).*/\1/p' "$UNITS"/* |
	cat - <(grep -oh '/usr/bin/[a-z0-9]*' "$UNITS"/*) | sort -u); do
	case $p in
	/usr/sbin/rec*) [ -x "$DEST$p" ] || missing="$missing $DEST$p" ;;
	*) [ -x "$p" ] || missing="$missing $p" ;;
	esac
done
check_eq "units: every program they run exists" "" "$missing"
check_eq "units name no /usr/local" "" "$(grep -l /usr/local "$UNITS"/*)"

# An existing /etc/recfs/recfs.conf is never overwritten.
echo "; the admin's own" >>"$DEST/etc/recfs/recfs.conf"
before=$(sha256sum <"$DEST/etc/recfs/recfs.conf")
out=$(make -s -C "$TOP" -o all install BUILD="$BUILD" DESTDIR="$DEST" PREFIX=/usr 2>&1)
check_eq "second make install: exit 0" 0 "$?"
check_eq "second make install: existing recfs.conf kept" "$before" \
	"$(sha256sum <"$DEST/etc/recfs/recfs.conf")"

# PREFIX=/usr/local: a link in /sbin, where mount(8) looks; uninstall.
D2=$WORK/dest-local
out=$(make -s -C "$TOP" -o all install BUILD="$BUILD" DESTDIR="$D2" 2>&1)
check_eq "make install PREFIX=/usr/local: exit 0" 0 "$?"
check_eq "PREFIX=/usr/local: sbin/mount.recfs links to the helper" \
	/usr/local/sbin/mount.recfs "$(readlink "$D2/sbin/mount.recfs")"
check "PREFIX=/usr/local: units run /usr/local/sbin/recfs" \
	grep -q '^ExecStart=/usr/local/sbin/recfs ' "$D2/usr/local/lib/systemd/system/recfs@.service"
out=$(make -s -C "$TOP" uninstall DESTDIR="$D2" 2>&1)
check_eq "make uninstall: exit 0" 0 "$?"
check_eq "make uninstall: only etc/recfs/recfs.conf is left" "etc/recfs/recfs.conf" \
	"$(cd "$D2" && find . \( -type f -o -type l \) -printf '%P\n')"

# ------------------------------------------------------------ man pages
for m in man8/recfs.8 man8/recctl.8 man5/recfs.conf.5; do
	if command -v groff >/dev/null; then
		w=$(groff -man -Tutf8 -ww -z "$DEST/usr/share/man/$m" 2>&1)
		check_eq "man $m renders without warnings" "" "$w"
	fi
	if command -v man >/dev/null; then
		check "man -l $m" bash -c "man -l '$DEST/usr/share/man/$m' 2>/dev/null | grep -q ."
	fi
done

# ------------------------------------------------------------ systemd-analyze
if command -v systemd-analyze >/dev/null; then
	V=$WORK/verify
	mkdir -p "$V"
	for u in recfs@.service recfs-reap.service recfs-reap.timer; do
		# The programs exist only under DESTDIR here.
		sed "s|/usr/sbin/|$DEST/usr/sbin/|g" "$UNITS/$u" >"$V/$u"
	done
	cp "$V/recfs@.service" "$V/recfs@var-spool-asterisk-monitor.service"
	for u in recfs@var-spool-asterisk-monitor.service recfs-reap.service recfs-reap.timer; do
		out=$(cd "$V" && systemd-analyze verify --man=no "./$u" 2>&1)
		rc=$?
		if [ "$rc" -eq 0 ] && [ -z "$out" ]; then
			ok "systemd-analyze verify $u"
		else
			fail "systemd-analyze verify $u" "exit status $rc"
			show "$out"
		fi
	done
else
	say "systemd-analyze is not installed: unit verification skipped"
fi

# ------------------------------------------------------------ mount.recfs
out=$("$HELPER" 2>&1)
check_eq "mount.recfs without arguments: exit 1" 1 "$?"
out=$("$HELPER" "$STORE" "$MNT" 2>&1)
check_eq "mount.recfs without config=: exit 1" 1 "$?"
check "mount.recfs without config=: says so" grep -q 'no config=FILE' <<<"$out"
out=$("$HELPER" "$WORK" "$MNT" -o "config=$CONF" 2>&1)
check_eq "mount.recfs, SPEC not the configured store: exit 1" 1 "$?"
check "mount.recfs, SPEC not the configured store: says so" \
	grep -q "is not the store" <<<"$out"
out=$("$HELPER" "$STORE" "$MNT" -o "config=$CONF,debug" 2>&1)
check_eq "mount.recfs -o debug: refused" 1 "$?"
out=$("$HELPER" "$STORE" "$MNT" -fv -o "rw,config=$CONF,noatime,nofail" 2>&1)
check_eq "mount.recfs -f (fake): exit 0" 0 "$?"
check "mount.recfs -v: shows the recfs command" \
	grep -qF -- "recfs --config $CONF $MNT -o fsname=$STORE,noatime" <<<"$out"
check_eq "mount.recfs -f (fake): nothing mounted" 0 "$(mount_count "$MNT")"

# The options mount(8) passes for the fstab line, plus a few.
opts="rw,config=$CONF,noatime,nofail,_netdev,auto,x-systemd.after=time-sync.target,defaults"
out=$("$HELPER" "$STORE" "$MNT" -n -o "$opts" 2>&1)
rc=$?
check_eq "mount.recfs STORE DIR -o config=...: exit 0" 0 "$rc"
dpid=$(installed_daemon "$CONF" "$MNT")
[ -n "$dpid" ] || say "no daemon found for $MNT"
if mountpoint -q "$MNT"; then
	ok "mount.recfs: mounted when it returns"
	mopts=$(awk -v m="$MNT" '$5 == m { print $6 }' /proc/self/mountinfo)
	case ",$mopts," in
	*,noatime,*) ok "mount.recfs: noatime reached the mount" ;;
	*) fail "mount.recfs: noatime reached the mount" "options: $mopts" ;;
	esac
	echo "through the helper" >"$MNT/helper.txt"
	check_eq "mount.recfs: file written and read" "through the helper" "$(cat "$MNT/helper.txt")"
	# The reap unit counts "in use" as success: the two must agree.
	"$RECCTL" reap --config "$CONF" >/dev/null 2>&1
	rc=$?
	check_eq "recctl reap while mounted: exit 3" 3 "$rc"
	check "recfs-reap.service: SuccessExitStatus=$rc" \
		grep -qx "SuccessExitStatus=$rc" "$UNITS/recfs-reap.service"
	fusermount3 -u "$MNT"
	if unmounted_within 10 "$MNT"; then ok "mount.recfs: fusermount3 -u unmounts"; else
		fail "mount.recfs: fusermount3 -u unmounts"
	fi
	if [ -n "$dpid" ] && gone_within 10 "$dpid"; then
		ok "mount.recfs: the daemon exits after the unmount"
	else
		fail "mount.recfs: the daemon exits after the unmount" "pid ${dpid:-none}"
	fi
else
	fail "mount.recfs: mounted when it returns"
	show "$out"
fi

# The config file in place of the store; config= may then be left out.
out=$("$HELPER" "$CONF" "$MNT" 2>&1)
check_eq "mount.recfs CONF DIR: exit 0" 0 "$?"
dpid=$(installed_daemon "$CONF" "$MNT")
check_eq "mount.recfs CONF DIR: content still there" "through the helper" \
	"$(cat "$MNT/helper.txt" 2>&1)"
umount "$MNT" 2>/dev/null || fusermount3 -u "$MNT"
if unmounted_within 10 "$MNT" && { [ -z "$dpid" ] || gone_within 10 "$dpid"; }; then
	ok "mount.recfs CONF DIR: unmounted, daemon gone"
else
	fail "mount.recfs CONF DIR: unmounted, daemon gone"
fi

out=$("$HELPER" "$STORE" "$MNT" -o "config=$CONF,nosuchoption" 2>&1)
check_eq "mount.recfs, an option recfs refuses: exit 32" 32 "$?"
check_eq "mount.recfs, an option recfs refuses: nothing mounted" 0 "$(mount_count "$MNT")"

# ------------------------------------------------------------ the units' command lines
# What recfs@.service does, with LoadCredential= played by hand: the config
# (key_file relative) and the key copied into a credentials folder.
mkdir -p "$WORK/etc" "$WORK/cred"
cp "$KEY" "$WORK/etc/recfs.key"
printf '[store]\npath = %s\nkey_file = recfs.key\n' "$STORE" >"$WORK/etc/recfs.conf"
install -m 0400 "$WORK/etc/recfs.conf" "$WORK/cred/recfs.conf"
install -m 0400 "$WORK/etc/recfs.key" "$WORK/cred/recfs.key"
U=recfs@.service
start=$(as_systemd "$(unit_cmd $U ExecStart)" "$WORK/cred" "$MNT")
post=$(as_systemd "$(unit_cmd $U ExecStartPost)" "$WORK/cred" "$MNT")
pre=$(as_systemd "$(unit_cmd $U ExecStartPre)" "$WORK/cred" "$MNT")
check_eq "recfs@.service: ExecStart reads the credentials' config in the foreground" \
	"$RECFS --config $WORK/cred/recfs.conf $MNT -f" "$start"

LOG=$WORK/unit-1.log
(eval "exec $start") </dev/null >"$LOG" 2>&1 &
upid=$!
T_PIDS+=("$upid")
if timeout 20 bash -c "$post"; then
	ok "recfs@.service: ExecStartPost returns once mounted"
	check "recfs@.service: relative key_file found in the credentials folder" mountpoint -q "$MNT"
	out=$("$RECCTL" status "$MNT" 2>&1)
	check "recctl status MOUNTPOINT under the unit" grep -q '^mounted *yes' <<<"$out"
	stop=$(as_systemd "$(unit_cmd $U ExecStop)" "$WORK/cred" "$MNT" "$upid")
	timeout 30 bash -c "$stop"
	check_eq "recfs@.service: ExecStop exits 0" 0 "$?"
	check "recfs@.service: ExecStop waited for recfs to exit" bash -c "! kill -0 $upid 2>/dev/null || grep -q '^State:.*Z' /proc/$upid/status"
	wait_exit "$upid" 10
	check_eq "recfs@.service: recfs exit status after ExecStop" 0 "$?"
	forget_pid "$upid"
	check_eq "recfs@.service: unmounted after ExecStop" 0 "$(mount_count "$MNT")"
else
	fail "recfs@.service: ExecStartPost returns once mounted"
	show_log
	kill_pid "$upid"
fi

# A crash leaves a dead mount; ExecStartPre clears it for the restart.
LOG=$WORK/unit-2.log
(eval "exec $start") </dev/null >"$LOG" 2>&1 &
upid=$!
T_PIDS+=("$upid")
if timeout 20 bash -c "$post"; then
	is_recfs "$upid" && kill -KILL "$upid"
	wait "$upid" 2>/dev/null
	forget_pid "$upid"
	check_not "after kill -9: the mount point is dead" stat "$MNT"
	timeout 20 bash -c "$pre"
	check_eq "recfs@.service: ExecStartPre clears the dead mount" 0 "$(mount_count "$MNT")"
	timeout 20 bash -c "$pre"
	check_eq "recfs@.service: ExecStartPre on a healthy mount point" 0 "$?"
else
	fail "recfs@.service: second start"
	kill_pid "$upid"
fi

# recfs-reap.service's command, with the same credentials.
reap=$(as_systemd "$(unit_cmd recfs-reap.service ExecStart)" "$WORK/cred" "$MNT")
out=$(eval "$reap" 2>&1)
check_eq "recfs-reap.service: ExecStart on the unmounted store: exit 0" 0 "$?"
check "recfs-reap.service: prints reaped N" grep -q '^reaped [0-9]' <<<"$out"

# ------------------------------------------------------------ mount(8)
# mount(8) runs /sbin/mount.TYPE, nothing else. In a private mount
# namespace a read-only overlay puts the DESTDIR's helper and recfs there.
NS=$WORK/ns.sh
cat >"$NS" <<'EOF'
set -u
DEST=$1 STORE=$2 MNT=$3 CONF=$4 WORK=$5
sbin=$(readlink -f /sbin)
cleanup() {
	mountpoint -q "$MNT" && umount -l "$MNT"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP
# wait_gone: until no recfs of this test runs and nothing is mounted.
wait_gone() {
	local i
	for ((i = 0; i < 100; i++)); do
		if ! mountpoint -q "$MNT" &&
			! pgrep -f -x -- "$sbin/recfs --config $CONF $MNT( -o .*)?" >/dev/null; then
			echo "$1=yes"
			return
		fi
		sleep 0.1
	done
	echo "$1=no"
}
if ! mount -t overlay recfs-test -o "lowerdir=$DEST/usr/sbin:$sbin" "$sbin" 2>/dev/null; then
	echo "overlay=no"
	exit 0
fi
echo "overlay=yes"
mount -n -t recfs "$STORE" "$MNT" -o "config=$CONF"
echo "mount_t=$?"
mountpoint -q "$MNT" && echo "up1=yes"
echo "via mount(8)" >"$MNT/mount8.txt" && echo "read1=$(cat "$MNT/mount8.txt")"
umount -n "$MNT"
echo "umount1=$?"
wait_gone gone1

printf '%s %s recfs config=%s,nofail,x-systemd.after=time-sync.target 0 0\n' \
	"$STORE" "$MNT" "$CONF" >"$WORK/fstab"
mount -n -T "$WORK/fstab" "$MNT"
echo "fstab_store=$?"
mountpoint -q "$MNT" && echo "up2=yes"
umount -n "$MNT"
wait_gone gone2

printf '%s %s recfs defaults 0 0\n' "$CONF" "$MNT" >"$WORK/fstab2"
mount -n -a -T "$WORK/fstab2" -t recfs
echo "fstab_conf=$?"
mount -n -a -T "$WORK/fstab2" -t recfs 2>/dev/null
echo "fstab_conf_again=$?"
echo "mounts=$(awk -v m="$MNT" '$5 == m { n++ } END { print n + 0 }' /proc/self/mountinfo)"
umount -n "$MNT"
wait_gone gone3
EOF
if command -v unshare >/dev/null && unshare -m --propagation private true 2>/dev/null; then
	nsout=$(timeout 120 unshare -m --propagation private bash "$NS" "$DEST" "$STORE" "$MNT" "$CONF" "$WORK" 2>"$WORK/ns.err")
	declare -A R=()
	while IFS='=' read -r k v; do [ -n "$k" ] && R[$k]=$v; done <<<"$nsout"
	if [ "${R[overlay]:-}" != yes ]; then
		say "no overlay in a private mount namespace here: mount(8) part skipped"
		show "$(cat "$WORK/ns.err")"
	else
		check_eq "mount -t recfs STORE DIR -o config=: exit 0" 0 "${R[mount_t]:-}"
		check_eq "mount -t recfs: mounted" yes "${R[up1]:-}"
		check_eq "mount -t recfs: file written and read" "via mount(8)" "${R[read1]:-}"
		check_eq "umount: exit 0" 0 "${R[umount1]:-}"
		check_eq "umount: mount and daemon gone" yes "${R[gone1]:-}"
		check_eq "fstab line (store, config=): mount DIR exits 0" 0 "${R[fstab_store]:-}"
		check_eq "fstab line (store, config=): mounted" yes "${R[up2]:-}"
		check_eq "fstab line (store, config=): unmounted, daemon gone" yes "${R[gone2]:-}"
		check_eq "fstab line (config file first): mount -a exits 0" 0 "${R[fstab_conf]:-}"
		check_eq "fstab line (config file first): a second mount -a exits 0" 0 \
			"${R[fstab_conf_again]:-}"
		check_eq "fstab line (config file first): mounted once" 1 "${R[mounts]:-}"
		check_eq "fstab line (config file first): unmounted, daemon gone" yes "${R[gone3]:-}"
		[ "$T_FAILS" -eq 0 ] || show "$(cat "$WORK/ns.err")"
	fi
else
	say "unshare -m is not possible here: mount(8) part skipped"
fi
check_eq "nothing left mounted on the mount point" 0 "$(mount_count "$MNT")"
check_eq "no recfs of this test left running" "" \
	"$(pgrep -f -- "--config $CONF $MNT" | tr '\n' ' ')"
