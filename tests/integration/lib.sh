# shellcheck shell=bash
#
# lib.sh: the shared part of every tests/integration/NN-name.sh (bash).
#
# A test sources this file, calls `setup [section.key=value]...`, mounts with
# `mount_fs`, checks things with ok/fail/check/expect_errno, and unmounts
# with `umount_fs`. Output lines "PASS: <test>: <name>" and
# "FAIL: <test>: <name>" are what tests/run.sh counts; everything else this
# file prints is indented, so it never looks like a result.
#
# Environment (tests/run.sh exports it): RECFS, RECCTL (binaries), TESTBIN
# (the build's tests/ directory holding fsop, recwriter, ...), BUILD.
#
# Safety: everything lives in one `mktemp -d /tmp/recfs-test.XXXXXX`
# directory. The EXIT/INT/TERM trap unmounts what this test mounted
# (fusermount3 -u, then -uz), ends only the daemons this test started, by
# PID, and removes the work directory. Nothing outside it is touched.

set -u
export LC_ALL=C
umask 022

T_NAME=$(basename "$0" .sh)
T_FAILS=0
T_PIDS=()      # daemons started by this test: cleanup ends those still alive
T_MNTS=()      # mount points used by this test: cleanup unmounts them
T_UMOUNTS=()   # other mounts the test made (a tmpfs): unmounted after recfs's
WORK=
STORE=
MNT=
CONF=
KEY=
REF=
LOG=           # stderr of the daemon mounted by the latest mount_fs
RECFS_PID=     # that daemon, while it runs
RECFS_MNT=     # where it is mounted
TRY_RC=
TRY_ERR=
MOUNT_N=0
TRY_N=0
declare -A GONE_AT=() # path -> ms when expect_expiry saw it gone

# Expiry timing tolerance (ms): how long after its deadline a file may still
# be visible, and how long before it may already be gone.
SLACK_MS=1500
EARLY_MS=1000

# ---------------------------------------------------------------- results

say() { printf '    %s\n' "$*"; }
ok() { printf 'PASS: %s: %s\n' "$T_NAME" "$1"; }

# fail NAME [DETAIL]. When the mounted daemon turns out to have died, that
# is reported with its log and the test ends: what follows would only fail
# for the same reason.
fail() {
	T_FAILS=$((T_FAILS + 1))
	printf 'FAIL: %s: %s%s\n' "$T_NAME" "$1" "${2:+ -- $2}"
	daemon_died && exit 1
	return 0
}

# daemon_died: true (after a FAIL line and the log) when the daemon that
# mount_fs started has exited while still supposed to serve.
daemon_died() {
	local pid=$RECFS_PID rc
	[ -n "$pid" ] || return 1
	kill -0 "$pid" 2>/dev/null && return 1
	RECFS_PID=
	wait "$pid" 2>/dev/null
	rc=$?
	forget_pid "$pid"
	T_FAILS=$((T_FAILS + 1))
	printf 'FAIL: %s: %s\n' "$T_NAME" \
		"recfs died while mounted (exit status $rc); the rest of this test is skipped"
	show_log
	return 0
}

# bail NAME [DETAIL]: a failure after which the test cannot go on.
bail() {
	fail "$@"
	exit 1
}

# show TEXT: print captured output (at most 20 lines), indented.
show() {
	[ -n "$1" ] || return 0
	printf '%s\n' "$1" | head -n 20 | sed 's/^/    | /'
}

# show_log: the tail of the current daemon's log, indented.
show_log() {
	[ -n "$LOG" ] && [ -s "$LOG" ] || return 0
	say "last lines of $LOG:"
	tail -n 30 "$LOG" | sed 's/^/    log| /'
}

# check NAME CMD...: PASS when CMD exits 0.
check() {
	local name=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ]; then
		ok "$name"
	else
		fail "$name" "exit status $rc: $*"
		show "$out"
	fi
	return "$rc"
}

# check_not NAME CMD...: PASS when CMD exits non-zero.
check_not() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		fail "$name" "succeeded but should not: $*"
		show "$out"
		return 1
	fi
	ok "$name"
}

