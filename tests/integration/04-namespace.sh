#!/usr/bin/env bash
# Names: rename, mkdir, rmdir, unlink, readdir, link counts, name length,
# hard links refused, symlinks and FIFOs. Errors are those ext4 gives.
. "$(dirname "$0")/lib.sh"

setup
need_mount
M=$MNT

# --- rename
echo a >"$M/a"
expect_errno "rename a file" OK rename "$M/a" "$M/b"
check "rename: old name gone" test ! -e "$M/a"
check_eq "rename: content under the new name" a "$(cat "$M/b")"
expect_errno "rename to the same name" OK rename "$M/b" "$M/b"
check_eq "rename to the same name: content kept" a "$(cat "$M/b")"

echo one >"$M/x"
echo two >"$M/y"
expect_errno "rename over an existing file" OK rename "$M/x" "$M/y"
check_eq "rename over: target has the new content" one "$(cat "$M/y")"
check "rename over: source name gone" test ! -e "$M/x"

echo three >"$M/z"
expect_errno "RENAME_NOREPLACE onto an existing file: EEXIST" EEXIST rename "$M/z" "$M/y" noreplace
check_eq "RENAME_NOREPLACE: target unchanged" one "$(cat "$M/y")"
check_eq "RENAME_NOREPLACE: source unchanged" three "$(cat "$M/z")"
expect_errno "RENAME_NOREPLACE onto a free name" OK rename "$M/z" "$M/z2" noreplace
check_eq "RENAME_NOREPLACE: moved" three "$(cat "$M/z2")"

mkdir "$M/d1" "$M/d2" "$M/full" "$M/empty"
echo f >"$M/d1/f"
echo g >"$M/full/g"
expect_errno "rename across folders" OK rename "$M/d1/f" "$M/d2/f"
check_eq "rename across folders: content" f "$(cat "$M/d2/f")"
expect_errno "rename a folder over an empty folder" OK rename "$M/d1" "$M/empty"
check "rename a folder over an empty folder: source gone" test ! -e "$M/d1"
expect_errno "rename a folder over a non-empty folder: ENOTEMPTY" ENOTEMPTY rename "$M/d2" "$M/full"
expect_errno "rename a file over a folder: EISDIR" EISDIR rename "$M/y" "$M/full"
expect_errno "rename a folder over a file: ENOTDIR" ENOTDIR rename "$M/full" "$M/y"
expect_errno "rename a folder into itself: EINVAL" EINVAL rename "$M/full" "$M/full/sub"
expect_errno "rename a missing name: ENOENT" ENOENT rename "$M/missing" "$M/m2"
expect_errno "rename into a missing folder: ENOENT" ENOENT rename "$M/y" "$M/nodir/y"
check_eq "failed renames changed nothing" "b d2 empty full keep y z2 | f | g" \
	"$(ls "$M" | xargs) | $(ls "$M/d2") | $(ls "$M/full")"
mkdir "$M/empty/sub"
expect_errno "rename a folder with content to a new name" OK rename "$M/full" "$M/full2"
check_eq "renamed folder keeps its content" g "$(cat "$M/full2/g")"

# --- mkdir, rmdir, unlink
expect_errno "mkdir an existing name: EEXIST" EEXIST mkdir "$M/full2" 0755
expect_errno "mkdir over a file: EEXIST" EEXIST mkdir "$M/y" 0755
expect_errno "mkdir in a missing folder: ENOENT" ENOENT mkdir "$M/nodir/x" 0755
expect_errno "rmdir a non-empty folder: ENOTEMPTY" ENOTEMPTY rmdir "$M/full2"
expect_errno "rmdir a file: ENOTDIR" ENOTDIR rmdir "$M/y"
expect_errno "rmdir a missing name: ENOENT" ENOENT rmdir "$M/missing"
expect_errno "unlink a folder: EISDIR" EISDIR unlink "$M/full2"
expect_errno "unlink a missing name: ENOENT" ENOENT unlink "$M/missing"
expect_errno "create over a folder: EISDIR" EISDIR open "$M/full2" wronly,creat 0644
expect_errno "rmdir an empty folder" OK rmdir "$M/empty/sub"
expect_errno "unlink a file" OK unlink "$M/full2/g"
expect_errno "rmdir a folder just emptied" OK rmdir "$M/full2"

