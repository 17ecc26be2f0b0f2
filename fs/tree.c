/*
 * tree: one hash table over (parent, name) for lookups, and per folder an
 * array of children in cookie order. A child's cookie is its readdir
 * offset: cookies only grow, so an offset handed to the kernel stays
 * meaningful while entries come and go.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tree.h"

#define FIRST_COOKIE 3 /* 1 and 2 are "." and ".." */

pthread_mutex_t tree_lock = PTHREAD_MUTEX_INITIALIZER;

static struct node **htab;
static size_t hsize, hcount;
static struct node **itab; /* id index, mount time only */
static size_t isize;
static struct node *root;
static struct node all_head = { .all_prev = &all_head, .all_next = &all_head };

static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	/* FNV-1a: names are short and the table is private. */
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

static size_t name_hash(const struct node *dir, const char *name)
{
	uintptr_t d = (uintptr_t)dir;
	uint64_t h = hash_bytes(0xcbf29ce484222325ULL, &d, sizeof(d));

	return (size_t)hash_bytes(h, name, strlen(name));
}

int tree_init(void)
{
	hsize = 1024;
	htab = calloc(hsize, sizeof(*htab));
	return htab ? 0 : -ENOMEM;
}

void tree_destroy(void)
{
	while (all_head.all_next != &all_head)
		tree_node_free(all_head.all_next);
	free(htab);
	htab = NULL;
	root = NULL;
	tree_index_drop();
}

/* Writer-preferring: a recorder's frames never wait behind a stream of
 * reads of the same file. */
static pthread_rwlockattr_t io_attr;
static pthread_once_t io_attr_once = PTHREAD_ONCE_INIT;

