#!/usr/bin/env bash
# The store shows nothing readable: after writing names, folders, content,
# xattrs and link targets holding a phone number and a CPR-like number,
# `grep -r -a` of the store finds none of them; neither does the log.
. "$(dirname "$0")/lib.sh"

setup
need_mount
M=$MNT
PHONE="+4512345678"
CPR="010203-1234"
MARK="RECFS-PLAINTEXT-MARKER"
markers=("$PHONE" "4512345678" "$CPR" "0102031234" "$MARK" "patient-folder" "caller-name")

mkdir -p "$M/2026/11/28/patient-folder-$CPR" "$M/caller-name-$PHONE"
f="$M/2026/11/28/patient-folder-$CPR/call-$PHONE-$CPR.wav"
"$TESTBIN/recwriter" -p 4 -p 40 -n 20 "$f"
printf 'CPR %s phone %s %s\n' "$CPR" "$PHONE" "$MARK" >>"$f"
for i in $(seq 1 2000); do printf 'CPR %s phone %s %s %d\n' "$CPR" "$PHONE" "$MARK" "$i"; done \
	>"$M/caller-name-$PHONE/notes-$CPR.txt"
printf '%s' "$PHONE" >"$M/short-$PHONE"
fsop seq "$M/sparse-$CPR" o:wronly,creat:0644 w:1048576:"$MARK $CPR" c >/dev/null
setfattr -n user.caller -v "$PHONE $MARK" "$f"
setfattr -n "user.cpr-$CPR" -v x "$f"
ln -s "target-$PHONE-$CPR-$MARK" "$M/link-$CPR"
mkfifo "$M/fifo-$PHONE"
echo "$MARK $CPR" >"$M/keep/kept-$PHONE.txt"
echo "$MARK" >"$M/renamed-$PHONE"
mv "$M/renamed-$PHONE" "$M/renamed-away"
echo "$MARK $PHONE" >"$M/deleted-$CPR"
rm "$M/deleted-$CPR"
check_eq "the markers are readable through the mount" "$PHONE" "$(cat "$M/short-$PHONE")"
umount_fs

for m in "${markers[@]}"; do
	hits=$(grep -r -a -l -F -- "$m" "$STORE")
	check_eq "store content: no '$m'" "" "$hits"
	check_eq "store file names: no '$m'" "" "$(find "$STORE" | grep -F -- "$m")"
	check_eq "log at level info: no '$m'" "" "$(grep -a -F -- "$m" "$WORK"/recfs-*.log)"
done
check_eq "object files are named by 32 hex digits" "" \
	"$(find "$STORE/objects" -type f | grep -vE '/[0-9a-f]{32}$')"

keyhex=$(od -An -v -tx1 "$KEY" | tr -d ' \n')
found=
while IFS= read -r -d '' obj; do
	od -An -v -tx1 "$obj" | tr -d ' \n' | grep -q "$keyhex" && found+=" $obj"
done < <(find "$STORE" -type f -print0)
check_eq "the master key is nowhere in the store" "" "$found"
