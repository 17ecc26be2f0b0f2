#!/usr/bin/env bash
#
# run.sh: `make bench`. recfs side by side with a plain folder, bindfs,
# gocryptfs and securefs, all on the same disk in the same run: the
# workloads of tests/bench/fsbench.c on each filesystem in interleaved order
# with repeats, every byte verified, then ONE table of medians with the
# ratio of recfs to each, recfs-only rows (mount time, memory, expiry,
# audit cost, CPU) and the targets of issue 4. A second recfs with the
# audit trail off (recfs-noaudit) runs pbx-max in the same rounds.
#
#   tests/bench/run.sh               full run (about 20 minutes)
#   BENCH_QUICK=1 tests/bench/run.sh smoke test: tiny sizes, 1 repeat, plain
#                                    and recfs only, no targets; < 2 minutes
#
# Environment (all optional):
#   BUILD           build directory holding recfs, recctl, tests/fsbench
#                   (default: build); relative to the repository
#   BENCH_FS        filesystems, in this set: plain bindfs gocryptfs securefs recfs
#   BENCH_REPEATS   repeats of each interleaved workload
#   BENCH_SECONDS   pbx-max seconds per run;  BENCH_RT_SECONDS: pbx-rt seconds
#   BENCH_PARTS     which parts run, in this set: main (the interleaved
#                   workloads, and pbx-max on recfs-noaudit), population
#                   (mount time, memory), expiry; default all three
#   BENCH_EXP_FILES, BENCH_EXP_WRITERS, BENCH_EXP_THREADS, BENCH_EXP_SHORT
#                   the expiry part: recordings falling due at once (10000),
#                   pbx-rt writers meanwhile (64), fsbench threads creating
#                   and closing them (8), retention short in seconds (20)
#   BENCH_EXP_BASE  kept recordings put in the expiry store first, so the
#                   expiries happen in a full store (100000; smoke: 500)
#   BENCH_WORKDIR   parent of the work directory (default /var/tmp; must be
#                   a disk, not tmpfs)
#   BENCH_OUT       where results.txt, table.md and logs/ go (default
#                   $BUILD/bench)
#   BENCH_NO_BUILD=1  do not run make first (the Makefile sets it)
#   BENCH_KEEP=1    keep the work directory
#
# Exit status 0 when every run verified every byte, every daemon behaved
# (recfs exits 0 after unmount) and nothing failed; 1 otherwise. Timing
# never decides the exit status.
#
# Safety: everything lives in one mktemp directory under BENCH_WORKDIR. The
# EXIT/INT/TERM trap unmounts what this script mounted and ends only the
# processes it started, by PID. Outside that directory it only installs
# missing Debian packages (apt-get) and writes BENCH_OUT.

set -uo pipefail
export LC_ALL=C
umask 022

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$REPO/$BUILD
RECFS=$BUILD/recfs
RECCTL=$BUILD/recctl
FSB=$BUILD/tests/fsbench
QUICK=${BENCH_QUICK:-0}
[ "$QUICK" = 0 ] && QUICK=

# ------------------------------------------------------------ parameters

if [ -n "$QUICK" ]; then
	DEF_FS="plain recfs"
	REPEATS=${BENCH_REPEATS:-1}
	MAX_SECONDS=${BENCH_SECONDS:-1}
	RT_SECONDS=${BENCH_RT_SECONDS:-1}
	RT_NS="20"
	FM_REPEATS=1 FM_SECONDS=0.5 FM_START=8 FM_CAP=32 FM_BUDGET=6
	STREAM_MIB=8
	META_FILES=200
	POP_NS="300 1000" POP_THREADS=4 MOUNT_REPEATS=1
	EXP_FILES=300 EXP_SHORT=6 EXP_WRITERS=16 EXP_THREADS=4 EXP_BASE=${BENCH_EXP_BASE:-500}
else
	DEF_FS="plain bindfs gocryptfs securefs recfs"
	REPEATS=${BENCH_REPEATS:-3}
	MAX_SECONDS=${BENCH_SECONDS:-10}
	RT_SECONDS=${BENCH_RT_SECONDS:-5}
	RT_NS="100 200 400"
	FM_REPEATS=${BENCH_FM_REPEATS:-1} FM_SECONDS=3 FM_START=16 FM_CAP=1024 FM_BUDGET=50
	STREAM_MIB=256
	META_FILES=5000
	POP_NS="10000 100000" POP_THREADS=8 MOUNT_REPEATS=3
	EXP_FILES=10000 EXP_SHORT=20 EXP_WRITERS=64 EXP_THREADS=8 EXP_BASE=${BENCH_EXP_BASE:-100000}
fi
EXP_FILES=${BENCH_EXP_FILES:-$EXP_FILES}
EXP_WRITERS=${BENCH_EXP_WRITERS:-$EXP_WRITERS}
EXP_THREADS=${BENCH_EXP_THREADS:-$EXP_THREADS}
EXP_SHORT=${BENCH_EXP_SHORT:-$EXP_SHORT}
PARTS=" ${BENCH_PARTS:-main population expiry} "
read -r -a FS_LIST <<<"${BENCH_FS:-$DEF_FS}"
PARENT=${BENCH_WORKDIR:-/var/tmp}
RUN_LIMIT=${BENCH_RUN_LIMIT:-1800} # seconds one fsbench run may take at most
OUT=${BENCH_OUT:-$BUILD/bench}

# ------------------------------------------------------------ state

WORK=
RES=              # results: one line per run, "fs=.. rep=.. wl=.. key=value..."
PROBLEMS=()       # what went wrong (exit status 1)
NOTES=()          # what was skipped or odd, without failing
declare -A MNT=() SRC=() PID=() LOGF=() CONF=()
declare -A CONN_OF=() # daemon PID -> its FUSE connection (/sys/fs/fuse/connections/N)
MOUNTED=()        # mount points that may hold our mounts
OURPIDS=()        # every daemon we started
BGPIDS=()         # background fsbench runs we started
NOAUDIT=          # recfs-noaudit once it is mounted: runs pbx-max beside recfs
LOGN=0

