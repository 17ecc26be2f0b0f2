/*
 * ops: the FUSE low-level callbacks. Each one translates a request into a
 * node_* call and the result into exactly one reply; nothing is decided
 * here. A node's FUSE inode number is its address (the root is
 * FUSE_ROOT_ID): nodes live until the kernel forgets them.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio.h"
#include "audit.h"
#include "clock.h"
#include "node.h"
#include "ops.h"
#include "retention.h"

/* Only recfs changes this namespace and these attributes: every change
 * but one comes through the kernel, and the one that does not (the clock
 * removing a name) is told to the kernel. So the kernel may cache names,
 * misses and attributes for a minute; a shorter time only costs lookups
 * (a second made each unlink of a file last looked up a second earlier
 * cost one more round trip). */
#define ENTRY_TIMEOUT 60.0
#define ATTR_TIMEOUT 60.0

static struct fuse_session *ops_se;
static char ops_config[PATH_MAX]; /* user.recfs.config on the root */

/* One per open file: who opened it and, for the audit trail, how much was
 * read through it. */
struct handle {
	uint64_t bytes;
	int64_t closed_at; /* atomic: the latest close(2) (FLUSH) of it, 0 before */
	int writer;        /* opened for writing (FLUSH does not carry the flags) */
	uint32_t uid, gid;
	int32_t pid;
	char comm[16];
};

static void handle_close(struct node *n, struct fuse_file_info *fi, int audited);

/* Fill the caller's part of an audit record. */
static void audit_caller(fuse_req_t req, struct audit_rec *r)
{
	const struct fuse_ctx *fc = fuse_req_ctx(req);

	r->uid = fc->uid;
	r->gid = fc->gid;
	r->pid = fc->pid;
	audit_comm(fc->pid, r->comm);
	r->duration_ms = -1;
}

/* Log event on n, by the caller of req. */
static void audit_node(fuse_req_t req, uint32_t event, struct node *n)
{
	struct audit_rec *r = calloc(1, sizeof(*r));

	if (!r)
		return;
	r->event = event;
	audit_caller(req, r);
	r->id = n->id;
	node_path(n, r->path, sizeof(r->path));
	r->size = __atomic_load_n(&n->size, __ATOMIC_RELAXED);
	audit_log(r);
	free(r);
}

/* dir's path + "/" + name. */
static void entry_path(struct node *dir, const char *name, char *buf, size_t len)
{
	size_t at;

	node_path(dir, buf, len);
	at = strlen(buf);
	if (at > 0 && buf[at - 1] == '/')
		at--;
	snprintf(buf + at, len - at, "/%s", name);
}

static struct node *N(fuse_ino_t ino)
{
	return ino == FUSE_ROOT_ID ? tree_root() : (struct node *)(uintptr_t)ino;
}

static fuse_ino_t INO(const struct node *n)
{
	return n == tree_root() ? FUSE_ROOT_ID : (fuse_ino_t)(uintptr_t)n;
}

static void reply_entry(fuse_req_t req, struct node *n, int rc)
{
	struct fuse_entry_param e;

	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.ino = INO(n);
	e.generation = 1;
	e.attr_timeout = ATTR_TIMEOUT;
	e.entry_timeout = ENTRY_TIMEOUT;
	node_stat(n, &e.attr);
	if (fuse_reply_entry(req, &e) != 0)
		node_forget(n, 1); /* the kernel did not take the reference */
}

static void reply_create(fuse_req_t req, struct node *n, struct fuse_file_info *fi)
{
	struct fuse_entry_param e;

	memset(&e, 0, sizeof(e));
	e.ino = INO(n);
	e.generation = 1;
	e.attr_timeout = ATTR_TIMEOUT;
	e.entry_timeout = ENTRY_TIMEOUT;
	node_stat(n, &e.attr);
	if (fuse_reply_create(req, &e, fi) != 0) {
		handle_close(n, fi, 0);
		node_forget(n, 1);
	}
}

static void reply_status(fuse_req_t req, int rc)
{
	fuse_reply_err(req, rc < 0 ? -rc : 0);
}

