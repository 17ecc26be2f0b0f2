#!/bin/sh
# Install the Debian packages recfs builds and tests with, when missing.
# Safe to run again: it installs only what dpkg does not already have.
set -eu
need="build-essential pkg-config libfuse3-dev fuse3 libsodium-dev libsndfile1-dev libinih-dev attr sox util-linux clang libclang-rt-14-dev valgrind strace"
missing=""
for p in $need; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "recfs: missing Debian packages:$missing (run as root, or: apt-get install$missing)" >&2
	exit 1
fi
echo "recfs: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