say() { printf 'bench: %s\n' "$*" >&2; }
problem() {
	PROBLEMS+=("$*")
	say "PROBLEM: $*"
}
now_ms() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((10#$t / 1000))
}
now_us() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((10#$t))
}

# ------------------------------------------------------------ cleanup

# our_pid PID: alive and one of ours (guards against recycled PIDs).
our_pid() {
	local p
	kill -0 "$1" 2>/dev/null || return 1
	for p in "${OURPIDS[@]}" "${BGPIDS[@]}"; do [ "$p" = "$1" ] && return 0; done
	return 1
}

# finished PID: the process has ended: gone, or a zombie with no thread
# left. (A zombie whose other threads still sit in the kernel has not: a
# FUSE daemon deadlocked against its own writeback looks like that, and
# `wait` on it would never return.)
finished() {
	[ -d "/proc/$1" ] || return 0
	[ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ] &&
		[ "$(find "/proc/$1/task" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)" -le 1 ]
}

# finished_within PID SECONDS
finished_within() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		finished "$1" && return 0
		sleep 0.1
	done
	return 1
}

# abort_conn PID: a daemon of ours that cannot end because it is stuck in
# the kernel: abort its own FUSE connection (the documented way out), so
# that it and the processes waiting on it can finish.
abort_conn() {
	local c=${CONN_OF[$1]:-}
	[ -n "$c" ] && [ -e "/sys/fs/fuse/connections/$c/abort" ] || return 1
	problem "pid $1 ($(cat "/proc/$1/comm" 2>/dev/null)) hung in the kernel: aborted its FUSE connection $c; stuck thread: $(grep -h -m3 -E 'fuse|folio' /proc/"$1"/task/*/stack 2>/dev/null | awk '{ print $2 }' | tr '\n' ' ')"
	echo 1 >"/sys/fs/fuse/connections/$c/abort"
}

# stop_pid PID: TERM, KILL after 10 s, abort its FUSE connection if even
# that does not end it; only our own processes.
stop_pid() {
	our_pid "$1" || return 0
	kill -TERM "$1" 2>/dev/null
	if ! finished_within "$1" 10; then
		kill -KILL "$1" 2>/dev/null
		finished_within "$1" 5 || { abort_conn "$1" && finished_within "$1" 10; }
	fi
	finished "$1" && wait "$1" 2>/dev/null
}

# wait_bg PID SECONDS DAEMON_PID: wait for a background fsbench; when it is
# still blocked after SECONDS (a hung filesystem), abort the daemon's
# connection. Sets BG_RC.
BG_RC=
wait_bg() {
	BG_RC=255
	if ! finished_within "$1" "$2"; then
		problem "fsbench (pid $1) still blocked $2 s after it was told to stop"
		abort_conn "$3"
		stop_pid "$1"
	fi
	finished "$1" && { wait "$1"; BG_RC=$?; }
}

cleanup() {
	local rc=$? m p
	trap - EXIT INT TERM HUP
	set +e
	# Our own I/O first, so that the unmounts find nothing busy.
	for p in "${BGPIDS[@]}"; do stop_pid "$p"; done
	for m in "${MOUNTED[@]}"; do
		mountpoint -q "$m" 2>/dev/null || continue
		fusermount3 -u "$m" 2>/dev/null || umount "$m" 2>/dev/null ||
			fusermount3 -uz "$m" 2>/dev/null
	done
	for p in "${OURPIDS[@]}"; do stop_pid "$p"; done
	if [ -n "$WORK" ] && [ -d "$WORK" ]; then
		mkdir -p "$OUT/logs" && cp "$WORK"/*.log "$OUT/logs/" 2>/dev/null
		if awk -v w="$WORK/" 'index($5, w) == 1 { f = 1 } END { exit !f }' /proc/self/mountinfo; then
			say "$WORK still has a mount; left in place"
		elif [ -n "${BENCH_KEEP:-}" ]; then
			say "work directory kept: $WORK"
		else
			rm -rf --one-file-system "$WORK"
		fi
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------ setup

install_packages() {
	local p missing=() want=()
	sh "$REPO/tools/deps.sh" || { say "cannot install the build dependencies"; exit 1; }
	for p in bindfs gocryptfs securefs; do
		[[ " ${FS_LIST[*]} " == *" $p "* ]] && want+=("$p")
	done
	for p in "${want[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		say "installing ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >/dev/null 2>&1
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
			say "apt-get install ${missing[*]} failed"
	fi
	local keep=()
	for p in "${FS_LIST[@]}"; do
		if [[ $p == bindfs || $p == gocryptfs || $p == securefs ]] && ! command -v "$p" >/dev/null; then
			NOTES+=("$p: not installed, left out")
			say "$p is not installed: left out"
			continue
		fi
		keep+=("$p")
	done
	FS_LIST=("${keep[@]}")
}

build() {
	[ -n "${BENCH_NO_BUILD:-}" ] && return 0
	make -s -C "$REPO" BUILD="$BUILD" all "$BUILD/tests/fsbench" >&2 || { say "build failed"; exit 1; }
}

# ------------------------------------------------------------ filesystems

# kind NAME: the filesystem type of a mount name (recfs-pop is a recfs).
kind() { echo "${1%%-*}"; }

# init_fs NAME [retention.short]: create the backing store of NAME. Every
# recfs has the audit trail on (as by default), except recfs-noaudit.
init_fs() {
	local fs=$1 k
	k=$(kind "$fs")
	SRC[$fs]=$WORK/$fs.store
	MNT[$fs]=$WORK/$fs.mnt
	mkdir -p "${MNT[$fs]}"
	case $k in
	plain)
		MNT[$fs]=${SRC[$fs]}
		mkdir -p "${SRC[$fs]}/keep"
		;;
	bindfs)
		mkdir -p "${SRC[$fs]}"
		;;
	gocryptfs)
		mkdir -p "${SRC[$fs]}"
		gocryptfs -init -q -extpass "echo benchpw" "${SRC[$fs]}" >"$WORK/$fs-init.log" 2>&1 ||
			{ cat "$WORK/$fs-init.log" >&2; return 1; }
		;;
	securefs)
		mkdir -p "${SRC[$fs]}"
		securefs create --pass benchpw "${SRC[$fs]}" >"$WORK/$fs-init.log" 2>&1 ||
			{ cat "$WORK/$fs-init.log" >&2; return 1; }
		;;
	recfs)
		CONF[$fs]=$WORK/$fs.conf
		cat >"${CONF[$fs]}" <<-EOF
			; written by tests/bench/run.sh
			[store]
			path = ${SRC[$fs]}
			key_file = $WORK/$fs.key
			[retention]
			short = ${2:-30m}
			[log]
			level = warning
			[audit]
			enabled = $([ "$fs" = recfs-noaudit ] && echo off || echo on)
		EOF
		"$RECCTL" init --config "${CONF[$fs]}" >"$WORK/$fs-init.log" 2>&1 ||
			{ cat "$WORK/$fs-init.log" >&2; return 1; }
		;;
	esac
	MOUNTED+=("${MNT[$fs]}")
}

# mount_fs NAME: start the daemon, wait until mounted. MOUNT_MS is how long
# that took from the start of the daemon.
MOUNT_MS=
mount_fs() {
	local fs=$1 k t0 i pid cmd
	k=$(kind "$fs")
	MOUNT_MS=0
	[ "$k" = plain ] && return 0
	LOGN=$((LOGN + 1))
	LOGF[$fs]=$WORK/$fs-$LOGN.log
	t0=$(now_us)
	# One plain command each, so that $! is the daemon itself (its RSS
	# and CPU time are measured), not a subshell.
	case $k in
	bindfs) cmd=(bindfs -f "${SRC[$fs]}" "${MNT[$fs]}") ;;
	gocryptfs) cmd=(gocryptfs -f -q -extpass "echo benchpw" "${SRC[$fs]}" "${MNT[$fs]}") ;;
	securefs) cmd=(securefs mount --pass benchpw "${SRC[$fs]}" "${MNT[$fs]}") ;;
	recfs) cmd=("$RECFS" --config "${CONF[$fs]}" "${MNT[$fs]}" -f) ;;
	esac
	"${cmd[@]}" </dev/null >"${LOGF[$fs]}" 2>&1 &
	pid=$!
	OURPIDS+=("$pid")
	PID[$fs]=$pid
	for ((i = 0; i < 1200; i++)); do
		if "$FSB" waitmount "${MNT[$fs]}" --timeout 0.1 >/dev/null 2>&1; then
			MOUNT_MS=$((($(now_us) - t0) / 1000))
			CONN_OF[$pid]=$(mountpoint -d "${MNT[$fs]}" 2>/dev/null | cut -d: -f2)
			[ "$k" != recfs ] && mkdir -p "${MNT[$fs]}/keep"
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			say "$fs: daemon exited with status $? before mounting; log:"
			tail -n 20 "${LOGF[$fs]}" >&2
			PID[$fs]=
			return 1
		fi
	done
	say "$fs: not mounted after 120 s"
	stop_pid "$pid"
	PID[$fs]=
	return 1
}

# umount_fs NAME: unmount, wait for the daemon; recfs must exit 0.
umount_fs() {
	local fs=$1 k pid i rc
	k=$(kind "$fs")
	pid=${PID[$fs]:-}
	[ "$k" = plain ] && return 0
	[ -n "$pid" ] || return 0
	PID[$fs]=
	for ((i = 0; i < 50; i++)); do
		fusermount3 -u "${MNT[$fs]}" 2>/dev/null && break
		mountpoint -q "${MNT[$fs]}" || break
		sleep 0.2
	done
	if mountpoint -q "${MNT[$fs]}"; then
		problem "$fs: fusermount3 -u ${MNT[$fs]} kept failing (busy)"
		fusermount3 -uz "${MNT[$fs]}" 2>/dev/null
	fi
	if ! finished_within "$pid" 60; then
		problem "$fs: daemon (pid $pid) still running 60 s after the unmount"
		stop_pid "$pid"
		return 1
	fi
	wait "$pid"
	rc=$?
	if [ "$k" = recfs ] && [ "$rc" -ne 0 ]; then
		problem "$fs: recfs exited with status $rc after the unmount (log ${LOGF[$fs]##*/})"
		tail -n 20 "${LOGF[$fs]}" >&2
		return 1
	fi
	return 0
}