static void op_init(void *data, struct fuse_conn_info *conn)
{
	(void)data;
	/* Requests run in parallel; per-node locks keep them apart. */
	if (conn->capable & FUSE_CAP_ASYNC_READ)
		conn->want |= FUSE_CAP_ASYNC_READ;
	if (conn->capable & FUSE_CAP_EXPORT_SUPPORT)
		conn->want &= ~FUSE_CAP_EXPORT_SUPPORT;
	/* Cached pages of a file go when its mtime moves: writers bypass
	 * the page cache (direct_for_writers). */
	if (conn->capable & FUSE_CAP_AUTO_INVAL_DATA)
		conn->want |= FUSE_CAP_AUTO_INVAL_DATA;
	/* No writeback caching: with it, frames would wait in the kernel's
	 * page cache for up to 30 s and a daemon crash would lose them; the
	 * only way to push them out sooner (invalidating the inode) can
	 * leave a killed daemon stuck in the kernel (docs/design.md). */
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct node *n = NULL;
	int rc = node_lookup(N(parent), name, &n);

	if (rc == -ENOENT) {
		/* Names appear only through this mount, so the kernel may keep
		 * the miss: a create after it needs no second lookup. */
		struct fuse_entry_param e = { .entry_timeout = ENTRY_TIMEOUT };

		fuse_reply_entry(req, &e);
		return;
	}
	reply_entry(req, n, rc);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	node_forget(N(ino), nlookup);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *f)
{
	for (size_t i = 0; i < count; i++)
		node_forget(N(f[i].ino), f[i].nlookup);
	fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat stb;

	(void)fi;
	node_stat(N(ino), &stb);
	fuse_reply_attr(req, &stb, ATTR_TIMEOUT);
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                       struct fuse_file_info *fi)
{
	static const struct { int fuse, node; } map[] = {
		{ FUSE_SET_ATTR_MODE, NODE_SET_MODE },
		{ FUSE_SET_ATTR_UID, NODE_SET_UID },
		{ FUSE_SET_ATTR_GID, NODE_SET_GID },
		{ FUSE_SET_ATTR_SIZE, NODE_SET_SIZE },
		{ FUSE_SET_ATTR_ATIME, NODE_SET_ATIME },
		{ FUSE_SET_ATTR_MTIME, NODE_SET_MTIME },
		{ FUSE_SET_ATTR_ATIME_NOW, NODE_SET_ATIME_NOW },
		{ FUSE_SET_ATTR_MTIME_NOW, NODE_SET_MTIME_NOW },
		{ FUSE_SET_ATTR_CTIME, NODE_SET_CTIME },
	};
	struct stat stb;
	int set = 0, rc;

	(void)fi;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (to_set & map[i].fuse)
			set |= map[i].node;
	rc = node_setattr(N(ino), set, attr);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	if (set & (NODE_SET_MODE | NODE_SET_UID | NODE_SET_GID)) {
		struct audit_rec *r = calloc(1, sizeof(*r));

		if (r) {
			r->event = (set & NODE_SET_MODE) ? AUDIT_CHMOD : AUDIT_CHOWN;
			audit_caller(req, r);
			r->id = N(ino)->id;
			node_path(N(ino), r->path, sizeof(r->path));
			r->mode = attr->st_mode & 07777;
			r->uid2 = attr->st_uid;
			r->gid2 = attr->st_gid;
			audit_log(r);
			free(r);
		}
	}
	node_stat(N(ino), &stb);
	fuse_reply_attr(req, &stb, ATTR_TIMEOUT);
}

static void caller(fuse_req_t req, struct node_ctx *c)
{
	const struct fuse_ctx *fc = fuse_req_ctx(req);

	c->uid = fc->uid;
	c->gid = fc->gid;
	c->pid = fc->pid;
}

static void make(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                 dev_t rdev, const char *target)
{
	struct node_ctx c;
	struct node *n = NULL;
	int rc;

	caller(req, &c);
	rc = node_make(N(parent), name, mode, rdev, target, &c, -1, &n);
	if (rc == 0)
		audit_node(req, AUDIT_CREATE, n);
	reply_entry(req, n, rc);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                     dev_t rdev)
{
	make(req, parent, name, mode, rdev, NULL);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	make(req, parent, name, S_IFDIR | (mode & 07777), 0, NULL);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	make(req, parent, name, S_IFLNK | 0777, 0, link);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	(void)ino;
	(void)newparent;
	(void)newname;
	/* One recording, one name, one retention class (docs/retention.md). */
	fuse_reply_err(req, EPERM);
}

