#!/bin/sh
# make demo / make undemo: a demo store in ./demo, mounted at ./mnt in the
# foreground until Ctrl-C (or `make undemo` from another shell).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
demo="$top/demo"
mnt="$top/mnt"
conf="$demo/recfs.conf"
build="${BUILD:-build}"

case "${1:-start}" in
start)
	mkdir -p "$demo" "$mnt"
	if [ ! -f "$conf" ]; then
		cat >"$conf" <<CONF
; Demo configuration written by tools/demo.sh. See etc/recfs.conf for every key.
[store]
path = store
key_file = recfs.key
[retention]
short = 30m
keep = 30d
keep_dir = keep
[log]
level = info
CONF
	fi
	[ -f "$demo/store/recfs.store" ] || "$top/$build/recctl" init --config "$conf"
	echo "recfs demo: mounting at $mnt (Ctrl-C or 'make undemo' to stop)"
	echo "  try: mkdir -p $mnt/2026/11/28 && sox -n -r 8000 -b 16 -c 1 $mnt/2026/11/28/call-1.wav synth 3 sine 440"
	echo "       getfattr -d -m user.recfs $mnt/2026/11/28/call-1.wav; mv $mnt/2026/11/28/call-1.wav $mnt/keep/"
	exec "$top/$build/recfs" --config "$conf" "$mnt" -f
	;;
stop)
	if grep -qs " $mnt fuse" /proc/mounts; then
		fusermount3 -u "$mnt"
		echo "recfs demo: unmounted $mnt"
	else
		echo "recfs demo: nothing mounted at $mnt"
	fi
	;;
*)
	echo "usage: $0 start|stop" >&2
	exit 2
	;;
esac