# check_eq NAME WANT GOT
check_eq() {
	if [ "$2" == "$3" ]; then
		ok "$1"
	else
		fail "$1" "want '$2', got '$3'"
		return 1
	fi
}

# check_range NAME LOW HIGH GOT: integers, LOW <= GOT <= HIGH.
check_range() {
	if [[ $4 =~ ^-?[0-9]+$ ]] && [ "$4" -ge "$2" ] && [ "$4" -le "$3" ]; then
		ok "$1"
	else
		fail "$1" "want $2..$3, got '$4'"
		return 1
	fi
}

# expect_errno NAME WANT FSOP-ARGS...: run one tests/tools/fsop call (or
# `seq`) and compare its output line with WANT, e.g. "EPERM", "OK", or for
# a sequence "OK OK 5 EBADF".
expect_errno() {
	local name=$1 want=$2 got
	shift 2
	got=$("$TESTBIN/fsop" "$@" 2>&1)
	check_eq "$name" "$want" "$got"
}

fsop() { "$TESTBIN/fsop" "$@"; }

# ---------------------------------------------------------------- helpers

now_ms() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((10#$t / 1000))
}

exists() { [ -e "$1" ] || [ -L "$1" ]; }

# xget FILE NAME: an xattr's value (empty when missing).
xget() { getfattr --absolute-names --only-values -h -n "$2" -- "$1" 2>/dev/null; }

# xattr_is FILE NAME VALUE: the xattr has that value (for wait_for).
xattr_is() { [ "$(xget "$1" "$2")" == "$3" ]; }

# iso_ms TEXT: ISO-8601 time as ms since the epoch, or nothing if invalid.
iso_ms() {
	[[ $1 =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|\+00:00)$ ]] || return 1
	date -u -d "$1" +%s%3N
}

# objects: how many object files the store holds.
objects() { find "$STORE/objects" -type f -size +0 | wc -l; }
# objects_are N / objects_at_most N: the store holds N (at most N) object
# files (for wait_for: destruction may trail the name's removal a little).
objects_are() { [ "$(objects)" -eq "$1" ]; }
objects_at_most() { [ "$(objects)" -le "$1" ]; }

# An object file's layout (docs/format.md): a header page, two metadata
# slot pages, then one page per content block: nonce(24), ciphertext of up
# to OBJ_BLOCK plaintext bytes, tag(16).
OBJ_PAGE=4096
OBJ_DATA_OFF=$((3 * OBJ_PAGE))
OBJ_BLOCK=$((OBJ_PAGE - 40))
# obj_len SIZE: the object file's length for SIZE bytes of content.
obj_len() {
	local full=$(($1 / OBJ_BLOCK)) rem=$(($1 % OBJ_BLOCK))
	echo $((OBJ_DATA_OFF + full * OBJ_PAGE + (rem ? rem + 40 : 0)))
}