# alive NAME: the daemon still runs and the mount answers.
alive() {
	local fs=$1
	[ "$(kind "$fs")" = plain ] && return 0
	[ -n "${PID[$fs]:-}" ] && kill -0 "${PID[$fs]}" 2>/dev/null &&
		timeout 10 stat "${MNT[$fs]}/." >/dev/null 2>&1
}

# remount NAME: unmount and mount again (drops the FUSE page cache).
remount() {
	umount_fs "$1"
	mount_fs "$1"
}

# revive NAME: after a daemon died, clear the dead mount and mount again.
revive() {
	local fs=$1
	problem "$fs: the daemon died or stopped answering (log ${LOGF[$fs]##*/})"
	[ -f "${LOGF[$fs]:-}" ] && tail -n 20 "${LOGF[$fs]}" >&2
	fusermount3 -uz "${MNT[$fs]}" 2>/dev/null
	[ -n "${PID[$fs]:-}" ] && stop_pid "${PID[$fs]}"
	PID[$fs]=
	mount_fs "$fs" || problem "$fs: cannot mount it again"
}

# ------------------------------------------------------------ running

# record FS REP WL LINE...: store a result line.
record() {
	local fs=$1 rep=$2 wl=$3
	shift 3
	printf 'fs=%s rep=%s wl=%s %s\n' "$fs" "$rep" "$wl" "$*" >>"$RES"
}

# fsb FS REP WL ARGS...: run fsbench on the mount FS, record its result
# line(s) under the filesystem's kind (recfs-pop counts as recfs). FSB_OUT
# is what it printed.
FSB_OUT=
fsb() {
	local fs=$1 rep=$2 wl=$3 out err rc line
	shift 3
	err=$WORK/fsbench-$fs-$wl-$rep.log
	# The limit only catches a hung filesystem: TERM asks fsbench to stop
	# and print, KILL follows.
	out=$(timeout -k 30 "$RUN_LIMIT" "$FSB" "$@" 2>"$err")
	rc=$?
	FSB_OUT=$out
	[ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && problem "$fs $wl #$rep: fsbench still running after $RUN_LIMIT s: stopped"
	while IFS= read -r line; do
		[ -n "$line" ] && record "$(kind "$fs")" "$rep" "$wl" "$line"
	done <<<"$out"
	say "$fs $wl #$rep: ${out:-"(no result)"}"
	if [ "$rc" -ne 0 ]; then
		problem "$fs $wl #$rep: fsbench $1 exited $rc: $(grep -m3 -E 'VERIFY|fsbench:' "$err" | tr '\n' ' ')"
		cp "$err" "$WORK/$fs-fsbench-fail-$wl-$rep.log"
	fi
	if ! alive "$fs"; then
		revive "$fs"
		return 1
	fi
	return "$rc"
}

cpu_arg() {
	[ -n "${PID[$1]:-}" ] && echo "--cpu-pid ${PID[$1]}"
}

# workload FS WL REP
workload() {
	local fs=$1 wl=$2 rep=$3 m=${MNT[$1]}
	case $wl in
	pbx-max)
		# The recfs with the audit trail off: its own rows.
		local name=pbx-max
		[ "$fs" = "$NOAUDIT" ] && name=pbx-max-noaudit
		fsb "$fs" "$rep" "$name" pbx-max "$m" --writers 64 --seconds "$MAX_SECONDS"
		;;
	rt-*)
		# shellcheck disable=SC2046 # cpu_arg is two words or none
		fsb "$fs" "$rep" "$wl" pbx-rt "$m" --writers "${wl#rt-}" --seconds "$RT_SECONDS" $(cpu_arg "$fs")
		;;
	findmax)
		fsb "$fs" "$rep" rt-max pbx-rt "$m" --find-max --seconds "$FM_SECONDS" \
			--start "$FM_START" --cap "$FM_CAP" --budget "$FM_BUDGET"
		;;
	stream)
		fsb "$fs" "$rep" stream stream "$m" --mib "$STREAM_MIB" --phase write || return
		# Cold read: the FUSE page cache goes with the mount; fsbench
		# drops the rest (fadvise, drop_caches).
		[ "$(kind "$fs")" != plain ] && { remount "$fs" || { problem "$fs: remount failed"; return; }; }
		fsb "$fs" "$rep" stream stream "$m" --mib "$STREAM_MIB" --phase read
		;;
	meta)
		fsb "$fs" "$rep" meta meta "$m" --files "$META_FILES"
		;;
	esac
}