# --- readdir: names recorders and Samba use
mkdir "$M/names"
names=('call 2026-11-28 10.15.wav' '100%.wav' 'a%20b' 'user@example.org' 'k=v'
	'>out' 'sip:+4512345678' 'x+y' 'two  spaces ' ' lead' '#hash' '-dash'
	'.hidden' '..dots' 'ÆØÅ-æøå.wav' 'tab	in' "quote'\"" 'back\slash' '*?[]')
for n in "${names[@]}"; do printf '%s' "$n" >"$M/names/$n"; done
check_eq "readdir: every special name listed" \
	"$(printf '%s\n' "${names[@]}" | sort)" \
	"$(find "$M/names" -mindepth 1 -printf '%f\n' | sort)"
bad=0
for n in "${names[@]}"; do [ "$(cat "$M/names/$n")" == "$n" ] || bad=$((bad + 1)); done
check_eq "readdir: every special name opens to its own content" 0 "$bad"
check_eq "readdir: . and .. listed" 2 "$(ls -a "$M/names" | grep -cxE '[.]{1,2}')"

mkdir "$M/many"
for i in $(seq 1 300); do : >"$M/many/file-$i.wav"; done
check_eq "readdir: 300 entries all listed once" 300 "$(ls -f "$M/many" | grep -c '^file-')"
check_eq "readdir: 300 entries, none twice" 300 "$(ls -f "$M/many" | grep '^file-' | sort -u | wc -l)"
check "rm -rf of a folder with 300 entries" rm -rf "$M/many"
check "rm -rf: gone" test ! -e "$M/many"

# --- folder link counts: 2 + subfolders
mkdir "$M/lc"
check_eq "link count: new folder 2" 2 "$(stat -c %h "$M/lc")"
mkdir "$M/lc/a" "$M/lc/b" "$M/lc/c"
: >"$M/lc/file"
check_eq "link count: three subfolders and a file: 5" 5 "$(stat -c %h "$M/lc")"
rmdir "$M/lc/c"
check_eq "link count: after rmdir 4" 4 "$(stat -c %h "$M/lc")"
mkdir "$M/lc2"
mv "$M/lc/b" "$M/lc2/"
check_eq "link count: source folder after moving a subfolder out" 3 "$(stat -c %h "$M/lc")"
check_eq "link count: target folder after moving a subfolder in" 3 "$(stat -c %h "$M/lc2")"
check_eq "link count: a file has 1" 1 "$(stat -c %h "$M/lc/file")"
nsub=$(find "$M" -mindepth 1 -maxdepth 1 -type d | wc -l)
check_eq "link count: root is 2 + its subfolders" $((2 + nsub)) "$(stat -c %h "$M")"

# --- name length: 255 bytes is fine, 256 is ENAMETOOLONG
n255=$(printf 'n%.0s' $(seq 1 255))
n256=${n255}n
u255=$(printf 'æ%.0s' $(seq 1 127))x # 127 two-byte letters + 1 = 255 bytes
expect_errno "create a 255-byte name" OK open "$M/$n255" wronly,creat 0644
check_eq "255-byte name listed" "$n255" "$(ls "$M" | grep '^nnn')"
expect_errno "create a 255-byte UTF-8 name" OK open "$M/$u255" wronly,creat 0644
expect_errno "create a 256-byte name: ENAMETOOLONG" ENAMETOOLONG open "$M/$n256" wronly,creat 0644
expect_errno "mkdir a 256-byte name: ENAMETOOLONG" ENAMETOOLONG mkdir "$M/$n256" 0755
expect_errno "rename to a 256-byte name: ENAMETOOLONG" ENAMETOOLONG rename "$M/$n255" "$M/$n256"
expect_errno "symlink named with 256 bytes: ENAMETOOLONG" ENAMETOOLONG symlink target "$M/$n256"
expect_errno "lookup of a 256-byte name: ENAMETOOLONG" ENAMETOOLONG stat "$M/$n256"
expect_errno "mkdir a 255-byte name" OK mkdir "$M/d$(printf 'n%.0s' $(seq 1 254))" 0755

