/*
 * node: namespace and content operations over tree + retention + store.
 *
 * Persistence: a node's own namespace change (create, rename, unlink while
 * open, xattrs, chmod...) writes its metadata slot at once. Timestamps of
 * folders touched as a side effect are marked dirty and written by
 * node_housekeeping within about a second, and at unmount; so is a node
 * whose write failed, again at every pass until it holds. A file's size
 * and mtime follow from its content and are written when its last handle
 * closes; after a crash the host file's mtime stands in for the last write.
 *
 * Destruction: an object is shredded (header and slots zeroed) as soon as
 * its node is out of the tree and no handle holds it, then queued; the
 * housekeeping hands the queue to node_dispose, which makes the zeros
 * durable with one syncfs for the whole queue and unlinks the files.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "audio.h"
#include "audit.h"
#include "clock.h"
#include "log.h"
#include "node.h"
#include "retention.h"

#define XATTR_PREFIX "user."
#define RECFS_XATTR "user.recfs."
#define MAX_DEPTH 4096

static struct store *node_store;
static const struct recfs_config *node_cfg;
static int node_readonly; /* NODE_LOAD_READONLY: nothing reaches the store */

/* Pending work for housekeeping, under tree_lock: objects shredded and
 * waiting to be unlinked, and objects whose shred failed (tried again by
 * every housekeeping: left alone, a deleted file would be back after a
 * restart). */
struct id_queue {
	struct store_id *v;
	size_t len, cap;
};
static struct id_queue shred_q, retry_q;
static struct node **dirty;
static size_t dirty_len, dirty_cap;
static int64_t last_mark;

static int path_locked(const struct node *n, char *buf, size_t len);

static int is_dir(const struct node *n)
{
	return S_ISDIR(n->m.mode);
}

static void hexid(const struct node *n, char *buf)
{
	store_id_hex(&n->id, buf);
}

/* Once mounted, n->dirty says n is in dirty[] (at load it only marks n
 * for settle): the two change together, or a node freed meanwhile would
 * stay in the array. tree_lock held. */
static void dirty_drop(struct node *n)
{
	if (!n->dirty)
		return;
	for (size_t i = 0; i < dirty_len; i++) {
		if (dirty[i] == n) {
			dirty[i] = dirty[--dirty_len];
			break;
		}
	}
	n->dirty = 0;
}

/* Queue n's metadata for the next housekeeping pass. 0 or -ENOMEM.
 * tree_lock held. */
static int dirty_add(struct node *n)
{
	/* An open file out of the tree still has metadata to write (its
	 * orphan mark); one that is destroyed has none. */
	if (n->dirty || (n->unlinked && n->nopen == 0))
		return 0;
	if (dirty_len == dirty_cap) {
		size_t cap = dirty_cap ? dirty_cap * 2 : 64;
		struct node **d = realloc(dirty, cap * sizeof(*d));

		if (!d)
			return -ENOMEM;
		dirty = d;
		dirty_cap = cap;
	}
	n->dirty = 1;
	dirty[dirty_len++] = n;
	return 0;
}

/* Write n's metadata now, through obj when the caller has n's object
 * open without a handle. tree_lock held. */
static int persist_via(struct node *n, struct store_obj *obj)
{
	char hex[2 * STORE_ID_BYTES + 1];
	int rc;

	dirty_drop(n); /* written now: nothing left for the next pass */
	if (node_readonly)
		return 0;
	if (obj)
		rc = store_meta_write(obj, &n->m);
	else
		rc = store_meta_write_id(node_store, &n->id, &n->m);
	if (rc == -ENOENT || rc == -EBADMSG || rc == -EPROTO || rc == -EPROTONOSUPPORT) {
		/* The object file is gone or its header damaged: no retry
		 * can write it. */
		hexid(n, hex);
		log_error("object %s: metadata write failed: %s", hex, strerror(-rc));
	} else if (rc < 0) {
		/* Tried again by every housekeeping pass until it holds: left
		 * as it is, the change (a move into keep/, above all) would be
		 * undone by the next mount. Logged once per node, not per try. */
		if (!n->persist_failed) {
			hexid(n, hex);
			log_error("object %s: metadata write failed: %s; trying again "
			          "every second", hex, strerror(-rc));
		}
		n->persist_failed = 1;
		dirty_add(n);
	} else if (n->persist_failed) {
		hexid(n, hex);
		log_info("object %s: metadata written after all", hex);
		n->persist_failed = 0;
	}
	return rc;
}

static int persist(struct node *n)
{
	return persist_via(n, n->obj);
}

/* Write n's metadata with the next housekeeping pass, or now when it
 * cannot be queued. tree_lock held. */
static void mark_dirty(struct node *n)
{
	if (dirty_add(n) < 0)
		persist(n);
}