# rotated REP: FS_LIST rotated by REP-1, so no filesystem always goes first.
rotated() {
	local n=${#FS_LIST[@]} i r=$(($1 - 1))
	for ((i = 0; i < n; i++)); do echo "${FS_LIST[$(((i + r) % n))]}"; done
}

# pbx_max_order REP: the rotated filesystems, and recfs-noaudit right
# after recfs in odd repeats, right before it in even ones, so that the two
# recfs run back to back and neither is always first.
pbx_max_order() {
	local fs
	for fs in $(rotated "$1"); do
		if [ "$fs" = recfs ] && [ -n "$NOAUDIT" ]; then
			if (($1 % 2)); then echo recfs "$NOAUDIT"; else echo "$NOAUDIT" recfs; fi
		else
			echo "$fs"
		fi
	done
}

run_interleaved() {
	local rep wl fs wls=(pbx-max)
	local n
	for n in $RT_NS; do wls+=("rt-$n"); done
	wls+=(stream meta findmax)
	for ((rep = 1; rep <= REPEATS; rep++)); do
		for wl in "${wls[@]}"; do
			[ "$wl" = findmax ] && [ "$rep" -gt "$FM_REPEATS" ] && continue
			if [ "$wl" = pbx-max ]; then
				for fs in $(pbx_max_order "$rep"); do workload "$fs" "$wl" "$rep"; done
				continue
			fi
			for fs in $(rotated "$rep"); do
				workload "$fs" "$wl" "$rep"
			done
		done
	done
}

# audit_check NAME: after its unmount, `recctl audit verify` on the store of
# recfs NAME; records the number of records it holds. The trail must be
# intact, with records when the audit is on and none when it is off.
audit_check() {
	local fs=$1 out n wl=audit-on
	[ "$fs" = "$NOAUDIT" ] && wl=audit-off
	out=$("$RECCTL" audit verify --config "${CONF[$fs]}" 2>&1)
	say "$fs: recctl audit verify: $out"
	n=$(sed -n 's/^audit trail intact: \([0-9]*\) records.*/\1/p' <<<"$out")
	if [ -z "$n" ]; then
		problem "$fs: recctl audit verify: $(head -n 3 <<<"$out" | tr '\n' ' ')"
		return
	fi
	record recfs 1 "$wl" "audit_records=$n"
	if [ "$wl" = audit-on ] && [ "$n" -eq 0 ]; then
		problem "$fs: the audit trail is on, but holds no record after the run"
	elif [ "$wl" = audit-off ] && [ "$n" -ne 0 ]; then
		problem "$fs: the audit trail is off, but holds $n records after the run"
	fi
}

# rss_kib PID
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# recfs only: mount time and memory with POP_NS recordings in the store.
run_population() {
	local fs=recfs-pop n from=0 i rss0
	init_fs "$fs" || { problem "recfs-pop: init failed"; return; }
	mount_fs "$fs" || { problem "recfs-pop: mount failed"; return; }
	sleep 0.5
	rss0=$(rss_kib "${PID[$fs]}")
	record recfs 1 mount-0 "mount_ms=$MOUNT_MS rss_kib=$rss0"
	for n in $POP_NS; do
		fsb "$fs" 1 "populate-$n" populate "${MNT[$fs]}" "$n" --from "$from" --threads "$POP_THREADS" ||
			return
		from=$n
		for ((i = 1; i <= MOUNT_REPEATS; i++)); do
			umount_fs "$fs"
			mount_fs "$fs" || { problem "recfs-pop: remount with $n recordings failed"; return; }
			sleep 0.5
			record recfs "$i" "mount-$n" "mount_ms=$MOUNT_MS rss_kib=$(rss_kib "${PID[$fs]}")"
			say "recfs mount with $n recordings: $MOUNT_MS ms, RSS $(rss_kib "${PID[$fs]}") KiB"
		done
		# Every recording survived the remounts, byte for byte; and the
		# memory once the kernel has looked each of them up.
		fsb "$fs" 1 "check-$n" populate "${MNT[$fs]}" "$n" --check --threads "$POP_THREADS" || return
		record recfs 1 "walked-$n" "rss_kib=$(rss_kib "${PID[$fs]}") base_rss_kib=$rss0"
	done
	umount_fs "$fs"
}

# recfs only: EXP_FILES recordings falling due within about a second while
# EXP_WRITERS real-time writers record. fsbench expire holds every file
# open, then closes them all at once, and prints its phases; the writers'
# frames (each one's deadline and latency, from --frame-log) are then
# counted per phase: the expiry window, the setup (creating, closing,
# reading back), the rest, and everything outside the expiry window.
run_expiry() {
	local fs=recfs-exp bg rtout=$WORK/expiry-rt.out rterr=$WORK/expiry-rt.log rc line
	local frames=$WORK/expiry-frames.log wexp wset out l w
	init_fs "$fs" "${EXP_SHORT}s" || { problem "recfs-exp: init failed"; return; }
	mount_fs "$fs" || { problem "recfs-exp: mount failed"; return; }
	# Issue 3 wants the expiries on time with 100 000 files in the store:
	# EXP_BASE kept recordings (never due during the test) come first.
	if [ "$EXP_BASE" -gt 0 ]; then
		fsb "$fs" 1 expire-base populate "${MNT[$fs]}/keep" "$EXP_BASE" \
			--threads "$POP_THREADS" || return
	fi
	"$FSB" pbx-rt "${MNT[$fs]}" --writers "$EXP_WRITERS" --seconds $((EXP_SHORT * 4 + 120)) \
		--cpu-pid "${PID[$fs]}" --frame-log "$frames" >"$rtout" 2>"$rterr" &
	bg=$!
	BGPIDS+=("$bg")
	sleep 2
	fsb "$fs" 1 expire expire "${MNT[$fs]}" --files "$EXP_FILES" --short "$EXP_SHORT" \
		--threads "$EXP_THREADS" --give-up $((EXP_SHORT * 2 + 60))
	out=$FSB_OUT
	# The expiry window ends 1 s after the last file went: let the
	# writers run through it, and a little beyond.
	sleep 2
	kill -USR1 "$bg" 2>/dev/null
	# A writer may be 5 s behind plus a stuck request: give it a minute.
	wait_bg "$bg" 60 "${PID[$fs]}"
	rc=$BG_RC
	line=$(cat "$rtout")
	record recfs 1 expire-rt "$line"
	say "recfs pbx-rt during expiry: $line"
	[ "$rc" -ne 0 ] && problem "recfs pbx-rt during expiry: fsbench exited $rc: $(grep -m3 -E 'VERIFY|fsbench:' "$rterr" | tr '\n' ' ')"
	wexp=$(sed -n 's/.* win_expiry=\([0-9]*:[0-9]*\).*/\1/p' <<<"$out")
	wset=$(sed -n 's/.* win_setup=\([0-9]*:[0-9]*\).*/\1/p' <<<"$out")
	if [ -z "$wexp" ] || [ -z "$wset" ] || [ ! -s "$frames" ]; then
		problem "recfs expiry: no phases or no frame log to attribute the late frames"
	else
		# A frame counts in the first window its deadline falls into.
		if out=$("$FSB" frame-stats "$frames" --window "expiry:$wexp" --window "setup:$wset"); then
			while IFS= read -r l; do
				w=$(sed -n 's/^frame-stats window=\([a-z]*\) .*/\1/p' <<<"$l")
				[ "$w" = expiry ] && l="$l window_ms=$(((${wexp#*:} - ${wexp%:*}) / 1000000))"
				record recfs 1 "expire-rt-$w" "$l"
				say "recfs pbx-rt during expiry, $w: $l"
			done <<<"$out"
		else
			problem "fsbench frame-stats failed"
		fi
		if out=$("$FSB" frame-stats "$frames" --window "expiry:$wexp"); then
			l=$(grep 'window=rest' <<<"$out")
			record recfs 1 expire-rt-outside "$l"
			say "recfs pbx-rt during expiry, outside the expiry window: $l"
		else
			problem "fsbench frame-stats failed"
		fi
	fi
	alive "$fs" || problem "recfs-exp: the daemon died during the expiry run"
	umount_fs "$fs"
}

# ------------------------------------------------------------ the table

machine_info() {
	local cpu mem disk
	cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
	disk=$(df -PT "$PARENT" | awk 'NR == 2 { print $1 " (" $2 ")" }')
	echo "- command: \`$CMDLINE\`"
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); recfs tree $(git -C "$REPO" describe --always --dirty 2>/dev/null || echo '?') at the start, binary $RECFS: $("$RECFS" --version 2>/dev/null | head -n 1)"
	echo "- machine: $(nproc) CPUs, ${cpu:-unknown CPU}, $mem RAM, kernel $(uname -r), disk $disk"
	echo "- versions: libfuse $(pkg-config --modversion fuse3 2>/dev/null)$(
		for p in bindfs gocryptfs securefs; do
			v=$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null) && printf ', %s %s' "$p" "$v"
		done)"
	echo "- load average at the start: $LOAD_START (other work on the machine shows up as noise)"
	echo "- repeats: $REPEATS (medians shown; find-max: $FM_REPEATS); pbx-max ${MAX_SECONDS} s," \
		"pbx-rt ${RT_SECONDS} s, find-max trials ${FM_SECONDS} s; stream ${STREAM_MIB} MiB;" \
		"meta $META_FILES files; work dir on $(df -P "$PARENT" | awk 'NR == 2 { print $1 }')"
}