static void remove_entry(fuse_req_t req, fuse_ino_t parent, const char *name, int isdir)
{
	struct audit_rec *r = calloc(1, sizeof(*r));
	struct node *n = NULL;
	int rc;

	if (r && node_lookup(N(parent), name, &n) == 0) {
		r->id = n->id;
		r->size = __atomic_load_n(&n->size, __ATOMIC_RELAXED);
		node_forget(n, 1);
		entry_path(N(parent), name, r->path, sizeof(r->path));
	}
	rc = node_remove(N(parent), name, isdir);
	if (rc == 0 && r) {
		r->event = AUDIT_UNLINK;
		audit_caller(req, r);
		audit_log(r);
	}
	free(r);
	reply_status(req, rc);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_entry(req, parent, name, 0);
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_entry(req, parent, name, 1);
}

/* Log what a rename did to n (class before), which was at path: moved it
 * (rename, keep or unkeep), or erased it (a target replaced). */
static void rename_log(fuse_req_t req, struct node *n, int before, const char *path, int erased)
{
	struct audit_rec *r;
	int after;

	if (!n || !(r = calloc(1, sizeof(*r))))
		return;
	after = node_class(n);
	r->event = erased ? AUDIT_UNLINK : after == before ? AUDIT_RENAME :
	           after == CLASS_KEEP ? AUDIT_KEEP : AUDIT_UNKEEP;
	audit_caller(req, r);
	r->id = n->id;
	r->size = __atomic_load_n(&n->size, __ATOMIC_RELAXED);
	snprintf(r->path, sizeof(r->path), "%s", path);
	if (!erased) {
		r->klass = (uint8_t)after;
		node_path(n, r->path2, sizeof(r->path2));
	}
	audit_log(r);
	free(r);
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
                      fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	char (*path)[PATH_MAX] = malloc(2 * PATH_MAX); /* the source's, the target's */
	struct node_seals seals = { 0 };
	struct node_renamed done;
	int rc;

	if (path) {
		entry_path(N(parent), name, path[0], PATH_MAX);
		entry_path(N(newparent), newname, path[1], PATH_MAX);
	}
	rc = node_rename(N(parent), name, N(newparent), newname, flags, &seals, &done);
	if (rc == 0 && path) {
		/* A target that is not swapped in is erased: a deletion
		 * receipt, as for unlink. */
		if (!(flags & RENAME_EXCHANGE))
			rename_log(req, done.t, done.t_class, path[1], 1);
		rename_log(req, done.n, done.n_class, path[0], 0);
		if (flags & RENAME_EXCHANGE)
			rename_log(req, done.t, done.t_class, path[1], 0);
	}
	if (done.n)
		node_forget(done.n, 1);
	if (done.t)
		node_forget(done.t, 1);
	free(path);
	reply_status(req, rc);
	/* The move is on disk; hashing what it kept need not hold up mv. */
	node_seal_moved(&seals);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	char buf[4096];
	int rc = node_readlink(N(ino), buf, sizeof(buf));

	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_readlink(req, buf);
}

static int opened_for_write(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY;
}

/* A handle that can only write gets direct I/O: each write reaches the
 * daemon straight from the writer's memory instead of through a copy in
 * the kernel's page cache that nothing would read (a write-only handle
 * cannot be mapped). Readers that cached the file drop what they hold when
 * they see its mtime move (FUSE_CAP_AUTO_INVAL_DATA). A 256 MiB stream
 * write went from about 210 to 360-430 MB/s, pbx-max frames/s up 15 %. */
static void direct_for_writers(struct fuse_file_info *fi)
{
	if ((fi->flags & O_ACCMODE) == O_WRONLY)
		fi->direct_io = 1;
}

/* A handle for fi, and the open in the trail. */
static void handle_new(fuse_req_t req, struct node *n, struct fuse_file_info *fi)
{
	struct handle *h = calloc(1, sizeof(*h));
	struct audit_rec *r = calloc(1, sizeof(*r));

	if (h && r) {
		r->event = opened_for_write(fi->flags) ? AUDIT_OPEN_WRITE : AUDIT_OPEN_READ;
		audit_caller(req, r);
		r->id = n->id;
		node_path(n, r->path, sizeof(r->path));
		r->size = __atomic_load_n(&n->size, __ATOMIC_RELAXED);
		audit_log(r);
		h->uid = r->uid;
		h->gid = r->gid;
		h->pid = r->pid;
		memcpy(h->comm, r->comm, sizeof(h->comm));
	}
	if (h)
		h->writer = opened_for_write(fi->flags);
	free(r);
	fi->fh = (uint64_t)(uintptr_t)h;
}