/* Append id to q. 0 or -ENOMEM. tree_lock held. */
static int id_push(struct id_queue *q, const struct store_id *id)
{
	if (q->len == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 256;
		struct store_id *v = realloc(q->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		q->v = v;
		q->cap = cap;
	}
	q->v[q->len++] = *id;
	return 0;
}

/* Take q's contents (the caller frees *v). tree_lock held. */
static size_t id_take(struct id_queue *q, struct store_id **v)
{
	size_t len = q->len;

	*v = q->v;
	*q = (struct id_queue){ 0 };
	return len;
}

/* Shred the object id and queue its unlink; a failed shred is queued to
 * be tried again. tree_lock held. */
static void shred_id(const struct store_id *id, int first)
{
	char hex[2 * STORE_ID_BYTES + 1];
	int rc = store_shred(node_store, id);

	if (rc == -ENOENT && !first)
		return; /* gone meanwhile: nothing left to destroy */
	if (rc < 0) {
		if (first) {
			store_id_hex(id, hex);
			log_error("object %s: shred failed: %s; trying again every second",
			          hex, strerror(-rc));
		}
		if (id_push(&retry_q, id) < 0)
			log_error("object: shred failed and cannot be queued again");
		return;
	}
	if (!first) {
		store_id_hex(id, hex);
		log_info("object %s: shredded on a later try", hex);
	}
	if (id_push(&shred_q, id) < 0)
		store_reap_shredded(node_store, id, 1);
}

/* Shred n's object and queue its unlink. tree_lock held. */
static void destroy_object(struct node *n)
{
	dirty_drop(n); /* no slot write may land on the shredded file */
	if (!node_readonly)
		shred_id(&n->id, 1);
}

/* Free n when neither the tree, the kernel nor a handle holds it. */
static void maybe_free(struct node *n)
{
	if (n->unlinked && n->nlookup == 0 && n->nopen == 0) {
		ret_heap_remove(n);
		dirty_drop(n);
		tree_node_free(n);
	}
}

/* n is out of the tree: destroy it now or, while open, at last close. */
static void drop_from_tree(struct node *n, int64_t now)
{
	struct node *parent = n->parent;

	tree_unlink(n);
	n->unlinked = 1;
	ret_heap_remove(n);
	dirty_drop(n);
	if (n->nopen == 0) {
		destroy_object(n);
	} else {
		/* A crash before the last close must not bring it back. */
		n->m.flags |= META_ORPHAN;
		persist(n);
	}
	if (parent) {
		parent->m.mtime = parent->m.ctime = now;
		if (parent->nkids == 0)
			parent->m.ended = now;
		ret_update(parent, now);
		mark_dirty(parent);
	}
	maybe_free(n);
}

/* ---- load ---- */

static int load_one(void *ctx, const struct store_id *id, const struct store_meta *m,
                    uint64_t size, int64_t host_mtime)
{
	struct node *n;

	(void)ctx;
	n = tree_node_new(id, m);
	if (!n)
		return -ENOMEM;
	n->size = size;
	/* Never closed (the daemon stopped while recording): the recording
	 * ended with its last write. */
	if (m->state == STATE_RECORDING) {
		n->m.state = STATE_CLOSED;
		n->m.ended = host_mtime > m->mtime ? host_mtime : m->mtime;
		n->dirty = 1;
	}
	if (m->flags & META_ROOT)
		tree_set_root(n);
	return tree_index_add(n);
}

static int new_dir(struct node *parent, const char *name, uint32_t flags, int64_t now,
                   struct node **out)
{
	struct store_meta m = { 0 };
	struct store_obj *obj;
	struct node *n;
	int rc;

	m.mode = S_IFDIR | 0755;
	m.flags = flags;
	if (node_cfg->dir_mode >= 0)
		m.mode = S_IFDIR | (uint32_t)node_cfg->dir_mode;
	m.uid = node_cfg->owner >= 0 ? (uint32_t)node_cfg->owner : 0;
	m.gid = node_cfg->group >= 0 ? (uint32_t)node_cfg->group : 0;
	m.atime = m.mtime = m.ctime = m.btime = m.ended = now;
	m.name_len = (uint16_t)strlen(name);
	memcpy(m.name, name, m.name_len + 1);
	if (parent)
		m.parent = parent->id;
	if (node_readonly) {
		/* Only in memory: a store that was never mounted. */
		struct store_id id;

		crypto_random(id.b, sizeof(id.b));
		n = tree_node_new(&id, &m);
	} else {
		rc = store_obj_create(node_store, &m, &obj);
		if (rc < 0)
			return rc;
		n = tree_node_new(store_obj_id(obj), &m);
		store_obj_close(obj);
	}
	if (!n)
		return -ENOMEM;
	if (parent && (rc = tree_link(parent, n)) < 0) {
		tree_node_free(n);
		return rc;
	}
	*out = n;
	return 0;
}

/* Link every loaded node under its parent. Nodes unlinked while open
 * are destroyed; those whose parent is missing (damaged) are left for
 * rehome(). */
static int link_all(struct node **v, size_t count, unsigned *reaped)
{
	char hex[2 * STORE_ID_BYTES + 1];

	for (size_t i = 0; i < count; i++) {
		struct node *n = v[i], *p;

		if (n == tree_root())
			continue;
		if (n->m.flags & META_ORPHAN) {
			hexid(n, hex);
			log_info("object %s was unlinked while open; destroying it", hex);
			n->unlinked = 1;
			destroy_object(n);
			(*reaped)++;
			continue;
		}
		p = tree_by_id(&n->m.parent);
		if (p && is_dir(p) && !tree_lookup(p, n->m.name)) {
			int rc = tree_link(p, n);

			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

/* A node whose folder is damaged (or whose parent chain is broken) is not
 * lost: it moves to the root, or to the keep folder when it was kept, so
 * its class and deadline stay as they were. */
static int rehome(struct node **v, size_t count, struct node *keep)
{
	char hex[2 * STORE_ID_BYTES + 1];

	for (size_t i = 0; i < count; i++) {
		struct node *n = v[i];
		struct node *home = n->m.klass == CLASS_KEEP ? keep : tree_root();
		int rc;

		if (n->unlinked || n == tree_root() || tree_is_below(n, tree_root()))
			continue;
		tree_unlink(n);
		hexid(n, hex);
		if (tree_lookup(home, n->m.name) || n->m.name_len == 0) {
			n->m.name_len = (uint16_t)snprintf(n->m.name, sizeof(n->m.name),
			                                   "lost-%s", hex);
		}
		log_warn("object %s: its folder is missing or damaged; moved to %s",
		         hex, home == keep ? ret_keep_name() : "the root");
		rc = tree_link(home, n);
		if (rc < 0)
			return rc;
		n->dirty = 1;
	}
	return 0;
}

static void settle(struct node *n, void *ctx)
{
	int64_t now = *(int64_t *)ctx;

	if (ret_update(n, now) || n->dirty)
		persist(n);
}

static int seal(struct node *n);

int node_load(struct store *st, const struct recfs_config *cfg, int flags,
              unsigned *damaged, unsigned *reaped)
{
	int64_t now = clock_now(), next;
	struct node *root, *keep;
	struct node **v = NULL;
	size_t count = 0;
	int rc;

	node_store = st;
	node_cfg = cfg;
	node_readonly = (flags & NODE_LOAD_READONLY) != 0;
	*reaped = 0;
	ret_configure(cfg->short_ns, cfg->keep_ns, cfg->keep_dir);
	rc = tree_init();
	if (rc < 0)
		return rc;
	rc = store_scan(st, load_one, NULL, damaged);
	if (rc < 0)
		goto out;
	root = tree_root();
	if (!root) {
		rc = new_dir(NULL, "", META_ROOT, now, &root);
		if (rc < 0)
			goto out;
		tree_set_root(root);
	}
	root->nlookup = 1; /* the kernel's root reference never drops */
	rc = tree_gather(&v, &count);
	if (rc == 0)
		rc = link_all(v, count, reaped);
	if (rc < 0)
		goto out;

	keep = tree_lookup(root, cfg->keep_dir);
	if (keep && !is_dir(keep)) {
		log_error("'%s' in the root is not a folder, so it cannot be the keep folder",
		          cfg->keep_dir);
		rc = -ENOTDIR;
		goto out;
	}
	if (!keep) {
		rc = new_dir(root, cfg->keep_dir, 0, now, &keep);
		if (rc < 0)
			goto out;
	}
	ret_set_keep_dir(keep);
	rc = rehome(v, count, keep);
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < count; i++)
		if (v[i]->unlinked)
			tree_node_free(v[i]);
	free(v);
	v = NULL;

	tree_walk(root, settle, &now);
	if (node_readonly)
		goto out;
	*reaped += (unsigned)node_expire_due(now, &next, NULL, NULL);
	rc = tree_gather(&v, &count);
	for (size_t i = 0; rc == 0 && i < count; i++)
		if (ret_wants_seal(v[i]))
			seal(v[i]);
	node_housekeeping(now);
out:
	free(v);
	tree_index_drop();
	return rc;
}

void node_unload(void)
{
	last_mark = 0;
	if (!node_readonly)
		node_housekeeping(clock_now());
	if (retry_q.len > 0)
		log_error("%zu deleted object(s) could not be shredded; they are back at the next "
		          "mount", retry_q.len);
	if (dirty_len > 0)
		log_error("%zu object(s) whose metadata could not be written; their last "
		          "changes are lost at the next mount", dirty_len);
	tree_destroy();
	ret_heap_free();
	free(shred_q.v);
	free(retry_q.v);
	free(dirty);
	shred_q = retry_q = (struct id_queue){ 0 };
	dirty = NULL;
	dirty_len = dirty_cap = 0;
}

/* ---- namespace ---- */

static int check_name(const char *name)
{
	size_t len = strlen(name);

	if (len > STORE_NAME_MAX)
		return -ENAMETOOLONG;
	if (len == 0 || strchr(name, '/'))
		return -EINVAL;
	return 0;
}

int node_lookup(struct node *dir, const char *name, struct node **out)
{
	struct node *n;
	int rc = -ENOENT;

	if (strlen(name) > STORE_NAME_MAX)
		return -ENAMETOOLONG;
	pthread_mutex_lock(&tree_lock);
	n = dir->unlinked ? NULL : tree_lookup(dir, name);
	if (n) {
		n->nlookup++;
		*out = n;
		rc = 0;
	}
	pthread_mutex_unlock(&tree_lock);
	return rc;
}

void node_forget(struct node *n, uint64_t count)
{
	pthread_mutex_lock(&tree_lock);
	n->nlookup = count > n->nlookup ? 0 : n->nlookup - count;
	maybe_free(n);
	pthread_mutex_unlock(&tree_lock);
}

int node_class(struct node *n)
{
	int cls;

	pthread_mutex_lock(&tree_lock);
	cls = ret_class_of(n);
	pthread_mutex_unlock(&tree_lock);
	return cls;
}

/* tree_lock held. */
static void stat_locked(struct node *n, struct stat *stb)
{
	uint64_t ino;

	memset(stb, 0, sizeof(*stb));
	memcpy(&ino, n->id.b, sizeof(ino));
	stb->st_ino = ino;
	stb->st_mode = n->m.mode;
	stb->st_nlink = is_dir(n) ? 2 + n->nsubdirs : (n->unlinked ? 0 : 1);
	stb->st_uid = n->m.uid;
	stb->st_gid = n->m.gid;
	stb->st_rdev = n->m.rdev;
	stb->st_size = (off_t)__atomic_load_n(&n->size, __ATOMIC_RELAXED);
	stb->st_blksize = STORE_PAGE_BYTES; /* stdio buffers: a power of two, as tools expect */
	stb->st_blocks = (blkcnt_t)((stb->st_size + 511) / 512);
	stb->st_atim = clock_to_ts(n->m.atime);
	stb->st_mtim = clock_to_ts(__atomic_load_n(&n->m.mtime, __ATOMIC_RELAXED));
	stb->st_ctim = clock_to_ts(__atomic_load_n(&n->m.ctime, __ATOMIC_RELAXED));
}

void node_stat(struct node *n, struct stat *stb)
{
	pthread_mutex_lock(&tree_lock);
	stat_locked(n, stb);
	pthread_mutex_unlock(&tree_lock);
}

int node_readdir(struct node *dir, uint64_t off, int plus, node_fill_fn fill, void *ctx)
{
	struct stat stb;
	struct node *n;
	int count = 0;

	pthread_mutex_lock(&tree_lock);
	if (off < 1) {
		stat_locked(dir, &stb);
		if (fill(ctx, NULL, ".", &stb, 1))
			goto out;
		count++;
	}
	if (off < 2) {
		struct node *p = dir->parent ? dir->parent : dir;

		stat_locked(p, &stb);
		if (fill(ctx, NULL, "..", &stb, 2))
			goto out;
		count++;
	}
	for (n = tree_next_child(dir, off); n; n = tree_next_child(dir, n->cookie)) {
		stat_locked(n, &stb);
		if (fill(ctx, n, n->m.name, &stb, n->cookie))
			break;
		if (plus)
			n->nlookup++;
		count++;
	}
out:
	pthread_mutex_unlock(&tree_lock);
	return count;
}

static int writable(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY;
}

/* A recording is never a program: regular files carry no setuid/setgid
 * bit, so there is never one to clear on write (fusedev.c relies on it). */
static uint32_t file_mode_bits(uint32_t mode)
{
	return S_ISREG(mode) ? mode & ~(uint32_t)(S_ISUID | S_ISGID) : mode;
}

static void init_meta(struct store_meta *m, struct node *dir, const char *name, mode_t mode,
                      dev_t rdev, const struct node_ctx *c, int64_t now)
{
	memset(m, 0, sizeof(*m));
	m->mode = mode;
	m->rdev = rdev;
	m->uid = node_cfg->owner >= 0 ? (uint32_t)node_cfg->owner : c->uid;
	m->gid = node_cfg->group >= 0 ? (uint32_t)node_cfg->group : c->gid;
	/* BSD group semantics under a setgid folder, as Linux does. */
	if (dir->m.mode & S_ISGID) {
		m->gid = dir->m.gid;
		if (S_ISDIR(mode))
			m->mode |= S_ISGID;
	}
	if (S_ISREG(mode) && node_cfg->file_mode >= 0)
		m->mode = S_IFREG | (uint32_t)node_cfg->file_mode;
	m->mode = file_mode_bits(m->mode);
	if (S_ISDIR(mode) && node_cfg->dir_mode >= 0)
		m->mode = S_IFDIR | (uint32_t)node_cfg->dir_mode | (m->mode & S_ISGID);
	m->atime = m->mtime = m->ctime = m->btime = now;
	m->ended = now;
	m->state = STATE_CLOSED;
	m->name_len = (uint16_t)strlen(name);
	memcpy(m->name, name, m->name_len + 1);
	m->parent = dir->id;
	m->klass = (uint8_t)ret_class_of(dir);
}

/* Whether name may be made in dir now. tree_lock held. */
static int make_check(struct node *dir, const char *name)
{
	if (dir->unlinked)
		return -ENOENT;
	return tree_lookup(dir, name) ? -EEXIST : 0;
}

int node_make(struct node *dir, const char *name, mode_t mode, dev_t rdev,
              const char *target, const struct node_ctx *c, int open_flags,
              struct node **out)
{
	int64_t now = clock_now();
	struct store_meta m;
	struct store_obj *obj = NULL;
	struct node *n;
	size_t tlen = target ? strlen(target) : 0;
	int rc;

	rc = check_name(name);
	if (rc < 0)
		return rc;
	if (tlen >= 4096)
		return -ENAMETOOLONG;
	pthread_mutex_lock(&tree_lock);
	rc = make_check(dir, name);
	if (rc == 0)
		init_meta(&m, dir, name, mode, rdev, c, now);
	pthread_mutex_unlock(&tree_lock);
	if (rc < 0)
		return rc;
	/* Created open for writing: recording from the start, so the first
	 * metadata write already says so. */
	if (open_flags >= 0 && writable(open_flags)) {
		m.state = STATE_RECORDING;
		m.ended = 0;
	}
	/* The object is made without tree_lock (the host filesystem may take
	 * its time), so the check is made again before the name goes in. */
	rc = store_obj_create(node_store, &m, &obj);
	if (rc < 0)
		return rc;
	if (target) {
		/* A symlink's target is its content: encrypted like any. */
		ssize_t w = store_obj_pwrite(obj, target, tlen, 0);

		rc = w < 0 ? (int)w : store_obj_flush(obj);
		if (rc < 0)
			goto out_destroy;
	}
	pthread_mutex_lock(&tree_lock);
	rc = make_check(dir, name);
	n = rc == 0 ? tree_node_new(store_obj_id(obj), &m) : NULL;
	if (rc == 0 && !n)
		rc = -ENOMEM;
	if (n && (rc = tree_link(dir, n)) < 0)
		tree_node_free(n);
	if (rc < 0) {
		pthread_mutex_unlock(&tree_lock);
		goto out_destroy;
	}
	n->size = tlen;
	n->nlookup = 1;
	if (open_flags >= 0) {
		/* The new object stays open as the handle's. */
		n->obj = obj;
		obj = NULL;
		n->nopen = 1;
		n->nwriters = writable(open_flags);
	}
	dir->m.mtime = dir->m.ctime = now;
	ret_update(dir, now);
	mark_dirty(dir);
	/* dir may have moved meanwhile: then n's class differs from slot A's. */
	if (ret_update(n, now))
		persist(n);
	*out = n;
	pthread_mutex_unlock(&tree_lock);
	store_obj_close(obj);
	return 0;
out_destroy:
	{
		struct store_id id = *store_obj_id(obj);

		store_obj_close(obj);
		if (store_shred(node_store, &id) == 0)
			store_reap_shredded(node_store, &id, 1);
	}
	return rc;
}

int node_remove(struct node *dir, const char *name, int isdir)
{
	struct node *n;
	int rc;

	pthread_mutex_lock(&tree_lock);
	n = tree_lookup(dir, name);
	rc = -ENOENT;
	if (!n)
		goto out;
	rc = -EPERM;
	if (ret_is_fixed(n))
		goto out;
	rc = isdir ? -ENOTDIR : -EISDIR;
	if (isdir != is_dir(n))
		goto out;
	rc = -ENOTEMPTY;
	if (isdir && n->nkids > 0)
		goto out;
	drop_from_tree(n, clock_now());
	rc = 0;
out:
	pthread_mutex_unlock(&tree_lock);
	return rc;
}

static int seal(struct node *n);
static int truncate_to(struct node *n, uint64_t size);

/* After a move: classes and deadlines of n's subtree follow its new
 * place; collect kept files that want a seal. The moved node itself is
 * persisted by the caller. tree_lock held. */
struct reclass_ctx {
	int64_t now;
	struct node *moved;
	struct node_seals *seals;
};

static void reclass(struct node *n, void *vctx)
{
	struct reclass_ctx *ctx = vctx;
	struct node_seals *s = ctx->seals;

	if (ret_update(n, ctx->now) && n != ctx->moved)
		persist(n);
	if (ret_wants_seal(n)) {
		if (s->n == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 16;
			struct node **v = realloc(s->v, cap * sizeof(*v));

			if (!v)
				return; /* sealed at its next close or mount */
			s->v = v;
			s->cap = cap;
		}
		/* Pinned as the kernel pins it, not as a handle: a removal
		 * meanwhile destroys the object at once, and seal() sees it. */
		n->nlookup++;
		s->v[s->n++] = n;
	}
}

void node_seal_moved(struct node_seals *seals)
{
	for (size_t i = 0; i < seals->n; i++) {
		struct node *n = seals->v[i];

		seal(n);
		node_forget(n, 1);
	}
	free(seals->v);
	*seals = (struct node_seals){ 0 };
}

static int rename_check(struct node *n, struct node *t, struct node *newdir, unsigned flags)
{
	if (ret_is_fixed(n) || (t && ret_is_fixed(t)))
		return -EPERM;
	if (is_dir(n) && tree_is_below(newdir, n))
		return -EINVAL;
	if (flags & RENAME_EXCHANGE) {
		if (!t)
			return -ENOENT;
		if (is_dir(t) && tree_is_below(n->parent, t))
			return -EINVAL;
		return 0;
	}
	if (!t)
		return 0;
	if (flags & RENAME_NOREPLACE)
		return -EEXIST;
	if (is_dir(n) && !is_dir(t))
		return -ENOTDIR;
	if (!is_dir(n) && is_dir(t))
		return -EISDIR;
	if (is_dir(t) && t->nkids > 0)
		return -ENOTEMPTY;
	return 0;
}

/* Move n to newdir/newname. tree_lock held; n is in the tree. */
static int move(struct node *n, struct node *newdir, const char *newname, int64_t now)
{
	struct node *old = n->parent;
	char saved[STORE_NAME_MAX + 1];
	uint16_t saved_len = n->m.name_len;
	int rc;

	memcpy(saved, n->m.name, sizeof(saved));
	tree_unlink(n);
	n->m.name_len = (uint16_t)strlen(newname);
	memcpy(n->m.name, newname, n->m.name_len + 1);
	rc = tree_link(newdir, n);
	if (rc < 0) {
		memcpy(n->m.name, saved, sizeof(saved));
		n->m.name_len = saved_len;
		tree_link(old, n); /* cannot fail: it was there */
		return rc;
	}
	n->m.ctime = now;
	old->m.mtime = old->m.ctime = now;
	newdir->m.mtime = newdir->m.ctime = now;
	if (old->nkids == 0)
		old->m.ended = now;
	ret_update(old, now);
	ret_update(newdir, now);
	mark_dirty(old);
	mark_dirty(newdir);
	return 0;
}

int node_rename(struct node *dir, const char *name, struct node *newdir,
                const char *newname, unsigned flags, struct node_seals *seals,
                struct node_renamed *done)
{
	struct reclass_ctx ctx = { .now = clock_now(), .seals = seals };
	struct node *n, *t;
	int rc;

	*done = (struct node_renamed){ 0 };

	rc = check_name(newname);
	if (rc < 0)
		return rc;
	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	pthread_mutex_lock(&tree_lock);
	n = tree_lookup(dir, name);
	t = tree_lookup(newdir, newname);
	rc = -ENOENT;
	if (!n || newdir->unlinked)
		goto out;
	rc = 0;
	if (n == t)
		goto out;
	rc = rename_check(n, t, newdir, flags);
	if (rc < 0)
		goto out;
	/* Pinned before anything moves: a replaced t is freed otherwise. */
	n->nlookup++;
	done->n = n;
	done->n_class = ret_class_of(n);
	if (t) {
		t->nlookup++;
		done->t = t;
		done->t_class = ret_class_of(t);
	}
	if (flags & RENAME_EXCHANGE) {
		/* Park t, move n into its place, then t into n's. */
		tree_unlink(t);
		rc = move(n, newdir, newname, ctx.now);
		if (rc == 0) {
			rc = tree_link(dir, t);
			if (rc == 0)
				rc = move(t, dir, name, ctx.now);
		}
		if (rc < 0)
			goto out;
		ctx.moved = t;
		tree_walk(t, reclass, &ctx);
		persist(t);
	} else {
		if (t)
			drop_from_tree(t, ctx.now);
		rc = move(n, newdir, newname, ctx.now);
		if (rc < 0)
			goto out;
	}
	ctx.moved = n;
	tree_walk(n, reclass, &ctx);
	persist(n);
out:
	pthread_mutex_unlock(&tree_lock);
	return rc;
}

/* ---- handles and content ---- */

/* Take a handle on n: its store object is open while any handle is. */
static int handle_get(struct node *n)
{
	struct store_obj *obj = NULL;
	int rc = 0;

	pthread_rwlock_wrlock(&n->io);
	if (!n->obj)
		rc = store_obj_open(node_store, &n->id, &obj);
	pthread_mutex_lock(&tree_lock);
	if (rc == 0 && n->unlinked && n->nopen == 0)
		rc = -ENOENT; /* expired or removed: no new handles */
	if (rc == 0) {
		if (obj)
			n->obj = obj;
		n->nopen++;
		obj = NULL;
	}
	pthread_mutex_unlock(&tree_lock);
	pthread_rwlock_unlock(&n->io);
	store_obj_close(obj);
	return rc;
}

/* Drop a handle; at the last one the object closes, and is destroyed when
 * n is no longer in the tree. wrote: this handle could write. */
static void handle_put(struct node *n, int wrote, int64_t closed_at)
{
	char hex[2 * STORE_ID_BYTES + 1];
	struct store_obj *obj = NULL;
	int64_t now = clock_now();
	int gone, want_seal, rc;

	pthread_rwlock_wrlock(&n->io);
	/* Release cannot report an error to anyone (close has returned):
	 * the log at least must say that bytes were not stored. */
	if (n->obj && (rc = store_obj_flush(n->obj)) < 0) {
		hexid(n, hex);
		log_error("object %s: writing its last block at close failed: %s", hex,
		          strerror(-rc));
	}
	pthread_mutex_lock(&tree_lock);
	if (wrote && --n->nwriters == 0) {
		n->m.state = STATE_CLOSED;
		n->m.ended = closed_at > 0 && closed_at <= now ? closed_at : now;
		ret_update(n, now);
		if (!n->unlinked)
			persist(n);
	}
	if (--n->nopen == 0) {
		obj = n->obj;
		n->obj = NULL;
		if (n->unlinked)
			destroy_object(n);
	}
	gone = n->unlinked && n->nopen == 0 && n->nlookup == 0;
	if (gone) {
		ret_heap_remove(n);
		dirty_drop(n);
	}
	want_seal = !gone && ret_wants_seal(n);
	if (want_seal)
		n->nlookup++; /* pinned for the seal, as after a rename */
	pthread_mutex_unlock(&tree_lock);
	store_obj_close(obj);
	pthread_rwlock_unlock(&n->io);
	if (gone) {
		pthread_mutex_lock(&tree_lock);
		tree_node_free(n);
		pthread_mutex_unlock(&tree_lock);
		return;
	}
	/* Tried once: a seal that fails (a damaged block) is logged and
	 * tried again at the next close or mount. */
	if (want_seal) {
		seal(n);
		node_forget(n, 1);
	}
}

int node_open(struct node *n, int flags)
{
	int rc, w = writable(flags);

	if (w) {
		pthread_mutex_lock(&tree_lock);
		rc = n->m.state == STATE_SEALED ? -EPERM : 0;
		pthread_mutex_unlock(&tree_lock);
		if (rc < 0)
			return rc;
	}
	rc = handle_get(n);
	if (rc < 0 || !w)
		return rc;
	pthread_mutex_lock(&tree_lock);
	if (n->m.state == STATE_SEALED) {
		rc = -EPERM; /* sealed between the check and the handle */
	} else if (n->nwriters++ == 0) {
		n->m.state = STATE_RECORDING;
		n->m.ended = 0;
		ret_update(n, clock_now());
		/* Persisted so that after a crash it counts from its last write. */
		persist(n);
	}
	pthread_mutex_unlock(&tree_lock);
	/* libfuse asks for atomic O_TRUNC: the kernel leaves it to open. */
	if (rc == 0 && (flags & O_TRUNC)) {
		rc = truncate_to(n, 0);
		if (rc == 0) {
			pthread_mutex_lock(&tree_lock);
			n->m.mtime = n->m.ctime = clock_now();
			pthread_mutex_unlock(&tree_lock);
		}
		if (rc < 0)
			handle_put(n, 1, 0);
		return rc;
	}
	if (rc < 0)
		handle_put(n, 0, 0);
	return rc;
}

int node_release(struct node *n, int flags, int64_t closed_at)
{
	handle_put(n, writable(flags), closed_at);
	return 0;
}

ssize_t node_read(struct node *n, void *buf, size_t len, off_t off)
{
	ssize_t rc;

	if (off < 0)
		return -EINVAL;
	pthread_rwlock_rdlock(&n->io);
	if (!n->obj) {
		rc = -EBADF;
	} else {
		uint64_t size = store_obj_size(n->obj);
		size_t want = (uint64_t)off >= size ? 0 : (size - (uint64_t)off < len ?
		              (size_t)(size - (uint64_t)off) : len);

		rc = store_obj_pread(n->obj, buf, len, (uint64_t)off);
		/* The kernel takes a short read for the end of the file and
		 * would show zeros: a damaged block must be an error. */
		if (rc >= 0 && (size_t)rc < want)
			rc = -EIO;
	}
	pthread_rwlock_unlock(&n->io);
	return rc;
}

ssize_t node_write(struct node *n, const void *buf, size_t len, off_t off)
{
	ssize_t rc;

	if (off < 0)
		return -EINVAL;
	pthread_rwlock_wrlock(&n->io);
	if (!n->obj) {
		rc = -EBADF;
	} else {
		rc = store_obj_pwrite(n->obj, buf, len, (uint64_t)off);
		if (rc > 0) {
			int64_t now = clock_now();

			/* Readers of size/mtime (stat) do not take n->io. */
			__atomic_store_n(&n->size, store_obj_size(n->obj), __ATOMIC_RELAXED);
			__atomic_store_n(&n->m.mtime, now, __ATOMIC_RELAXED);
			__atomic_store_n(&n->m.ctime, now, __ATOMIC_RELAXED);
		}
	}
	pthread_rwlock_unlock(&n->io);
	return rc;
}

int node_flush(struct node *n)
{
	int rc = 0;

	pthread_rwlock_wrlock(&n->io);
	if (n->obj)
		rc = store_obj_flush(n->obj);
	pthread_rwlock_unlock(&n->io);
	return rc;
}

int node_fsync(struct node *n, int datasync)
{
	int rc = 0;

	pthread_rwlock_wrlock(&n->io);
	if (n->obj)
		rc = store_obj_sync(n->obj, datasync);
	pthread_rwlock_unlock(&n->io);
	if (rc == 0 && !datasync) {
		pthread_mutex_lock(&tree_lock);
		if (!n->unlinked)
			rc = persist(n);
		pthread_mutex_unlock(&tree_lock);
	}
	return rc;
}

/* Hash the content of a kept file and mark it sealed. The caller pins n
 * (a handle or a lookup reference) so n stays. */
static int seal(struct node *n)
{
	struct crypto_sha256 sha;
	struct store_obj *obj, *tmp = NULL;
	uint8_t digest[CRYPTO_HASH_BYTES];
	uint64_t off = 0, size;
	char hex[2 * STORE_ID_BYTES + 1];
	uint8_t *buf;
	int rc = 0;

	buf = malloc(1 << 16);
	if (!buf)
		return -ENOMEM;
	pthread_rwlock_wrlock(&n->io);
	pthread_mutex_lock(&tree_lock);
	rc = n->unlinked ? -ESTALE : 0; /* removed meanwhile: its object is gone */
	pthread_mutex_unlock(&tree_lock);
	obj = n->obj;
	if (rc == 0 && !obj) {
		rc = store_obj_open(node_store, &n->id, &tmp);
		obj = tmp;
	}
	crypto_sha256_init(&sha);
	size = rc == 0 ? store_obj_size(obj) : 0;
	while (rc == 0 && off < size) {
		ssize_t got = store_obj_pread(obj, buf, 1 << 16, off);

		if (got <= 0) {
			rc = got < 0 ? (int)got : -EIO;
			break;
		}
		crypto_sha256_update(&sha, buf, (size_t)got);
		off += (uint64_t)got;
	}
	crypto_sha256_final(&sha, digest);
	pthread_mutex_lock(&tree_lock);
	/* A writer that opened meanwhile could not write (n->io is ours),
	 * but the file is not sealed while it is open for writing. */
	if (rc == 0 && ret_wants_seal(n)) {
		static struct audit_rec r; /* tree_lock serializes its use */

		n->m.state = STATE_SEALED;
		n->m.sealed_size = size;
		memcpy(n->m.sha256, digest, sizeof(digest));
		persist_via(n, obj);
		memset(&r, 0, sizeof(r));
		r.event = AUDIT_SEAL;
		r.id = n->id;
		path_locked(n, r.path, sizeof(r.path));
		r.size = size;
		r.duration_ms = -1;
		memcpy(r.sha256, digest, sizeof(digest));
		audit_log(&r);
	}
	pthread_mutex_unlock(&tree_lock);
	store_obj_close(tmp);
	pthread_rwlock_unlock(&n->io);
	if (rc < 0 && rc != -ESTALE) {
		hexid(n, hex);
		log_error("object %s: cannot seal: %s", hex, strerror(-rc));
	}
	crypto_wipe(buf, 1 << 16);
	free(buf);
	return rc;
}

int node_readlink(struct node *n, char *buf, size_t len)
{
	struct store_obj *obj;
	ssize_t got;
	int rc;

	if (!S_ISLNK(n->m.mode))
		return -EINVAL;
	rc = store_obj_open(node_store, &n->id, &obj);
	if (rc < 0)
		return rc;
	got = store_obj_pread(obj, buf, len - 1, 0);
	store_obj_close(obj);
	if (got < 0)
		return (int)got;
	buf[got] = '\0';
	return 0;
}

static int truncate_to(struct node *n, uint64_t size)
{
	struct store_obj *obj, *tmp = NULL;
	int rc = 0;

	pthread_rwlock_wrlock(&n->io);
	obj = n->obj;
	if (!obj) {
		rc = store_obj_open(node_store, &n->id, &tmp);
		obj = tmp;
	}
	if (obj) {
		rc = store_obj_truncate(obj, size);
		/* A failed cut may have gone part of its way. */
		__atomic_store_n(&n->size, store_obj_size(obj), __ATOMIC_RELAXED);
	}
	if (tmp) {
		int crc = store_obj_close(tmp);

		if (rc == 0)
			rc = crc;
	}
	pthread_rwlock_unlock(&n->io);
	return rc;
}

int node_setattr(struct node *n, int set, const struct stat *a)
{
	int64_t now = clock_now();
	int rc = 0;

	if (set & NODE_SET_SIZE) {
		if (!S_ISREG(n->m.mode))
			return S_ISDIR(n->m.mode) ? -EISDIR : -EINVAL;
		if (a->st_size < 0)
			return -EINVAL;
		pthread_mutex_lock(&tree_lock);
		rc = n->m.state == STATE_SEALED ? -EPERM : 0;
		pthread_mutex_unlock(&tree_lock);
		if (rc == 0)
			rc = truncate_to(n, (uint64_t)a->st_size);
		if (rc < 0)
			return rc;
	}
	pthread_mutex_lock(&tree_lock);
	if (set & NODE_SET_MODE)
		n->m.mode = file_mode_bits((n->m.mode & S_IFMT) | (a->st_mode & 07777));
	if (set & NODE_SET_UID)
		n->m.uid = a->st_uid;
	if (set & NODE_SET_GID)
		n->m.gid = a->st_gid;
	if (set & NODE_SET_ATIME_NOW)
		n->m.atime = now;
	else if (set & NODE_SET_ATIME)
		n->m.atime = clock_from_ts(&a->st_atim);
	if (set & NODE_SET_MTIME_NOW)
		n->m.mtime = now;
	else if (set & NODE_SET_MTIME)
		n->m.mtime = clock_from_ts(&a->st_mtim);
	else if (set & NODE_SET_SIZE)
		n->m.mtime = now;
	n->m.ctime = (set & NODE_SET_CTIME) ? clock_from_ts(&a->st_ctim) : now;
	if (!n->unlinked)
		rc = persist(n);
	pthread_mutex_unlock(&tree_lock);
	return rc;
}

/* ---- xattrs ----
 * Stored in the metadata slot as records: name length (1 byte), value
 * length (2 bytes, little-endian), name, value. user.recfs.* are computed
 * here and cannot be set. */

#define NVIRT 6
#define VIRT_AUDIO 4 /* the first of the two read with libsndfile */
#define VIRT_BYTES 80

static const char *const virt_names[NVIRT] = {
	"user.recfs.retention", "user.recfs.expires", "user.recfs.state", "user.recfs.sha256",
	"user.recfs.duration", "user.recfs.format",
};

static int is_virtual(const char *name)
{
	return strncmp(name, RECFS_XATTR, sizeof(RECFS_XATTR) - 1) == 0;
}

/* The value of virtual attribute i for n into buf, or -ENODATA. tree_lock held. */
static int virt_value(const struct node *n, int i, char *buf, size_t len)
{
	static const char *const states[] = { "closed", "recording", "sealed" };

	switch (i) {
	case 0:
		return snprintf(buf, len, "%s", n->m.klass == CLASS_KEEP ? "keep" : "short");
	case 1:
		if (!n->m.deadline)
			return -ENODATA;
		clock_iso8601(n->m.deadline, buf, len);
		return (int)strlen(buf);
	case 2:
		if (!S_ISREG(n->m.mode) || n->m.state > STATE_SEALED)
			return -ENODATA;
		return snprintf(buf, len, "%s", states[n->m.state]);
	case 3:
		if (n->m.state != STATE_SEALED)
			return -ENODATA;
		for (int k = 0; k < CRYPTO_HASH_BYTES; k++)
			snprintf(buf + 2 * k, len - 2 * k, "%02x", n->m.sha256[k]);
		return 2 * CRYPTO_HASH_BYTES;
	}
	return -ENODATA;
}

/* Find name in the stored records: offset of its record, or -1. */
static long xa_find(const struct node *n, const char *name, size_t *vlen)
{
	size_t nlen = strlen(name), off = 0;

	while (off + 3 <= n->m.xattr_len) {
		const uint8_t *r = n->m.xattr + off;
		size_t rn = r[0], rv = (size_t)r[1] | (size_t)r[2] << 8;

		if (rn == nlen && memcmp(r + 3, name, nlen) == 0) {
			*vlen = rv;
			return (long)off;
		}
		off += 3 + rn + rv;
	}
	return -1;
}

static size_t reply_value(const void *val, size_t vlen, void *buf, size_t size)
{
	if (size && vlen <= size)
		memcpy(buf, val, vlen);
	return vlen;
}

static ssize_t audio_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	return store_obj_pread(ctx, buf, len, off);
}

/* Duration and format of n's content when libsndfile reads it as audio. */
int node_audio(struct node *n, struct audio_info *ai)
{
	struct store_obj *obj, *tmp = NULL;
	int rc = 0;

	pthread_rwlock_wrlock(&n->io);
	obj = n->obj;
	if (!obj) {
		rc = store_obj_open(node_store, &n->id, &tmp);
		obj = tmp;
	}
	if (rc == 0)
		rc = audio_probe(audio_read, obj, store_obj_size(obj), ai);
	store_obj_close(tmp);
	pthread_rwlock_unlock(&n->io);
	return rc;
}

/* The virtual attributes' values (len[i] < 0: absent). The audio ones are
 * read only when audio is set, and only for a closed file. */
static void virt_values(struct node *n, int audio, char val[NVIRT][VIRT_BYTES], int len[NVIRT])
{
	struct audio_info ai;

	pthread_mutex_lock(&tree_lock);
	for (int i = 0; i < VIRT_AUDIO; i++)
		len[i] = virt_value(n, i, val[i], VIRT_BYTES);
	audio = audio && S_ISREG(n->m.mode) && n->m.state != STATE_RECORDING && !n->unlinked;
	pthread_mutex_unlock(&tree_lock);
	len[VIRT_AUDIO] = len[VIRT_AUDIO + 1] = -ENODATA;
	if (audio && node_audio(n, &ai) == 0) {
		len[VIRT_AUDIO] = snprintf(val[VIRT_AUDIO], VIRT_BYTES, "%.2f", ai.seconds);
		len[VIRT_AUDIO + 1] = snprintf(val[VIRT_AUDIO + 1], VIRT_BYTES, "%s", ai.format);
	}
}

ssize_t node_getxattr(struct node *n, const char *name, void *buf, size_t size)
{
	char val[NVIRT][VIRT_BYTES];
	int len[NVIRT];
	size_t vlen;
	ssize_t rc = -ENODATA;
	long off;

	if (is_virtual(name)) {
		for (int i = 0; i < NVIRT; i++) {
			if (strcmp(name, virt_names[i]) != 0)
				continue;
			virt_values(n, i >= VIRT_AUDIO, val, len);
			rc = len[i] < 0 ? len[i] : (ssize_t)reply_value(val[i], (size_t)len[i], buf, size);
		}
	} else {
		pthread_mutex_lock(&tree_lock);
		if ((off = xa_find(n, name, &vlen)) >= 0)
			rc = (ssize_t)reply_value(n->m.xattr + off + 3 + strlen(name), vlen, buf, size);
		pthread_mutex_unlock(&tree_lock);
	}
	if (rc > 0 && size && (size_t)rc > size)
		rc = -ERANGE;
	return rc;
}

ssize_t node_listxattr(struct node *n, char *buf, size_t size)
{
	char val[NVIRT][VIRT_BYTES], *list;
	size_t len = 0, off = 0, cap = STORE_XATTR_BYTES + 256;
	int vlen[NVIRT];
	ssize_t rc;

	list = malloc(cap);
	if (!list)
		return -ENOMEM;
	virt_values(n, 1, val, vlen);
	for (int i = 0; i < NVIRT; i++) {
		if (vlen[i] >= 0) {
			memcpy(list + len, virt_names[i], strlen(virt_names[i]) + 1);
			len += strlen(virt_names[i]) + 1;
		}
	}
	pthread_mutex_lock(&tree_lock);
	while (off + 3 <= n->m.xattr_len) {
		const uint8_t *r = n->m.xattr + off;
		size_t rn = r[0], rv = (size_t)r[1] | (size_t)r[2] << 8;

		memcpy(list + len, r + 3, rn);
		len += rn;
		list[len++] = '\0';
		off += 3 + rn + rv;
	}
	pthread_mutex_unlock(&tree_lock);
	rc = (ssize_t)len;
	if (size && len > size)
		rc = -ERANGE;
	else if (size)
		memcpy(buf, list, len);
	free(list);
	return rc;
}

/* Replace n's record list with one where name is removed and, when val is
 * not NULL, appended with val. tree_lock held. */
static int xa_store(struct node *n, const char *name, const void *val, size_t vlen)
{
	size_t nlen = strlen(name), old_vlen = 0, len = n->m.xattr_len, newlen;
	long off = xa_find(n, name, &old_vlen);
	uint8_t *x, *old = n->m.xattr;
	uint16_t old_len = n->m.xattr_len;
	int rc;

	if (off >= 0)
		len -= 3 + nlen + old_vlen;
	newlen = len + (val ? 3 + nlen + vlen : 0);
	if (newlen > STORE_XATTR_BYTES)
		return -ENOSPC;
	x = malloc(newlen ? newlen : 1);
	if (!x)
		return -ENOMEM;
	if (off >= 0) {
		memcpy(x, old, (size_t)off);
		memcpy(x + off, old + off + 3 + nlen + old_vlen, len - (size_t)off);
	} else if (len) {
		memcpy(x, old, len);
	}
	if (val) {
		x[len] = (uint8_t)nlen;
		x[len + 1] = (uint8_t)vlen;
		x[len + 2] = (uint8_t)(vlen >> 8);
		memcpy(x + len + 3, name, nlen);
		memcpy(x + len + 3 + nlen, val, vlen);
	}
	n->m.xattr = x;
	n->m.xattr_len = (uint16_t)newlen;
	n->m.ctime = clock_now();
	/* A removed node's object is destroyed or will be: nothing to write. */
	rc = n->unlinked ? 0 : persist(n);
	if (rc < 0) {
		n->m.xattr = old;
		n->m.xattr_len = old_len;
		free(x);
		return rc;
	}
	free(old);
	return 0;
}

int node_setxattr(struct node *n, const char *name, const void *val, size_t size, int flags)
{
	size_t vlen;
	int rc;

	if (is_virtual(name))
		return -EPERM;
	if (strncmp(name, XATTR_PREFIX, sizeof(XATTR_PREFIX) - 1) != 0)
		return -EOPNOTSUPP;
	if (strlen(name) > 255)
		return -ERANGE;
	if (size > 65535)
		return -E2BIG;
	pthread_mutex_lock(&tree_lock);
	if (xa_find(n, name, &vlen) >= 0)
		rc = (flags & XATTR_CREATE) ? -EEXIST : 0;
	else
		rc = (flags & XATTR_REPLACE) ? -ENODATA : 0;
	if (rc == 0)
		rc = xa_store(n, name, val, size);
	pthread_mutex_unlock(&tree_lock);
	return rc;
}

int node_removexattr(struct node *n, const char *name)
{
	size_t vlen;
	int rc = -ENODATA;

	if (is_virtual(name))
		return -EPERM;
	pthread_mutex_lock(&tree_lock);
	if (xa_find(n, name, &vlen) >= 0)
		rc = xa_store(n, name, NULL, 0);
	pthread_mutex_unlock(&tree_lock);
	return rc;
}

int node_statfs(struct statvfs *sv)
{
	return store_statfs(node_store, sv);
}

/* ---- expiry and housekeeping ---- */

#define EXPIRE_BATCH 256

/* The deletion receipt: when n was due and when it was destroyed.
 * tree_lock held. */
static void audit_expire(const struct node *n, int64_t now)
{
	static struct audit_rec r; /* tree_lock serializes its use */
	int64_t destroyed = clock_now();

	memset(&r, 0, sizeof(r));
	r.event = AUDIT_EXPIRE;
	r.time = destroyed;
	r.id = n->id;
	path_locked(n, r.path, sizeof(r.path));
	r.klass = n->m.klass;
	r.deadline = n->m.deadline;
	r.size = __atomic_load_n(&n->size, __ATOMIC_RELAXED);
	r.lateness_ms = (destroyed - n->m.deadline) / 1000000;
	r.duration_ms = -1;
	(void)now;
	audit_log(&r);
}

struct gone_rec {
	const struct node *parent, *n;
	char name[STORE_NAME_MAX + 1];
};

int node_expire_due(int64_t now, int64_t *next, node_gone_fn gone, void *ctx)
{
	struct gone_rec *recs;
	int total = 0;
	size_t k;

	recs = malloc(EXPIRE_BATCH * sizeof(*recs));
	if (!recs)
		return -ENOMEM;
	/* In batches, so the lock is given up between them and recorders'
	 * namespace operations never wait for a whole mass expiry. */
	for (;;) {
		struct node *n;

		pthread_mutex_lock(&tree_lock);
		for (k = 0; k < EXPIRE_BATCH; k++) {
			n = ret_heap_top();
			if (!n || n->m.deadline > now)
				break;
			recs[k].parent = n->parent;
			recs[k].n = n;
			memcpy(recs[k].name, n->m.name, n->m.name_len + 1);
			if (!n->parent) {
				ret_heap_remove(n);
				continue;
			}
			audit_expire(n, now);
			drop_from_tree(n, now);
		}
		n = ret_heap_top();
		*next = n ? n->m.deadline : 0;
		pthread_mutex_unlock(&tree_lock);
		total += (int)k;
		for (size_t i = 0; gone && i < k; i++)
			if (recs[i].parent)
				gone(ctx, recs[i].parent, recs[i].n, recs[i].name);
		if (k < EXPIRE_BATCH)
			break;
	}
	free(recs);
	return total;
}

size_t node_tidy(int64_t now, struct store_id **shredded)
{
	struct store_id *retry;
	struct node **pending;
	size_t qlen, nretry, npending;

	pthread_mutex_lock(&tree_lock);
	/* The queue is taken whole: a write that fails queues its node
	 * again, for the next pass. */
	pending = dirty;
	npending = dirty_len;
	dirty = NULL;
	dirty_len = dirty_cap = 0;
	for (size_t i = 0; i < npending; i++) {
		pending[i]->dirty = 0;
		persist(pending[i]);
	}
	free(pending);
	nretry = id_take(&retry_q, &retry);
	for (size_t i = 0; i < nretry; i++)
		shred_id(&retry[i], 0);
	free(retry);
	qlen = id_take(&shred_q, shredded);
	pthread_mutex_unlock(&tree_lock);
	if (now - last_mark >= 5 * NSEC_PER_SEC) {
		store_mark_write(node_store, now);
		last_mark = now;
	}
	return qlen;
}

void node_dispose(struct store_id *shredded, size_t n)
{
	int rc = n > 0 ? store_reap_shredded(node_store, shredded, n) : 0;

	if (rc < 0)
		log_error("unlinking destroyed objects: %s", strerror(-rc));
	free(shredded);
}

void node_housekeeping(int64_t now)
{
	struct store_id *q;
	size_t n = node_tidy(now, &q);

	node_dispose(q, n);
}


/* tree_lock held. */
static int path_locked(const struct node *n, char *buf, size_t len)
{
	const struct node *v[MAX_DEPTH];
	size_t depth = 0, at = 0;

	for (; n && n != tree_root() && depth < MAX_DEPTH; n = n->parent)
		v[depth++] = n;
	if (n != tree_root()) {
		snprintf(buf, len, "(unlinked)");
		return -ENOENT;
	}
	if (depth == 0)
		return snprintf(buf, len, "/") < (int)len ? 0 : -ENAMETOOLONG;
	while (depth > 0) {
		const struct node *c = v[--depth];

		if (at + 1 + c->m.name_len + 1 > len)
			return -ENAMETOOLONG;
		buf[at++] = '/';
		memcpy(buf + at, c->m.name, c->m.name_len);
		at += c->m.name_len;
	}
	buf[at] = '\0';
	return 0;
}

int node_path(const struct node *n, char *buf, size_t len)
{
	int rc;

	pthread_mutex_lock(&tree_lock);
	rc = path_locked(n, buf, len);
	pthread_mutex_unlock(&tree_lock);
	return rc;
}
