#!/usr/bin/env bash
# The permission model of docs/permissions.md, with default_permissions
# and its [access] settings (group recordings, file_mode 0640, dir_mode
# 0770): a recorder (uid 2001, not in the group) records into spool/, a
# folder it owns; operators (uid 2002, in the recordings group, gid 2100)
# listen and move recordings into keep/ and out; an unrelated user (uid
# 2003) can neither list, read, rename nor delete anything; root can do
# everything (except write a sealed file). Then [access] owner as well, on
# files and folders made by root and by another user.
. "$(dirname "$0")/lib.sh"

REC=2001 OPR=2002 OTHER=2003 GRP=2100
setup access.group=$GRP access.file_mode=0640 access.dir_mode=0770
need_mount
M=$MNT
# Tools where the other uids can surely run them.
install -m 0755 "$TESTBIN/fsop" "$TESTBIN/recwriter" "$WORK/"

# as WHO CMD...: run CMD as the recorder, the operator or the other user
# (umask 027; [access] decides the modes of new nodes anyway).
as() {
	local who=$1
	shift
	case $who in
	rec) setpriv --reuid=$REC --regid=$REC --clear-groups sh -c 'umask 027; exec "$@"' as "$@" ;;
	opr) setpriv --reuid=$OPR --regid=$OPR --groups=$GRP sh -c 'umask 027; exec "$@"' as "$@" ;;
	other) setpriv --reuid=$OTHER --regid=$OTHER --clear-groups sh -c 'umask 027; exec "$@"' as "$@" ;;
	*) bail "as: who is $who?" ;;
	esac
}

# can WHO EXPECT NAME FSOP-ARGS...: fsop as WHO gives EXPECT.
can() {
	local who=$1 want=$2 name=$3
	shift 3
	check_eq "$who: $name" "$want" "$(as "$who" "$WORK/fsop" "$@" 2>&1)"
}

# --- the setup, as docs/permissions.md gives it
check_eq "first mount: root and keep/ made root:recordings 0770 ([access])" \
	"0:$GRP:770 0:$GRP:770" "$(stat -c '%u:%g:%a' "$M" "$M/keep" | xargs)"
check "root folder: chmod 0751 (others may only pass through)" chmod 0751 "$M"
check "spool/: mkdir, chown to the recorder" sh -c "mkdir '$M/spool' && chown $REC '$M/spool'"
check_eq "modes and owners as set" "0:$GRP:751 0:$GRP:770 $REC:$GRP:770" \
	"$(stat -c '%u:%g:%a' "$M" "$M/keep" "$M/spool" | xargs)"

# --- the recorder
check "recorder: mkdir -p spool/2026/11/28" as rec mkdir -p "$M/spool/2026/11/28"
check "recorder: records call-1.wav" as rec "$WORK/recwriter" -p 4 -p 40 -n 100 -S 7 "$M/spool/2026/11/28/call-1.wav"
check "recorder: records call-2.wav" as rec "$WORK/recwriter" -n 50 -S 8 "$M/spool/2026/11/28/call-2.wav"
"$WORK/recwriter" -p 4 -p 40 -n 100 -S 7 "$REF/call-1.wav"
check_eq "recorder's file: owner recorder, group recordings, mode 0640" \
	"$REC:$GRP:640" "$(stat -c '%u:%g:%a' "$M/spool/2026/11/28/call-1.wav")"
check_eq "recorder's folders: owner recorder, group recordings, mode 0770" \
	"$REC:$GRP:770 $REC:$GRP:770" "$(stat -c '%u:%g:%a' "$M/spool/2026" "$M/spool/2026/11/28" | xargs)"
can rec EACCES "cannot list keep/" opendir "$M/keep"
can rec EACCES "cannot move its recording into keep/ (operators keep)" \
	rename "$M/spool/2026/11/28/call-1.wav" "$M/keep/call-1.wav"
can rec EACCES "cannot list the root" opendir "$M"
can rec EACCES "cannot create in the root" open "$M/stray.wav" wronly,creat 0644

# --- the operator: listens, keeps, unkeeps
can opr OK "can list the root" opendir "$M"
can opr OK "can list spool/2026/11/28" opendir "$M/spool/2026/11/28"
check "operator: can listen (read) call-1.wav" as opr cmp "$M/spool/2026/11/28/call-1.wav" "$REF/call-1.wav"
can opr EACCES "cannot change the recording" open "$M/spool/2026/11/28/call-1.wav" wronly
can opr OK "can move call-1.wav into keep/" rename "$M/spool/2026/11/28/call-1.wav" "$M/keep/call-1.wav"
check_eq "kept: sealed" sealed "$(xget "$M/keep/call-1.wav" user.recfs.state)"
can opr OK "can make a case folder in keep/" mkdir "$M/keep/case-42" 0770
can opr OK "can move the kept file into the case folder" rename "$M/keep/call-1.wav" "$M/keep/case-42/call-1.wav"
check_eq "case folder: group recordings, mode 0770" "$OPR:$GRP:770" "$(stat -c '%u:%g:%a' "$M/keep/case-42")"
check "operator: can read the kept file" as opr cmp "$M/keep/case-42/call-1.wav" "$REF/call-1.wav"
can opr OK "can move call-2.wav into keep/ and out again" \
	rename "$M/spool/2026/11/28/call-2.wav" "$M/keep/call-2.wav"