# --- hard links are refused
echo l >"$M/linksrc"
expect_errno "link: EPERM" EPERM link "$M/linksrc" "$M/linkdst"
check "link: no second name" test ! -e "$M/linkdst"
check_eq "link: link count stays 1" 1 "$(stat -c %h "$M/linksrc")"

# --- symlinks
long=$(head -c 4095 /dev/zero | tr '\0' 'L')
expect_errno "symlink with a 4095-byte target" OK symlink "$long" "$M/longlink"
check_eq "symlink: readlink gives the 4095-byte target" "$long" "$(readlink "$M/longlink")"
check_eq "symlink: lstat size is the target length" 4095 "$(stat -c %s "$M/longlink")"
expect_errno "symlink: the name exists already: EEXIST" EEXIST symlink x "$M/longlink"
ln -s linksrc "$M/rel"
check_eq "symlink: reading through a relative link" l "$(cat "$M/rel")"
check_eq "symlink: type" "symbolic link" "$(stat -c %F "$M/rel")"
ln -s "names/sip:+4512345678" "$M/special-link"
check_eq "symlink: target with special characters" "names/sip:+4512345678" "$(readlink "$M/special-link")"

# --- FIFOs and sockets are ordinary nodes
check "mkfifo" mkfifo -m 0640 "$M/fifo"
check "mkfifo: is a FIFO" test -p "$M/fifo"
check_eq "mkfifo: mode" 640 "$(stat -c %a "$M/fifo")"
(echo through-the-fifo >"$M/fifo") &
fpid=$!
check_eq "mkfifo: data passes through" through-the-fifo "$(timeout 10 cat "$M/fifo")"
kill "$fpid" 2>/dev/null
wait "$fpid"
expect_errno "mknod a socket" OK mknod "$M/sock" sock 0600
check "mknod: is a socket" test -S "$M/sock"
expect_errno "unlink a FIFO" OK unlink "$M/fifo"

# --- all of it after a remount
umount_fs
need_mount
check_eq "remount: special names" "$(printf '%s\n' "${names[@]}" | sort)" \
	"$(find "$M/names" -mindepth 1 -printf '%f\n' | sort)"
check_eq "remount: 4095-byte symlink" "$long" "$(readlink "$M/longlink")"
check_eq "remount: 255-byte name" "$n255" "$(ls "$M" | grep '^nnn')"
check "remount: socket" test -S "$M/sock"
check_eq "remount: link counts" "3 3" "$(stat -c %h "$M/lc" "$M/lc2" | xargs)"

# --- a name that was looked up and missing (the kernel may keep the miss)
# appears at once when it is made, by any route
for how in create mkdir rename fifo symlink; do
	expect_errno "missing before $how" ENOENT stat "$M/neg-$how"
done
echo made >"$M/neg-create"
mkdir "$M/neg-mkdir"
echo moved >"$M/neg-src" && mv "$M/neg-src" "$M/neg-rename"
mkfifo "$M/neg-fifo"
ln -s neg-create "$M/neg-symlink"
check_eq "missing, then created: content" made "$(cat "$M/neg-create")"
check "missing, then mkdir: a folder" test -d "$M/neg-mkdir"
check_eq "missing, then a rename's target: content" moved "$(cat "$M/neg-rename")"
check "missing, then mkfifo: a FIFO" test -p "$M/neg-fifo"
check_eq "missing, then a symlink: target" neg-create "$(readlink "$M/neg-symlink")"
check_eq "missing names made: all listed" \
	"neg-create neg-fifo neg-mkdir neg-rename neg-symlink" "$(cd "$M" && ls -d neg-* | xargs)"
rm -r "$M"/neg-*
expect_errno "removed again: missing" ENOENT stat "$M/neg-create"

# --- folders written at once (chmod) while a change inside them waited for
# the next housekeeping pass, then emptied and removed: that pass must not
# touch the freed folders (a use after free that the ASan build reports;
# umount_fs wants a clean exit)
for i in 1 2 3; do
	mkdir "$M/hk$i" && touch "$M/hk$i/f" && chmod 700 "$M/hk$i" &&
		rm "$M/hk$i/f" && rmdir "$M/hk$i"
done
sleep 1.5 # housekeeping runs about once a second
check "after the housekeeping pass: the daemon serves" test -d "$M/keep"
umount_fs
