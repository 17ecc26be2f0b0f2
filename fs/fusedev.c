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
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/fuse.h>

#include "fusedev.h"

/* The unique id of the kernel's INIT request while its reply is pending
 * (0: none), and whether that kernel offered KILLPRIV_V2. */
static uint64_t init_unique;
static int init_offered;

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

	(void)userdata;
	if (unique && count >= 2 && iov[0].iov_len >= sizeof(*out) && out->unique == unique) {
		struct fuse_init_out *arg = iov[1].iov_base;

		if (out->error == 0 && iov[1].iov_len >= offsetof(struct fuse_init_out, flags) +
		                                          sizeof(arg->flags) &&
		    __atomic_load_n(&init_offered, __ATOMIC_RELAXED))
			arg->flags |= FUSE_HANDLE_KILLPRIV_V2;
		__atomic_store_n(&init_unique, 0, __ATOMIC_RELAXED);
	}
	return writev(fd, iov, count);
}

int fusedev_attach(struct fuse_session *se)
{
	static const struct fuse_custom_io io = {
		.read = dev_read,
		.writev = dev_writev,
	};
	int rc = fuse_session_custom_io(se, &io, fuse_session_fd(se));

	return rc < 0 ? rc : 0;
}