# params_line: the run's parameters, for make_table (and --table later).
params_line() {
	local IFS=,
	echo "#@ fslist=${FS_LIST[*]} rtns=${RT_NS// /,} popns=${POP_NS// /,} popthreads=$POP_THREADS expfiles=$EXP_FILES expshort=$EXP_SHORT expw=$EXP_WRITERS expthreads=$EXP_THREADS expbase=$EXP_BASE quick=${QUICK:+1}"
}

# make_table RESULTS: the tables, computed by awk from a results file: for
# every metric the median over the repeats, per filesystem, and recfs /
# each. The run's parameters come from its "#@" line.
make_table() {
	awk '
	function median(fs, wl, key,    k, n, i, j, t, a) {
		n = 0
		for (k = 1; k <= cnt[fs, wl, key]; k++) a[++n] = val[fs, wl, key, k]
		if (n == 0) return ""
		for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	function fmt(v) {
		if (v == "") return "–"
		if (v >= 1e6) return sprintf("%.2fM", v / 1e6)
		if (v >= 1e5) return sprintf("%.0fk", v / 1e3)
		if (v >= 1e4) return sprintf("%.1fk", v / 1e3)
		if (v == int(v) || v >= 100) return sprintf("%.0f", v)
		if (v >= 10) return sprintf("%.1f", v)
		return sprintf("%.2f", v)
	}
	function ratio(a, b) {
		if (a == "" || b == "") return "–"
		if (b == 0) return a == 0 ? "=" : "∞"
		if (a / b >= 10) return sprintf("%.0f×", a / b)
		if (a / b < 0.1) return sprintf("%.2g×", a / b)
		return sprintf("%.2f×", a / b)
	}
	# row LABEL WL KEY DIR: one metric over every filesystem.
	function row(label, wl, key, dir,    i, line, m, v) {
		line = sprintf("| %s %s |", label, dir == "hi" ? "↑" : "↓")
		for (i = 1; i <= nfs; i++) { v = median(fs[i], wl, key); m[fs[i]] = v; line = line " " fmt(v) " |" }
		for (i = 1; i <= nfs; i++) if (fs[i] != "recfs") line = line " " ratio(m["recfs"], m[fs[i]]) " |"
		print line
		for (i = 1; i <= nfs; i++) med[fs[i], wl, key] = m[fs[i]]
	}
	function one(label, wl, key, unit, div,    v) {
		v = median("recfs", wl, key)
		if (v == "") return
		med["recfs", wl, key] = v
		if (div) v = sprintf("%.1f", v / div)
		printf("| %s | %s%s |\n", label, div ? v : fmt(v), unit)
	}
	function target(text, ok, got) {
		printf("| %s | %s | %s |\n", text, got, ok == "" ? "not measured" : ok ? "met" : "**missed**")
	}
	/^#@ / {
		for (i = 2; i <= NF; i++) { split($i, kv, "="); par[kv[1]] = kv[2] }
		next
	}
	/^#/ { next }
	{
		f = ""; w = ""; r = ""
		for (i = 1; i <= NF; i++) {
			split($i, kv, "=")
			if (kv[1] == "fs") f = kv[2]; else if (kv[1] == "wl") w = kv[2]; else if (kv[1] == "rep") r = kv[2]
		}
		# pbx-max of recfs with the audit trail on and off, per round.
		if (f == "recfs" && (w == "pbx-max" || w == "pbx-max-noaudit"))
			for (i = 1; i <= NF; i++) {
				split($i, kv, "=")
				if (kv[1] == "frames_per_s") { byrep[w, r] = kv[2] + 0; rounds[r] = 1 }
			}
		for (i = 1; i <= NF; i++) {
			split($i, kv, "=")
			if (kv[1] == "fs" || kv[1] == "wl" || kv[1] == "rep") continue
			if (kv[2] !~ /^-?[0-9.]+$/) continue
			c = ++cnt[f, w, kv[1]]
			val[f, w, kv[1], c] = kv[2] + 0
		}
	}
	END {
		nfs = split(par["fslist"], fs, ","); nrt = split(par["rtns"], rt, ",")
		npop = split(par["popns"], pop, ",")
		popthreads = par["popthreads"]; expfiles = par["expfiles"]; expshort = par["expshort"]
		expw = par["expw"]; expthreads = par["expthreads"]; quick = par["quick"]
		expbase = par["expbase"] + 0
		hdr = "| metric |"; sep = "|---|"
		for (i = 1; i <= nfs; i++) { hdr = hdr " " fs[i] " |"; sep = sep "---:|" }
		for (i = 1; i <= nfs; i++) if (fs[i] != "recfs") { hdr = hdr " recfs/" fs[i] " |"; sep = sep "---:|" }
		print hdr; print sep
		row("pbx-max frames/s (64 writers)", "pbx-max", "frames_per_s", "hi")
		row("pbx-max write p50 µs", "pbx-max", "write_p50_us", "lo")
		row("pbx-max write p99 µs", "pbx-max", "write_p99_us", "lo")
		row("pbx-max write max µs", "pbx-max", "write_max_us", "lo")
		for (i = 1; i <= nrt; i++) {
			row("pbx-rt N=" rt[i] " late frames", "rt-" rt[i], "late", "lo")
			row("pbx-rt N=" rt[i] " p99 ms", "rt-" rt[i], "p99_ms", "lo")
			row("pbx-rt N=" rt[i] " max ms", "rt-" rt[i], "max_ms", "lo")
		}
		row("pbx-rt largest N, no late frame", "rt-max", "max_n", "hi")
		row("stream write MB/s (128 KiB + fsync)", "stream", "write_mb_s", "hi")
		row("stream read MB/s (cold)", "stream", "read_mb_s", "hi")
		row("meta create ops/s", "meta", "create_ops_s", "hi")
		row("meta readdir+stat ops/s", "meta", "readdir_stat_ops_s", "hi")
		row("meta rename into keep/ ops/s", "meta", "rename_ops_s", "hi")
		row("meta stat ops/s", "meta", "stat_ops_s", "hi")
		row("meta unlink ops/s", "meta", "unlink_ops_s", "hi")
		for (i = 1; i <= nrt; i++)
			row("daemon CPU s per audio hour (pbx-rt N=" rt[i] ")", "rt-" rt[i], "cpu_s_per_audio_h", "lo")
		hit = ""
		for (i = 1; i <= nfs; i++) if (median(fs[i], "rt-max", "budget_hit") >= 1) hit = hit " " fs[i]
		if (hit != "") { print ""; print "Largest N: the search ran out of its time budget on" hit ", so that value is a lower bound." }
		print ""
		print "| recfs only | value |"
		print "|---|---:|"
		one("mount time, empty store", "mount-0", "mount_ms", " ms")
		one("daemon RSS, empty store", "mount-0", "rss_kib", " MiB", 1024)
		for (i = 1; i <= npop; i++) {
			one("create " pop[i] " recordings (" popthreads " threads), files/s", "populate-" pop[i], "files_per_s", "")
			one("mount time with " pop[i] " recordings", "mount-" pop[i], "mount_ms", " ms")
			one("daemon RSS after mount, " pop[i] " recordings", "mount-" pop[i], "rss_kib", " MiB", 1024)
			one("daemon RSS after reading all " pop[i], "walked-" pop[i], "rss_kib", " MiB", 1024)
		}
		base = med["recfs", "mount-0", "rss_kib"]
		last = pop[npop]
		if (base != "" && med["recfs", "mount-" last, "rss_kib"] != "") {
			perrec = (med["recfs", "mount-" last, "rss_kib"] - base) * 1024 / last
			printf("| memory per recording beyond the base (after mount, %s) | %.0f bytes |\n", last, perrec)
			m2 = median("recfs", "walked-" last, "rss_kib")
			if (m2 != "") { perrec2 = (m2 - base) * 1024 / last
				printf("| memory per recording beyond the base (all looked up, %s) | %.0f bytes |\n", last, perrec2) }
		}
		one("expiry: kept recordings already in the store (never due here)", "expire-base", "created", "")
		one("expiry: recordings held open, then closed at once (of " expfiles ")", "expire", "created", "")
		one("expiry: creating, writing, reading them back (held open) took", "expire", "create_ms", " ms")
		one("expiry: closing all of them (" expthreads " threads) took", "expire", "close_ms", " ms")
		one("expiry: deadlines spread over (last − first)", "expire", "due_spread_ms", " ms")
		one("expiry lateness p50 (short = " expshort " s)", "expire", "lateness_p50_ms", " ms")
		one("expiry lateness p99", "expire", "lateness_p99_ms", " ms")
		one("expiry lateness max", "expire", "lateness_max_ms", " ms")
		one("expiry: gone early (> 1 s before deadline)", "expire", "early", "")
		one("expiry: still there at give-up", "expire", "never", "")
		one("expiry: first deadline to last file gone", "expire", "last_gone_after_first_deadline_ms", " ms")
		one("  (polling resolution: slowest listing of the folder)", "expire", "poll_pass_max_ms", " ms")
		one("pbx-rt N=" expw " during the expiry run, whole run: late frames", "expire-rt", "late", "")
		one("pbx-rt N=" expw ", while creating, closing, reading back: late frames", "expire-rt-setup", "late", "")
		one("pbx-rt N=" expw ", while creating, closing, reading back: max", "expire-rt-setup", "max_ms", " ms")
		one("pbx-rt N=" expw ", expiry window (watched from first deadline − 1.25 s to last gone + 1 s): length", "expire-rt-expiry", "window_ms", " ms")
		one("pbx-rt N=" expw ", expiry window: frames", "expire-rt-expiry", "frames", "")
		one("pbx-rt N=" expw ", expiry window: late frames", "expire-rt-expiry", "late", "")
		one("pbx-rt N=" expw ", expiry window: p99", "expire-rt-expiry", "p99_ms", " ms")
		one("pbx-rt N=" expw ", expiry window: max", "expire-rt-expiry", "max_ms", " ms")
		one("pbx-rt N=" expw ", outside the expiry window: late frames", "expire-rt-outside", "late", "")
		one("pbx-rt N=" expw ", outside the expiry window: p99", "expire-rt-outside", "p99_ms", " ms")
		one("pbx-rt N=" expw ", outside the expiry window: max", "expire-rt-outside", "max_ms", " ms")
		one("pbx-rt N=" expw ", the rest (neither setup nor expiry): late frames", "expire-rt-rest", "late", "")
		one("pbx-rt N=" expw ", the rest: max", "expire-rt-rest", "max_ms", " ms")
		one("daemon CPU s per audio hour during the expiry run", "expire-rt", "cpu_s_per_audio_h", "")
		one("pbx-max frames/s, audit on (the recfs column above)", "pbx-max", "frames_per_s", "")
		one("pbx-max frames/s, audit off (a second recfs, same rounds)", "pbx-max-noaudit", "frames_per_s", "")
		# The audit cost: on ÷ off per round (the two ran back to back),
		# the median over the rounds.
		nr = 0
		for (k in rounds) if (("pbx-max", k) in byrep && ("pbx-max-noaudit", k) in byrep && byrep["pbx-max-noaudit", k] > 0)
			ar[++nr] = byrep["pbx-max", k] / byrep["pbx-max-noaudit", k]
		for (i = 2; i <= nr; i++) { t = ar[i]; for (j = i - 1; j >= 1 && ar[j] > t; j--) ar[j + 1] = ar[j]; ar[j + 1] = t }
		auditr = nr == 0 ? "" : nr % 2 ? ar[(nr + 1) / 2] : (ar[nr / 2] + ar[nr / 2 + 1]) / 2
		if (auditr != "")
			printf("| audit cost: pbx-max frames/s audit on vs off (median of %d per-round ratios) | %.3f× |\n", nr, auditr)
		one("audit trail after the run, audit on: records (recctl audit verify: intact)", "audit-on", "audit_records", "")
		one("audit trail after the run, audit off: records", "audit-off", "audit_records", "")
		if (quick) exit
		print ""
		print "| target (issue 4) | measured | |"
		print "|---|---|---|"
		R = "recfs"
		pm = med[R, "pbx-max", "frames_per_s"]
		b = med["bindfs", "pbx-max", "frames_per_s"]; g = med["gocryptfs", "pbx-max", "frames_per_s"]
		target("pbx-max frames/s ≥ 5 × bindfs", b == "" ? "" : pm >= 5 * b, b == "" ? "–" : sprintf("%.2f×", pm / b))
		target("pbx-max frames/s ≥ 15 × gocryptfs", g == "" ? "" : pm >= 15 * g, g == "" ? "–" : sprintf("%.2f×", pm / g))
		p = med["plain", "pbx-max", "write_p99_us"]; q = med[R, "pbx-max", "write_p99_us"]
		target("pbx-max write p99 ≤ 20 × plain p99", p == "" ? "" : q <= 20 * p, p == "" ? "–" : sprintf("%.1f×", q / p))
		worst = 0; seen = 0
		for (k = 1; k <= cnt[R, "rt-400", "late"]; k++) { seen = 1; if (val[R, "rt-400", "late", k] > worst) worst = val[R, "rt-400", "late", k] }
		target("pbx-rt: no late frame at N = 400 (every repeat)", seen ? worst == 0 : "", seen ? worst " late (worst repeat)" : "–")
		a = med[R, "rt-max", "max_n"]; p = med["plain", "rt-max", "max_n"]
		target("pbx-rt largest N ≥ 0.8 × plain", p == "" || a == "" ? "" : a >= 0.8 * p, p == "" || a == "" ? "–" : a " vs " p)
		g = med["gocryptfs", "stream", "write_mb_s"]; a = med[R, "stream", "write_mb_s"]
		target("stream write ≥ 1.5 × gocryptfs", g == "" ? "" : a >= 1.5 * g, g == "" ? "–" : sprintf("%.2f×", a / g))
		g = med["gocryptfs", "stream", "read_mb_s"]; a = med[R, "stream", "read_mb_s"]
		target("stream read ≥ 1.0 × gocryptfs", g == "" ? "" : a >= g, g == "" ? "–" : sprintf("%.2f×", a / g))
		split("create_ops_s readdir_stat_ops_s rename_ops_s stat_ops_s unlink_ops_s", ph, " ")
		okm = 1; got = ""; have = med["bindfs", "meta", "create_ops_s"] != ""
		for (k = 1; k <= 5; k++) { b = med["bindfs", "meta", ph[k]]; a = med[R, "meta", ph[k]]
			if (b != "" && a < b) okm = 0
			if (b != "") got = got sprintf("%s%.2f×", k > 1 ? " / " : "", a / b) }
		target("meta: every phase ≥ bindfs (create/readdir/rename/stat/unlink)", have ? okm : "", have ? got : "–")
		a = med[R, "mount-" last, "mount_ms"]
		target("mount with " last " recordings ≤ 2 s", a == "" ? "" : a <= 2000, a == "" ? "–" : a " ms")
		target("memory ≤ 1 KiB per recording beyond the base", perrec == "" ? "" : perrec <= 1024, perrec == "" ? "–" : sprintf("%.0f B", perrec))
		a = med[R, "expire", "lateness_p99_ms"]; c = med[R, "expire", "created"]; sp = med[R, "expire", "due_spread_ms"]
		if (c != "" && c < expfiles)
			target("expiry lateness p99 ≤ 1 s with " expfiles " due at once, " expfiles + expbase " in the store", "", sprintf("%s ms, but only %d of %d were created", a, c, expfiles))
		else if (sp != "" && sp > 1000)
			target("expiry lateness p99 ≤ 1 s with " expfiles " due at once, " expfiles + expbase " in the store", "", sprintf("%s ms, but the deadlines spread over %s ms, not within 1 s", a, sp))
		else
			target("expiry lateness p99 ≤ 1 s with " expfiles " due at once, " expfiles + expbase " in the store", a == "" ? "" : a <= 1000, a == "" ? "–" : sprintf("%s ms (due within %s ms)", a, sp))
		a = med[R, "expire-rt-expiry", "late"]
		target("no late frame for the writers meanwhile (expiry window)", a == "" ? "" : a == 0,
			a == "" ? "–" : sprintf("%s late; p99 %s ms, max %s ms (outside the window: %s ms, %s ms)", a,
				fmt(med[R, "expire-rt-expiry", "p99_ms"]), fmt(med[R, "expire-rt-expiry", "max_ms"]),
				fmt(med[R, "expire-rt-outside", "p99_ms"]), fmt(med[R, "expire-rt-outside", "max_ms"])))
		target("audit on costs ≤ 5 % of pbx-max frames/s", auditr == "" ? "" : auditr >= 0.95,
			auditr == "" ? "–" : sprintf("on/off %.3f× (medians: on %s, off %s)", auditr,
				fmt(med[R, "pbx-max", "frames_per_s"]), fmt(med[R, "pbx-max-noaudit", "frames_per_s"])))
	}' "$1"
}