/* Close fi's handle: log it (bytes read, or size and duration written)
 * when audited, then release. */
static void handle_close(struct node *n, struct fuse_file_info *fi, int audited)
{
	struct handle *h = (struct handle *)(uintptr_t)fi->fh;
	struct audit_rec *r = audited && h ? calloc(1, sizeof(*r)) : NULL;

	if (r) {
		struct audio_info ai;

		r->uid = h->uid;
		r->gid = h->gid;
		r->pid = h->pid;
		memcpy(r->comm, h->comm, sizeof(r->comm));
		r->id = n->id;
		node_path(n, r->path, sizeof(r->path));
		r->duration_ms = -1;
		if (opened_for_write(fi->flags)) {
			r->event = AUDIT_CLOSE_WRITE;
			if (node_audio(n, &ai) == 0)
				r->duration_ms = (int64_t)(ai.seconds * 1000);
		} else {
			r->event = AUDIT_CLOSE_READ;
			r->bytes = __atomic_load_n(&h->bytes, __ATOMIC_RELAXED);
		}
	}
	node_release(n, fi->flags, h ? __atomic_load_n(&h->closed_at, __ATOMIC_RELAXED) : 0);
	if (r) {
		r->size = __atomic_load_n(&n->size, __ATOMIC_RELAXED);
		audit_log(r);
		free(r);
	}
	free(h);
	fi->fh = 0;
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                      struct fuse_file_info *fi)
{
	struct node_ctx c;
	struct node *n = NULL;
	int rc;

	caller(req, &c);
	rc = node_make(N(parent), name, S_IFREG | (mode & 07777), 0, NULL, &c, fi->flags, &n);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	audit_node(req, AUDIT_CREATE, n);
	handle_new(req, n, fi);
	direct_for_writers(fi);
	reply_create(req, n, fi);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int rc = node_open(N(ino), fi->flags);

	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	handle_new(req, N(ino), fi);
	direct_for_writers(fi);
	if (fuse_reply_open(req, fi) != 0)
		handle_close(N(ino), fi, 0);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
	char *buf = malloc(size ? size : 1);
	ssize_t got;

	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	got = node_read(N(ino), buf, size, off);
	if (got == -EIO)
		audit_node(req, AUDIT_DAMAGED, N(ino));
	if (got > 0 && fi->fh)
		__atomic_add_fetch(&((struct handle *)(uintptr_t)fi->fh)->bytes, (uint64_t)got,
		                   __ATOMIC_RELAXED);
	if (got < 0)
		fuse_reply_err(req, (int)-got);
	else
		fuse_reply_buf(req, buf, (size_t)got);
	free(buf);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
                     struct fuse_file_info *fi)
{
	ssize_t done;

	(void)fi;
	done = node_write(N(ino), buf, size, off);
	if (done < 0)
		fuse_reply_err(req, (int)-done);
	else
		fuse_reply_write(req, (size_t)done);
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct handle *h = (struct handle *)(uintptr_t)fi->fh;

	/* close(2) sends FLUSH at once, RELEASE later and asynchronously:
	 * a recording ends at the close, not when the release is served. */
	if (h)
		__atomic_store_n(&h->closed_at, clock_now(), __ATOMIC_RELAXED);
	/* A reader's close neither writes the writers' buffered block nor
	 * reports its error (a full disk) to the reader. */
	reply_status(req, !h || h->writer ? node_flush(N(ino)) : 0);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	handle_close(N(ino), fi, 1);
	fuse_reply_err(req, 0);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)fi;
	reply_status(req, node_fsync(N(ino), datasync));
}

struct dirbuf {
	fuse_req_t req;
	char *buf;
	size_t size, used;
	int plus;
};

