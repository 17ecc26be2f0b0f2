/*
 * fusedev: /dev/fuse I/O with one change to the INIT reply.
 *
 * FUSE_HANDLE_KILLPRIV_V2 tells the kernel that the daemon clears setuid,
 * setgid and file capabilities itself on write, truncate and chown. The
 * kernel then marks the superblock SB_NOSEC, and after the first write an
 * inode without those bits skips the security.capability lookup that
 * otherwise precedes every write. recfs honours the promise by construction:
 * regular files never carry S_ISUID/S_ISGID (node.c strips them) and no
 * xattr outside user.* can be set, so there is never anything to clear.
 *
 * Once the kernel has taken the INIT reply, the mount's read-ahead is
 * raised from the kernel's 128 KiB to 1 MiB, the largest READ libfuse
 * takes (256 pages): a cold sequential read of a recording then costs an
 * eighth of the round trips. INIT itself can only lower it (the kernel
 * offers its default as the maximum), so it goes through the mount's own
 * backing device in sysfs, as an admin would set it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/fuse.h>

#include "fusedev.h"
#include "log.h"

#define READ_AHEAD_KB 1024

/* The unique id of the kernel's INIT request while its reply is pending
 * (0: none), and whether that kernel offered KILLPRIV_V2. */
static uint64_t init_unique;
static int init_offered;
/* The mount's /sys/class/bdi/MAJ:MIN/read_ahead_kb ("" when unknown). */
static char ra_path[64];

static void read_ahead_raise(void)
{
	char val[16];
	int fd = ra_path[0] ? open(ra_path, O_WRONLY | O_CLOEXEC) : -1;
	int len = snprintf(val, sizeof(val), "%d\n", READ_AHEAD_KB);

	/* Without it (no sysfs, not root) reads are only slower. */
	if (fd < 0 || write(fd, val, (size_t)len) != len)
		log_info("read-ahead of the mount left at the kernel's default: %s",
		         ra_path[0] ? strerror(errno) : "device unknown");
	if (fd >= 0)
		close(fd);
}

static ssize_t dev_read(int fd, void *buf, size_t len, void *userdata)
{
	ssize_t n = read(fd, buf, len);
	const struct fuse_in_header *in = buf;

	(void)userdata;
	if (n >= (ssize_t)(sizeof(*in) + sizeof(struct fuse_init_in)) &&
	    in->opcode == FUSE_INIT) {
		const struct fuse_init_in *arg = (const void *)(in + 1);

		__atomic_store_n(&init_offered, (arg->flags & FUSE_HANDLE_KILLPRIV_V2) != 0,
		                 __ATOMIC_RELAXED);
		__atomic_store_n(&init_unique, in->unique, __ATOMIC_RELEASE);
	}
	return n;
}

static ssize_t dev_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	uint64_t unique = __atomic_load_n(&init_unique, __ATOMIC_ACQUIRE);
	const struct fuse_out_header *out = iov[0].iov_base;
	int init_ok = 0;
	ssize_t n;

	(void)userdata;
	if (unique && count >= 2 && iov[0].iov_len >= sizeof(*out) && out->unique == unique) {
		struct fuse_init_out *arg = iov[1].iov_base;

		init_ok = out->error == 0;
		if (init_ok && iov[1].iov_len >= offsetof(struct fuse_init_out, flags) +
		                                 sizeof(arg->flags) &&
		    __atomic_load_n(&init_offered, __ATOMIC_RELAXED))
			arg->flags |= FUSE_HANDLE_KILLPRIV_V2;
		__atomic_store_n(&init_unique, 0, __ATOMIC_RELAXED);
	}
	n = writev(fd, iov, count);
	/* The kernel applies the reply within the write: raise after it. */
	if (init_ok && n >= 0)
		read_ahead_raise();
	return n;
}

int fusedev_attach(struct fuse_session *se, const char *mountpoint)
{
	static const struct fuse_custom_io io = {
		.read = dev_read,
		.writev = dev_writev,
	};
	struct statx stx;
	int rc;

	/* The device number is the superblock's: DONT_SYNC asks the daemon
	 * nothing (it could not answer before its loop runs). */
	if (statx(AT_FDCWD, mountpoint, AT_STATX_DONT_SYNC, STATX_TYPE, &stx) == 0)
		snprintf(ra_path, sizeof(ra_path), "/sys/class/bdi/%u:%u/read_ahead_kb",
		         stx.stx_dev_major, stx.stx_dev_minor);
	rc = fuse_session_custom_io(se, &io, fuse_session_fd(se));
	return rc < 0 ? rc : 0;
}