# render RESULTS: the whole report: the "# " header lines, the tables, the
# "#= " lines (notes, problems).
render() {
	sed -n 's/^# //p' "$1"
	echo
	echo "↑ higher is better, ↓ lower is better; ratios are recfs ÷ the other, per metric."
	echo
	make_table "$1"
	if grep -q '^#= ' "$1"; then
		echo
		sed -n 's/^#= //p' "$1"
	fi
}

# ------------------------------------------------------------ main

if [ "${1:-}" = --table ]; then
	# Render the report of an earlier run again: run.sh --table results.txt
	[ -r "${2:-}" ] || { say "usage: run.sh --table RESULTS"; exit 2; }
	trap - EXIT
	render "$2"
	exit 0
fi
CMDLINE=
for v in BENCH_QUICK BENCH_FS BENCH_REPEATS BENCH_SECONDS BENCH_RT_SECONDS BENCH_FM_REPEATS \
	BENCH_PARTS BENCH_EXP_FILES BENCH_EXP_WRITERS BENCH_EXP_THREADS BENCH_EXP_SHORT \
	BENCH_EXP_BASE; do
	[ -n "${!v:-}" ] || continue
	if [[ ${!v} == *" "* ]]; then CMDLINE+="$v='${!v}' "; else CMDLINE+="$v=${!v} "; fi