static void io_attr_init(void)
{
	pthread_rwlockattr_init(&io_attr);
	pthread_rwlockattr_setkind_np(&io_attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
}

struct node *tree_node_new(const struct store_id *id, const struct store_meta *m)
{
	struct node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->m = *m;
	n->m.xattr = NULL;
	if (m->xattr_len) {
		n->m.xattr = malloc(m->xattr_len);
		if (!n->m.xattr) {
			free(n);
			return NULL;
		}
		memcpy(n->m.xattr, m->xattr, m->xattr_len);
	}
	n->id = *id;
	n->heap_idx = (size_t)-1;
	n->next_cookie = FIRST_COOKIE;
	pthread_once(&io_attr_once, io_attr_init);
	pthread_rwlock_init(&n->io, &io_attr);
	n->all_next = &all_head;
	n->all_prev = all_head.all_prev;
	all_head.all_prev->all_next = n;
	all_head.all_prev = n;
	return n;
}

void tree_node_free(struct node *n)
{
	n->all_prev->all_next = n->all_next;
	n->all_next->all_prev = n->all_prev;
	if (n->obj)
		store_obj_close(n->obj);
	pthread_rwlock_destroy(&n->io);
	free(n->m.xattr);
	free(n->kids);
	free(n);
}

struct node *tree_root(void)
{
	return root;
}

void tree_set_root(struct node *r)
{
	root = r;
}

struct node *tree_lookup(struct node *dir, const char *name)
{
	struct node *n;

	for (n = htab[name_hash(dir, name) & (hsize - 1)]; n; n = n->hnext)
		if (n->parent == dir && strcmp(n->m.name, name) == 0)
			return n;
	return NULL;
}

static int hash_grow(void)
{
	size_t nsize = hsize * 2;
	struct node **nt = calloc(nsize, sizeof(*nt));

	if (!nt)
		return -ENOMEM;
	for (size_t i = 0; i < hsize; i++) {
		struct node *n = htab[i], *next;

		for (; n; n = next) {
			size_t b = name_hash(n->parent, n->m.name) & (nsize - 1);

			next = n->hnext;
			n->hnext = nt[b];
			nt[b] = n;
		}
	}
	free(htab);
	htab = nt;
	hsize = nsize;
	return 0;
}

int tree_link(struct node *dir, struct node *n)
{
	size_t b;

	if (hcount >= hsize && hash_grow() < 0)
		return -ENOMEM;
	if (dir->nkids == dir->kids_cap) {
		uint32_t cap = dir->kids_cap ? dir->kids_cap * 2 : 4;
		struct node **k = realloc(dir->kids, cap * sizeof(*k));

		if (!k)
			return -ENOMEM;
		dir->kids = k;
		dir->kids_cap = cap;
	}
	n->parent = dir;
	n->m.parent = dir->id;
	n->cookie = dir->next_cookie++;
	dir->kids[dir->nkids++] = n;
	if ((n->m.mode & 0170000) == 0040000)
		dir->nsubdirs++;
	b = name_hash(dir, n->m.name) & (hsize - 1);
	n->hnext = htab[b];
	htab[b] = n;
	hcount++;
	return 0;
}

/* Index of the first child of dir with cookie > after. */
static uint32_t kid_search(const struct node *dir, uint64_t after)
{
	uint32_t lo = 0, hi = dir->nkids;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (dir->kids[mid]->cookie <= after)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void tree_unlink(struct node *n)
{
	struct node *dir = n->parent, **pp;
	uint32_t i;

	if (!dir)
		return;
	for (pp = &htab[name_hash(dir, n->m.name) & (hsize - 1)]; *pp; pp = &(*pp)->hnext) {
		if (*pp == n) {
			*pp = n->hnext;
			break;
		}
	}
	hcount--;
	i = kid_search(dir, n->cookie - 1);
	if (i < dir->nkids && dir->kids[i] == n) {
		memmove(dir->kids + i, dir->kids + i + 1, (dir->nkids - i - 1) * sizeof(*dir->kids));
		dir->nkids--;
	}
	if ((n->m.mode & 0170000) == 0040000)
		dir->nsubdirs--;
	n->parent = NULL;
	n->hnext = NULL;
}

struct node *tree_next_child(struct node *dir, uint64_t after)
{
	uint32_t i = kid_search(dir, after);

	return i < dir->nkids ? dir->kids[i] : NULL;
}

int tree_is_below(const struct node *n, const struct node *dir)
{
	for (; n; n = n->parent)
		if (n == dir)
			return 1;
	return 0;
}

static size_t id_hash(const struct store_id *id)
{
	size_t h;

	memcpy(&h, id->b, sizeof(h)); /* ids are random */
	return h;
}

int tree_index_add(struct node *n)
{
	if (!itab) {
		isize = 1 << 16;
		itab = calloc(isize, sizeof(*itab));
		if (!itab)
			return -ENOMEM;
	}
	n->inext = itab[id_hash(&n->id) & (isize - 1)];
	itab[id_hash(&n->id) & (isize - 1)] = n;
	return 0;
}

struct node *tree_by_id(const struct store_id *id)
{
	struct node *n;

	if (!itab)
		return NULL;
	for (n = itab[id_hash(id) & (isize - 1)]; n; n = n->inext)
		if (memcmp(n->id.b, id->b, STORE_ID_BYTES) == 0)
			return n;
	return NULL;
}

void tree_index_drop(void)
{
	free(itab);
	itab = NULL;
}

void tree_walk(struct node *from, void (*fn)(struct node *n, void *ctx), void *ctx)
{
	/* Children first: fn may unlink the node it is given. */
	for (uint32_t i = from->nkids; i > 0; i--)
		tree_walk(from->kids[i - 1], fn, ctx);
	fn(from, ctx);
}

int tree_gather(struct node ***out, size_t *count)
{
	struct node *n, **v;
	size_t c = 0;

	for (n = all_head.all_next; n != &all_head; n = n->all_next)
		c++;
	v = malloc((c ? c : 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	c = 0;
	for (n = all_head.all_next; n != &all_head; n = n->all_next)
		v[c++] = n;
	*out = v;
	*count = c;
	return 0;
}