static int fill(void *ctx, struct node *n, const char *name, const struct stat *stb,
                uint64_t next_off)
{
	struct dirbuf *d = ctx;
	size_t need;

	if (d->plus) {
		struct fuse_entry_param e;

		memset(&e, 0, sizeof(e));
		e.attr = *stb;
		if (n) {
			e.ino = INO(n);
			e.generation = 1;
			e.attr_timeout = ATTR_TIMEOUT;
			e.entry_timeout = ENTRY_TIMEOUT;
		}
		need = fuse_add_direntry_plus(d->req, d->buf + d->used, d->size - d->used, name,
		                              &e, (off_t)next_off);
	} else {
		need = fuse_add_direntry(d->req, d->buf + d->used, d->size - d->used, name, stb,
		                         (off_t)next_off);
	}
	if (need > d->size - d->used)
		return 1;
	d->used += need;
	return 0;
}

static void readdir_common(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, int plus)
{
	struct dirbuf d = { req, malloc(size), size, 0, plus };

	if (!d.buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	node_readdir(N(ino), (uint64_t)off, plus, fill, &d);
	fuse_reply_buf(req, d.buf, d.used);
	free(d.buf);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi)
{
	(void)fi;
	readdir_common(req, ino, size, off, 0);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                           struct fuse_file_info *fi)
{
	(void)fi;
	readdir_common(req, ino, size, off, 1);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;
	int rc;

	(void)ino;
	rc = node_statfs(&sv);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	sv.f_namemax = STORE_NAME_MAX;
	fuse_reply_statfs(req, &sv);
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
                        size_t size, int flags)
{
	reply_status(req, node_setxattr(N(ino), name, value, size, flags));
}

static void reply_xattr(fuse_req_t req, ssize_t rc, const char *buf, size_t size)
{
	if (rc < 0)
		fuse_reply_err(req, (int)-rc);
	else if (size == 0)
		fuse_reply_xattr(req, (size_t)rc);
	else
		fuse_reply_buf(req, buf, (size_t)rc);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	char *buf;
	ssize_t rc;

	/* The kernel asks for security.capability before every write to a
	 * file (to clear it): answered here, without touching a lock. */
	if (strncmp(name, "user.", 5) != 0) {
		fuse_reply_err(req, ENODATA);
		return;
	}
	/* Which config this mount runs with: recctl finds the store by it. */
	if (ino == FUSE_ROOT_ID && strcmp(name, "user.recfs.config") == 0) {
		reply_xattr(req, size && size < strlen(ops_config) ? -ERANGE :
		                 (ssize_t)strlen(ops_config), ops_config, size);
		return;
	}
	buf = size ? malloc(size) : NULL;
	if (size && !buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	rc = node_getxattr(N(ino), name, buf, size);
	reply_xattr(req, rc, buf, size);
	free(buf);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	char *buf = size ? malloc(size) : NULL;
	ssize_t rc;

	if (size && !buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	rc = node_listxattr(N(ino), buf, size);
	reply_xattr(req, rc, buf, size);
	free(buf);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	reply_status(req, node_removexattr(N(ino), name));
}

static void op_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	(void)ino;
	(void)mask;
	/* default_permissions: the kernel has checked already. */
	fuse_reply_err(req, 0);
}

static const struct fuse_lowlevel_ops recfs_ops = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.readlink = op_readlink,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.symlink = op_symlink,
	.link = op_link,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.rename = op_rename,
	.create = op_create,
	.open = op_open,
	.read = op_read,
	.write = op_write,
	.flush = op_flush,
	.release = op_release,
	.fsync = op_fsync,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.statfs = op_statfs,
	.setxattr = op_setxattr,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
	.removexattr = op_removexattr,
	.access = op_access,
};

struct fuse_session *ops_session_new(struct fuse_args *args, const char *config)
{
	snprintf(ops_config, sizeof(ops_config), "%s", config);
	ops_se = fuse_session_new(args, &recfs_ops, sizeof(recfs_ops), NULL);
	return ops_se;
}

void ops_gone(void *ctx, const struct node *parent, const struct node *n, const char *name)
{
	(void)ctx;
	/* The kernel may hold the name in its caches: drop it there too, and
	 * the folder's attributes (mtime, link count), which it keeps for
	 * ATTR_TIMEOUT and would not otherwise drop when the name was not
	 * cached. */
	fuse_lowlevel_notify_delete(ops_se, INO(parent), INO(n), name, strlen(name));
	fuse_lowlevel_notify_inval_inode(ops_se, INO(parent), -1, 0);
}