done
CMDLINE+="tests/bench/run.sh${*:+ $*}"
[ -n "${BENCH_NO_BUILD:-}" ] && CMDLINE="make bench (${CMDLINE})"
[ "$(id -u)" -eq 0 ] || { say "must run as root (FUSE mounts, apt-get, drop_caches)"; exit 1; }
T_START=$(now_ms)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
if [ -n "$QUICK" ]; then
	sh "$REPO/tools/deps.sh" || exit 1
	for fs in "${FS_LIST[@]}"; do
		case $fs in plain | recfs) ;; *) command -v "$fs" >/dev/null || { say "$fs missing"; exit 1; } ;; esac
	done
else
	install_packages
fi
build
for t in "$RECFS" "$RECCTL" "$FSB"; do
	[ -x "$t" ] || { say "$t is not built"; exit 1; }
done
# pbx-rt holds one open file per writer, in fsbench and in the daemons;
# the expiry part holds EXP_FILES open at once.
ulimit -n "$(ulimit -Hn)" 2>/dev/null
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((EXP_FILES + 4096)) ]; then
	ulimit -n $((EXP_FILES + 4096)) 2>/dev/null ||
		say "cannot raise the open-file limit to $((EXP_FILES + 4096)): the expiry part may fail"
fi
mkdir -p "$OUT" || exit 1
rm -rf "$OUT/logs"
WORK=$(mktemp -d "$PARENT/recfs-bench.XXXXXX") || exit 1
case $(stat -f -c %T "$WORK") in
tmpfs | ramfs) say "$WORK is on $(stat -f -c %T "$WORK"): set BENCH_WORKDIR to a disk"; exit 1 ;;
esac
RES=$WORK/results.txt
{
	echo "# ## recfs benchmark${QUICK:+ (BENCH_QUICK smoke run: sizes too small to mean anything)}"
	echo "# "
	machine_info | sed 's/^/# /'
} >"$RES"
say "work directory $WORK; filesystems: ${FS_LIST[*]}"