# store_digest [DIR]: every name, size and mode under the store, and the
# content hash of each file: equal before and after means untouched.
store_digest() {
	local d=${1:-$STORE}
	(cd "$d" && find . -printf '%p %y %s %m\n' | sort &&
		find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}

# flip_byte FILE OFFSET: invert every bit of one byte, in place.
flip_byte() {
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	[ -n "$b" ] || bail "flip_byte: $1 has no byte at $2"
	# shellcheck disable=SC2059 # the format is the byte
	printf "$(printf '\\%03o' $((b ^ 255)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# put_u32 FILE OFFSET VALUE: write VALUE as 32-bit little-endian, in place.
put_u32() {
	local v=$3
	# shellcheck disable=SC2059 # the format is the bytes
	printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $((v & 255)) $((v >> 8 & 255)) \
		$((v >> 16 & 255)) $((v >> 24 & 255)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# sanitizer_report FILE: true when FILE holds an ASan/UBSan/LSan report.
sanitizer_report() {
	grep -qE 'ERROR: (Address|Leak|Thread|Memory)Sanitizer|SUMMARY: [A-Za-z]+Sanitizer|runtime error:' "$1" 2>/dev/null
}

# expect_expiry NAME PATH DEADLINE_MS [NAME PATH DEADLINE_MS]...: watch
# the paths together until each is gone; PASS for each that goes between
# its DEADLINE-EARLY_MS and DEADLINE+SLACK_MS. GONE_AT[PATH] records when
# it was seen gone.
expect_expiry() {
	local -a names=() paths=() dls=() over=()
	local i t left
	while [ $# -ge 3 ]; do
		names+=("$1")
		paths+=("$2")
		dls+=("$3")
		over+=("")
		shift 3
	done
	left=${#names[@]}
	while [ "$left" -gt 0 ]; do
		t=$(now_ms)
		for i in "${!names[@]}"; do
			[ -z "${over[i]}" ] || continue
			if ! exists "${paths[i]}"; then
				# shellcheck disable=SC2034 # read by the tests
				GONE_AT[${paths[i]}]=$t
				over[i]=1
				left=$((left - 1))
				if [ "$t" -lt $((dls[i] - EARLY_MS)) ]; then
					fail "${names[i]}" "gone $((dls[i] - t)) ms before its deadline"
				else
					ok "${names[i]}"
					say "${names[i]}: gone $((t - dls[i])) ms after the deadline"
				fi
			elif [ "$t" -gt $((dls[i] + SLACK_MS)) ]; then
				over[i]=1
				left=$((left - 1))
				fail "${names[i]}" "still there $((t - dls[i])) ms after its deadline"
			fi
		done
		[ "$left" -gt 0 ] && sleep 0.05
	done
	return 0
}

# sleep_until MS: sleep until now_ms reaches MS.
sleep_until() {
	local d=$(($1 - $(now_ms)))
	[ "$d" -gt 0 ] && sleep "$((d / 1000)).$(printf '%03d' $((d % 1000)))"
	return 0
}

# wait_for NAME SECONDS CMD...: poll CMD every 0.05 s until it succeeds;
# 1 (and a FAIL line) after SECONDS.
wait_for() {
	local name=$1 secs=$2 end=$(($(now_ms) + $2 * 1000))
	shift 2
	until "$@" 2>/dev/null; do
		if [ "$(now_ms)" -gt "$end" ]; then
			fail "$name" "still not true after $secs s: $*"
			return 1
		fi
		sleep 0.05
	done
}

# still_there NAME PATH UNTIL_MS: PASS when PATH exists the whole time
# until UNTIL_MS.
still_there() {
	local name=$1 path=$2 until=$3
	while [ "$(now_ms)" -lt "$until" ]; do
		if ! exists "$path"; then
			fail "$name" "$path vanished $((until - $(now_ms))) ms too early"
			return 1
		fi
		sleep 0.1
	done
	if exists "$path"; then ok "$name"; else fail "$name" "$path gone"; return 1; fi
}

# write_conf FILE STOREDIR KEYFILE [section.key=value]...: a config with
# the defaults below; an override with an empty value drops the key.
write_conf() {
	local file=$1 kv k sec
	local -a keys=(store.path store.key_file retention.short retention.keep
		retention.keep_dir log.level)
	local -A val=([store.path]=$2 [store.key_file]=$3 [retention.short]=30m
		[retention.keep]=30d [retention.keep_dir]=keep [log.level]=info)
	local -a sections=()
	shift 3
	for kv in "$@"; do
		k=${kv%%=*}
		[[ $kv == *=* && $k == ?*.?* ]] || bail "write_conf: bad override '$kv'"
		[[ -v "val[$k]" ]] || keys+=("$k")
		val[$k]=${kv#*=}
	done
	for k in "${keys[@]}"; do
		sec=${k%%.*}
		[[ " ${sections[*]} " == *" $sec "* ]] || sections+=("$sec")
	done
	{
		echo "; written by tests/integration/lib.sh for $T_NAME"
		for sec in "${sections[@]}"; do
			echo "[$sec]"
			for k in "${keys[@]}"; do
				[ "${k%%.*}" == "$sec" ] && [ -n "${val[$k]}" ] &&
					echo "${k#*.} = ${val[$k]}"
			done
		done
	} >"$file"
}

# make_store DIR [section.key=value]...: DIR/recfs.conf describing the
# store DIR/store with key DIR/key, then `recctl init`. Bails on failure.
make_store() {
	local dir=$1 out
	shift
	mkdir -p "$dir" || bail "make_store: mkdir $dir"
	write_conf "$dir/recfs.conf" "$dir/store" "$dir/key" "$@"
	out=$("$RECCTL" init --config "$dir/recfs.conf" 2>&1) ||
		{ show "$out"; bail "setup: recctl init --config $dir/recfs.conf failed"; }
}

# setup [section.key=value]...: the work directory with store/, mnt/,
# ref/ (a local-disk twin for comparisons), key and recfs.conf.
setup() {
	WORK=$(mktemp -d /tmp/recfs-test.XXXXXX) || bail "setup: mktemp"
	# Other uids (setpriv tests) must reach mnt/; the key stays 0600.
	chmod 0711 "$WORK"
	MNT=$WORK/mnt
	REF=$WORK/ref
	mkdir "$MNT" "$REF"
	T_MNTS+=("$MNT")
	make_store "$WORK" "$@"
	STORE=$WORK/store
	CONF=$WORK/recfs.conf
	# shellcheck disable=SC2034 # read by the tests
	KEY=$WORK/key
}

# mount_count DIR: how many mounts sit on DIR.
mount_count() {
	awk -v m="$1" '$5 == m { n++ } END { print n + 0 }' /proc/self/mountinfo
}

# forget_pid PID: no longer ours to clean up (it has been waited for).
forget_pid() {
	local p keep=()
	for p in "${T_PIDS[@]}"; do [ "$p" == "$1" ] || keep+=("$p"); done
	T_PIDS=("${keep[@]}")
}

# is_recfs PID: the process is alive and is one we started: our child, or
# a process running $RECFS (a daemonized one). Guards against signalling a
# recycled PID.
is_recfs() {
	kill -0 "$1" 2>/dev/null || return 1
	[ "$(awk '/^PPid:/ { print $2 }' "/proc/$1/status" 2>/dev/null)" == "$$" ] && return 0
	tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$RECFS"
}

# kill_pid PID: TERM, then KILL after 5 s; only our own processes. Never
# blocks for long: a process that will not die is left and reported.
kill_pid() {
	local pid=$1
	if is_recfs "$pid"; then
		kill -TERM "$pid" 2>/dev/null
		wait_exit "$pid" 5 >/dev/null
		if is_recfs "$pid"; then
			kill -KILL "$pid" 2>/dev/null
			wait_exit "$pid" 5 >/dev/null
			is_recfs "$pid" && say "pid $pid does not die; left alone"
		fi
	fi
	kill -0 "$pid" 2>/dev/null || wait "$pid" 2>/dev/null
	forget_pid "$pid"
}

# wait_exit PID SECONDS: wait for PID to end; its exit status, or 255 with
# the process still running after SECONDS.
wait_exit() {
	local pid=$1 i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && return 255
	wait "$pid" 2>/dev/null
}

# strace_daemon NAME ARGS...: run `strace ARGS` on every thread of the
# mounted daemon in the background (output discarded; fault injection is
# what the tests use it for) and return once every thread is traced.
# STRACE_PID is ours to end (kill_pid); cleanup ends it otherwise.
strace_daemon() {
	local name=$1
	shift
	strace -f -qq -p "$RECFS_PID" -o /dev/null "$@" &
	STRACE_PID=$!
	T_PIDS+=("$STRACE_PID")
	wait_for "$name: strace attached" 10 daemon_traced
}

daemon_traced() {
	local t
	for t in /proc/"$RECFS_PID"/task/*; do
		grep -q '^TracerPid:[[:space:]]*[1-9]' "$t/status" 2>/dev/null || return 1
	done
}

# mount_fs [ARGS...]: start `$RECFS --config $CONF $MNT -f ARGS` in the
# background and wait until $MNT is mounted (10 s). CONF and MNT may be
# overridden for one call: `CONF=other.conf mount_fs`. Returns 1 (after a
# FAIL line) when it does not mount.
mount_fs() {
	local i rc
	if [ -n "$RECFS_PID" ]; then
		fail "mount_fs: a daemon is already running (pid $RECFS_PID)"
		return 1
	fi
	MOUNT_N=$((MOUNT_N + 1))
	LOG=$WORK/recfs-$MOUNT_N.log
	RECFS_MNT=$MNT
	"$RECFS" --config "$CONF" "$MNT" -f "$@" </dev/null >"$LOG" 2>&1 &
	RECFS_PID=$!
	T_PIDS+=("$RECFS_PID")
	for ((i = 0; i < 100; i++)); do
		mountpoint -q "$MNT" && return 0
		if ! kill -0 "$RECFS_PID" 2>/dev/null; then
			wait "$RECFS_PID"
			rc=$?
			forget_pid "$RECFS_PID"
			RECFS_PID=
			fail "mount $MOUNT_N: recfs exited with status $rc before mounting"
			show_log
			return 1
		fi
		sleep 0.1
	done
	fail "mount $MOUNT_N: $MNT not mounted after 10 s"
	show_log
	kill_pid "$RECFS_PID"
	RECFS_PID=
	return 1
}

# need_mount [ARGS...]: mount_fs, or end the test.
need_mount() { mount_fs "$@" || exit 1; }

# umount_fs: fusermount3 -u, then the daemon must exit 0 with no sanitizer
# report in its log.
umount_fs() {
	local pid=$RECFS_PID mnt=$RECFS_MNT i rc
	if [ -z "$pid" ]; then
		fail "umount_fs: nothing mounted"
		return 1
	fi
	RECFS_PID=
	# Busy for a moment while the kernel releases handles just closed.
	for ((i = 0; i < 50; i++)); do
		fusermount3 -u "$mnt" 2>/dev/null && break
		[ "$(mount_count "$mnt")" -eq 0 ] && break
		sleep 0.2
	done
	if [ "$(mount_count "$mnt")" -gt 0 ]; then
		fail "unmount $MOUNT_N: fusermount3 -u $mnt keeps failing"
		fusermount3 -u "$mnt" 2>&1 | sed 's/^/    | /'
		fusermount3 -uz "$mnt" 2>/dev/null
		kill_pid "$pid"
		return 1
	fi
	wait_exit "$pid" 30
	rc=$?
	if [ "$rc" -eq 255 ] && kill -0 "$pid" 2>/dev/null; then
		fail "unmount $MOUNT_N: recfs still running 30 s after the unmount"
		kill_pid "$pid"
		return 1
	fi
	forget_pid "$pid"
	if [ "$rc" -ne 0 ]; then
		fail "unmount $MOUNT_N: recfs exit status" "$rc"
		show_log
		return 1
	fi
	if sanitizer_report "$LOG"; then
		fail "unmount $MOUNT_N: sanitizer report in the recfs log"
		show_log
		return 1
	fi
	ok "unmount $MOUNT_N: recfs exited 0"
}

# crash_fs: kill -9 the running daemon (by PID) and clear the dead mount.
crash_fs() {
	local pid=$RECFS_PID
	RECFS_PID=
	[ -n "$pid" ] || return 0
	is_recfs "$pid" && kill -KILL "$pid"
	wait_exit "$pid" 10 >/dev/null
	kill_pid "$pid"
	fusermount3 -u "$RECFS_MNT" 2>/dev/null || fusermount3 -uz "$RECFS_MNT" 2>/dev/null
}

# try_mount CONF MNT [ARGS...]: a mount attempt expected to fail. Sets
# TRY_RC (exit status, "mounted" or "timeout") and TRY_ERR (stderr file).
# A mount that did happen is undone at once.
try_mount() {
	local conf=$1 mnt=$2 before pid i
	shift 2
	TRY_N=$((TRY_N + 1))
	TRY_ERR=$WORK/try-$TRY_N.err
	TRY_RC=
	before=$(mount_count "$mnt")
	"$RECFS" --config "$conf" "$mnt" -f "$@" </dev/null >"$WORK/try-$TRY_N.out" 2>"$TRY_ERR" &
	pid=$!
	T_PIDS+=("$pid")
	for ((i = 0; i < 150; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			TRY_RC=$?
			break
		fi
		if [ "$(mount_count "$mnt")" -gt "$before" ]; then
			TRY_RC=mounted
			sleep 0.2
			fusermount3 -u "$mnt" 2>/dev/null || fusermount3 -uz "$mnt" 2>/dev/null
			wait_exit "$pid" 10 >/dev/null
			break
		fi
		sleep 0.1
	done
	[ -n "$TRY_RC" ] || TRY_RC=timeout
	kill_pid "$pid"
}

# expect_refused NAME CONF MNT REGEX [ARGS...]: the mount must fail with
# exit status != 0, nothing mounted, and exactly one stderr line that
# starts with "recfs: " and matches REGEX (grep -E).
expect_refused() {
	local name=$1 conf=$2 mnt=$3 re=$4 first lines
	shift 4
	try_mount "$conf" "$mnt" "$@"
	case $TRY_RC in
	mounted) fail "$name: refused" "it mounted" ;;
	timeout) fail "$name: refused" "still running after 15 s" ;;
	0) fail "$name: refused" "exit status 0" ;;
	*) ok "$name: refused (exit status $TRY_RC)" ;;
	esac
	first=$(head -n 1 "$TRY_ERR")
	lines=$(wc -l <"$TRY_ERR")
	if [[ $first == "recfs: "* ]] && grep -qE -- "$re" <<<"$first"; then
		ok "$name: message"
	else
		fail "$name: message" "want 'recfs: ' and /$re/, got '$first'"
	fi
	if sanitizer_report "$TRY_ERR"; then
		fail "$name: sanitizer report"
		show "$(grep -E -A5 'Sanitizer|runtime error' "$TRY_ERR")"
	elif [ "$lines" -eq 1 ]; then
		ok "$name: exactly one line on stderr"
	else
		fail "$name: exactly one line on stderr" "got $lines lines"
		show "$(cat "$TRY_ERR")"
	fi
}

# ---------------------------------------------------------------- cleanup

t_cleanup() {
	local rc=$? m p i
	trap - EXIT INT TERM HUP
	set +e
	[ -n "$RECFS_PID" ] && umount_fs
	# mountinfo, not mountpoint(1): a dead daemon's mount cannot be stat'ed
	for m in "${T_MNTS[@]}"; do
		for i in 1 2 3; do
			[ "$(mount_count "$m")" -gt 0 ] || break
			fusermount3 -u "$m" 2>/dev/null || fusermount3 -uz "$m" 2>/dev/null
		done
	done
	for p in "${T_PIDS[@]}"; do kill_pid "$p"; done
	for m in "${T_UMOUNTS[@]}"; do
		for i in 1 2 3 4 5 6 7 8 9 10; do
			[ "$(mount_count "$m")" -gt 0 ] || break
			umount "$m" 2>/dev/null || sleep 0.5
		done
		if [ "$(mount_count "$m")" -gt 0 ]; then
			say "$m busy; detached lazily"
			umount -l "$m"
		fi
	done
	if [ -n "$WORK" ] && [[ $WORK == /tmp/recfs-test.* ]]; then
		if awk -v w="$WORK/" 'index($5, w) == 1 { f = 1 } END { exit !f }' /proc/self/mountinfo; then
			say "$WORK still has a mount; left in place"
		else
			rm -rf --one-file-system "$WORK"
		fi
	fi
	[ "$T_FAILS" -gt 0 ] && rc=1
	exit "$rc"
}
trap t_cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

for v in RECFS RECCTL TESTBIN; do
	[ -n "${!v:-}" ] || bail "environment: $v is not set (run through tests/run.sh)"
done
unset v
for t in "$RECFS" "$RECCTL" "$TESTBIN/fsop"; do
	[ -x "$t" ] || bail "environment: $t is not built"
done
unset t