can opr OK "... and out again (unkeep)" rename "$M/keep/call-2.wav" "$M/spool/2026/11/28/call-2.wav"
can opr EACCES "cannot create in the root" mkdir "$M/x" 0755

# --- an unrelated user: nothing at all
for p in "$M" "$M/spool" "$M/spool/2026/11/28" "$M/keep" "$M/keep/case-42"; do
	can other EACCES "cannot list ${p#"$M"}" opendir "$p"
done
can other EACCES "cannot read a recording" open "$M/spool/2026/11/28/call-2.wav" rdonly
can other EACCES "cannot read a kept recording" open "$M/keep/case-42/call-1.wav" rdonly
can other EACCES "cannot even stat a recording" stat "$M/spool/2026/11/28/call-2.wav"
can other EACCES "cannot read its xattrs" getxattr "$M/keep/case-42/call-1.wav" user.recfs.state
can other EACCES "cannot rename a recording" rename "$M/spool/2026/11/28/call-2.wav" "$M/spool/2026/11/28/x.wav"
can other EACCES "cannot move a recording into keep/" rename "$M/spool/2026/11/28/call-2.wav" "$M/keep/x.wav"
can other EACCES "cannot delete a recording" unlink "$M/spool/2026/11/28/call-2.wav"
can other EACCES "cannot delete a kept recording" unlink "$M/keep/case-42/call-1.wav"
can other EACCES "cannot create anything" open "$M/spool/x.wav" wronly,creat 0644
check_eq "the unrelated user changed nothing" "call-2.wav|call-1.wav" \
	"$(ls "$M/spool/2026/11/28" | xargs)|$(ls "$M/keep/case-42" | xargs)"

# --- root: everything, but a seal holds even for root
check "root: can list everything" ls -R "$M"
check "root: can read a kept recording" cmp "$M/keep/case-42/call-1.wav" "$REF/call-1.wav"
expect_errno "root: cannot write a sealed file either (EPERM)" EPERM open "$M/keep/case-42/call-1.wav" wronly
check "root: can rename across owners' folders" mv "$M/spool/2026/11/28/call-2.wav" "$M/keep/call-2.wav"
check "root: can chown and chmod" sh -c "chown $OPR '$M/keep/call-2.wav' && chmod 0600 '$M/keep/call-2.wav'"
check "root: can delete a kept recording" rm "$M/keep/call-2.wav"
check "root: can remove the recorder's folders" rm -r "$M/spool/2026"

# --- the same after a remount: owners and modes are stored
umount_fs
need_mount
check_eq "remount: modes and owners kept" "0:$GRP:751 0:$GRP:770 $REC:$GRP:770 $REC:$GRP:640" \
	"$(stat -c '%u:%g:%a' "$M" "$M/keep" "$M/spool" "$M/keep/case-42/call-1.wav" | xargs)"
can other EACCES "remount: still cannot list the root" opendir "$M"
umount_fs

# --- [access]: owner, group and modes forced by the config
make_store "$WORK/acc" access.owner=$REC access.group=$GRP access.file_mode=0640 access.dir_mode=2770
CONF=$WORK/acc/recfs.conf need_mount
check_eq "[access]: a new store's root and keep/ get owner, group and dir_mode" \
	"$REC:$GRP:2770 $REC:$GRP:2770" "$(stat -c '%u:%g:%a' "$M" "$M/keep" | xargs)"
echo root-made >"$M/by-root.wav"
fsop mkdir "$M/dir-by-root" 0700 >/dev/null
check_eq "[access]: a file root creates gets owner, group and file_mode" "$REC:$GRP:640" \
	"$(stat -c '%u:%g:%a' "$M/by-root.wav")"
check_eq "[access]: a folder root creates (asking 0700) gets dir_mode" "$REC:$GRP:2770" \
	"$(stat -c '%u:%g:%a' "$M/dir-by-root")"
chmod 2755 "$M"
chmod 2777 "$M/dir-by-root"
can other OK "[access]: another user may create in a 0777 folder ..." \
	open "$M/dir-by-root/by-other.wav" wronly,creat 0666
check_eq "[access]: ... and its file gets the configured owner, group and mode too" "$REC:$GRP:640" \
	"$(stat -c '%u:%g:%a' "$M/dir-by-root/by-other.wav")"
check "[access]: chmod after creation still works" chmod 0600 "$M/by-root.wav"
check_eq "[access]: chmod applied" 600 "$(stat -c %a "$M/by-root.wav")"
umount_fs