has_recfs() { [[ " ${FS_LIST[*]} " == *" recfs "* ]]; }
if [[ $PARTS == *" main "* ]]; then
	ok_fs=()
	for fs in "${FS_LIST[@]}"; do
		if init_fs "$fs" && mount_fs "$fs"; then
			ok_fs+=("$fs")
		elif [ "$fs" = plain ] || [ "$fs" = recfs ]; then
			problem "$fs: cannot set up or mount"
		else
			NOTES+=("$fs: could not be set up or mounted, left out")
		fi
	done
	FS_LIST=("${ok_fs[@]}")
	# The audit cost: a second recfs, the audit trail off, for pbx-max.
	if has_recfs; then
		if init_fs recfs-noaudit && mount_fs recfs-noaudit; then
			NOAUDIT=recfs-noaudit
		else
			problem "recfs-noaudit: cannot set up or mount"
		fi
	fi
fi
params_line >>"$RES"

if [[ $PARTS == *" main "* ]]; then
	run_interleaved
	for fs in "${FS_LIST[@]}" $NOAUDIT; do umount_fs "$fs"; done
	if has_recfs; then
		audit_check recfs
		[ -n "$NOAUDIT" ] && audit_check "$NOAUDIT"
	fi
fi
if has_recfs; then
	[[ $PARTS == *" population "* ]] && run_population
	[[ $PARTS == *" expiry "* ]] && run_expiry
fi
ELAPSED=$((($(now_ms) - T_START) / 1000))
{
	echo "# - wall time of the whole run: $((ELAPSED / 60)) min $((ELAPSED % 60)) s"
	for n in "${NOTES[@]}"; do echo "#= - note: $n"; done
	for n in "${PROBLEMS[@]}"; do echo "#= - **PROBLEM**: $n"; done
} >>"$RES"
render "$RES" >"$WORK/table.md"
cp "$RES" "$OUT/results.txt"
cp "$WORK/table.md" "$OUT/table.md"
echo
cat "$WORK/table.md"
echo
say "results: $OUT/results.txt, table: $OUT/table.md, logs: $OUT/logs/"
if [ ${#PROBLEMS[@]} -gt 0 ]; then
	say "${#PROBLEMS[@]} problem(s); see above"
	exit 1
fi
say "every run verified every byte it wrote"
exit 0
