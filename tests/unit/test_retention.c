/*
 * test_retention: the in-memory tree (tree.c) and the retention rules and
 * deadline heap (retention.c), without a store. Nodes are made by hand
 * from a filled-in struct store_meta; ids come from a fixed-seed generator
 * so a failure replays. Everything runs with tree_lock held, as the
 * retention contract asks.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "retention.h"
#include "tree.h"

#define SEC 1000000000LL
#define SHORT_NS (30 * SEC)
#define KEEP_NS (300 * SEC)
#define T0 (1700000000 * SEC) /* an arbitrary "ended" time */
#define HEAP_NODES 10000
#define BULK_KIDS 5000

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static struct node *root, *keep;
static unsigned top_calls;

static uint64_t rng_next(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static void die(const char *what)
{
	fprintf(stderr, "test_retention: %s failed\n", what);
	exit(2);
}

/* A node that is not linked anywhere yet, with a random id. */
static struct node *mk(const char *name, uint32_t mode)
{
	struct store_meta m;
	struct store_id id;
	struct node *n;

	memset(&m, 0, sizeof(m));
	m.mode = mode;
	m.name_len = (uint16_t)strlen(name);
	memcpy(m.name, name, m.name_len + 1);
	for (int i = 0; i < STORE_ID_BYTES; i += 8) {
		uint64_t r = rng_next();

		memcpy(id.b + i, &r, 8);
	}
	n = tree_node_new(&id, &m);
	if (!n)
		die("tree_node_new");
	return n;
}

static struct node *mk_in(struct node *dir, const char *name, uint32_t mode)
{
	struct node *n = mk(name, mode);

	if (tree_link(dir, n) != 0)
		die("tree_link");
	return n;
}

static struct node *mk_file(struct node *dir, const char *name)
{
	return mk_in(dir, name, S_IFREG | 0644);
}

static struct node *mk_dir(struct node *dir, const char *name)
{
	return mk_in(dir, name, S_IFDIR | 0755);
}

static void count_top(void)
{
	top_calls++;
}

static void setup(void)
{
	CHECK(tree_init() == 0, "tree_init");
	root = mk("", S_IFDIR | 0755);
	root->m.flags = META_ROOT;
	tree_set_root(root);
	CHECK(tree_root() == root, "tree_root returns what tree_set_root set");
	keep = mk_dir(root, "keep");
	ret_set_keep_dir(keep);
	ret_configure(SHORT_NS, KEEP_NS, "keep");
	ret_set_top_hook(count_top);
	CHECK(ret_keep_dir() == keep && strcmp(ret_keep_name(), "keep") == 0,
	      "keep folder and its name are set");
}

/* ---- tree ---- */

static void test_link_lookup(void)
{
	struct node *d = mk_dir(root, "calls");
	struct node *a = mk_file(d, "a.wav"), *b = mk_file(d, "b.wav");
	struct node *a2 = mk_file(root, "a.wav");
	struct node *sub = mk_dir(d, "sub");

	CHECK(tree_lookup(d, "a.wav") == a && tree_lookup(d, "b.wav") == b,
	      "lookup finds each child by name");
	CHECK(tree_lookup(root, "a.wav") == a2, "the same name in another folder is another node");
	CHECK(tree_lookup(d, "c.wav") == NULL && tree_lookup(d, "a.wa") == NULL &&
	      tree_lookup(d, "") == NULL, "lookup of a missing name -> NULL");
	CHECK(tree_lookup(keep, "a.wav") == NULL, "lookup in a folder without it -> NULL");
	CHECK(a->parent == d && memcmp(a->m.parent.b, d->id.b, STORE_ID_BYTES) == 0,
	      "link sets parent and m.parent");
	CHECK(d->nkids == 3 && d->nsubdirs == 1, "nkids counts children, nsubdirs folders");
	CHECK(a->cookie >= 3 && b->cookie > a->cookie && sub->cookie > b->cookie,
	      "cookies start after . and .. and grow");
	CHECK(tree_is_below(a, d) && tree_is_below(a, root) && tree_is_below(d, d) &&
	      !tree_is_below(d, a) && !tree_is_below(a2, d), "tree_is_below");

	tree_unlink(sub);
	CHECK(sub->parent == NULL && d->nsubdirs == 0 && d->nkids == 2 &&
	      tree_lookup(d, "sub") == NULL, "unlink of a folder: gone, nsubdirs back to 0");
	tree_unlink(sub);
	CHECK(d->nkids == 2, "unlinking an unlinked node is a no-op");
	tree_unlink(a);
	CHECK(tree_lookup(d, "a.wav") == NULL && tree_lookup(root, "a.wav") == a2,
	      "unlink removes only that (folder, name)");
	/* A rename: out, new name, back in at the end of the folder. */
	memcpy(a->m.name, "z.wav", 6);
	CHECK(tree_link(d, a) == 0 && tree_lookup(d, "z.wav") == a && a->cookie > b->cookie,
	      "relinked under a new name: found, with a fresh, larger cookie");
	CHECK(tree_next_child(d, b->cookie) == a && tree_next_child(d, a->cookie) == NULL,
	      "the relinked node comes last in readdir order");
}

static void test_readdir_order(void)
{
	enum { N = 10 };
	struct node *d = mk_dir(root, "order"), *k[N];
	uint64_t off;
	int i, ok = 1;
	char name[16];

	for (i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		k[i] = mk_file(d, name);
	}
	off = 0;
	for (i = 0; i < N; i++) {
		struct node *n = tree_next_child(d, off);

		ok &= n == k[i];
		if (!n)
			break;
		off = n->cookie;
	}
	CHECK(ok && tree_next_child(d, off) == NULL, "tree_next_child walks in creation order");
	CHECK(tree_next_child(d, 0) == k[0] && tree_next_child(d, 1) == k[0] &&
	      tree_next_child(d, 2) == k[0], "offsets 0, 1, 2 start at the first child");
	CHECK(tree_next_child(d, UINT64_MAX) == NULL, "an offset past the end -> NULL");

	/* A reader has returned k[0..3] and holds offset k[3]->cookie; entries
	 * before, at and after that offset go away meanwhile. */
	off = k[3]->cookie;
	tree_unlink(k[1]);
	tree_unlink(k[3]);
	tree_unlink(k[4]);
	CHECK(tree_next_child(d, off) == k[5], "offset stays valid: the next entry is k5");
	CHECK(tree_next_child(d, k[5]->cookie) == k[6], "then k6");
	tree_unlink(k[0]);
	tree_unlink(k[9]);
	ok = 1;
	off = 0;
	for (int want = 2; want < 9; want++) {
		struct node *n;

		if (want == 3 || want == 4)
			continue;
		n = tree_next_child(d, off);
		ok &= n == k[want];
		if (!n)
			break;
		off = n->cookie;
	}
	CHECK(ok && tree_next_child(d, off) == NULL && d->nkids == 5,
	      "after removals the rest is still in cookie order");
	CHECK(tree_next_child(d, k[9]->cookie) == NULL,
	      "offset of the removed last entry -> end");
	CHECK(tree_next_child(d, k[0]->cookie) == k[2],
	      "offset of a removed first entry -> the next survivor");
}

/* Many children: the hash table grows and every name is still found. */
static void test_many(void)
{
	struct node *d = mk_dir(root, "bulk"), **k = malloc(BULK_KIDS * sizeof(*k));
	int found = 1, order = 1;
	uint64_t off = 0;
	char name[32];

	if (!k)
		die("malloc");
	for (int i = 0; i < BULK_KIDS; i++) {
		snprintf(name, sizeof(name), "rec-%05d.wav", i);
		k[i] = mk_file(d, name);
	}
	for (int i = 0; i < BULK_KIDS; i++) {
		snprintf(name, sizeof(name), "rec-%05d.wav", i);
		found &= tree_lookup(d, name) == k[i] && tree_lookup(root, name) == NULL;
	}
	CHECK(found, "5000 children: each found by name after the table grew");
	for (int i = 0; i < BULK_KIDS; i += 3)
		tree_unlink(k[i]);
	for (int i = 0; i < BULK_KIDS; i++) {
		snprintf(name, sizeof(name), "rec-%05d.wav", i);
		found &= tree_lookup(d, name) == (i % 3 ? k[i] : NULL);
		if (i % 3) {
			struct node *n = tree_next_child(d, off);

			order &= n == k[i];
			off = n ? n->cookie : UINT64_MAX;
		}
	}
	CHECK(found, "every third removed: the others found, the removed not");
	CHECK(order && tree_next_child(d, off) == NULL, "the survivors in cookie order");
	for (int i = 0; i < BULK_KIDS; i++)
		tree_unlink(k[i]);
	CHECK(d->nkids == 0, "all unlinked");
	free(k);
}

/* ---- rules ---- */

static void test_classes(void)
{
	struct node *out = mk_file(root, "out.wav");
	struct node *in = mk_file(keep, "in.wav");
	struct node *kd = mk_dir(keep, "kd");
	struct node *deep = mk_dir(kd, "deeper");
	struct node *deepf = mk_file(deep, "deep.wav");
	struct node *other = mk_dir(root, "other");
	struct node *fake = mk_dir(other, "keep"); /* the name alone means nothing */
	struct node *fakef = mk_file(fake, "f.wav");
	struct node *loose = mk("loose", S_IFREG | 0644);

	CHECK(ret_class_of(root) == CLASS_SHORT, "root is class short");
	CHECK(ret_class_of(keep) == CLASS_KEEP, "the keep folder itself is class keep");
	CHECK(ret_class_of(out) == CLASS_SHORT, "a file in the root is short");
	CHECK(ret_class_of(in) == CLASS_KEEP, "a file in keep is keep");
	CHECK(ret_class_of(kd) == CLASS_KEEP, "a folder in keep is keep");
	CHECK(ret_class_of(deep) == CLASS_KEEP && ret_class_of(deepf) == CLASS_KEEP,
	      "nested folders and files in keep are keep");
	CHECK(ret_class_of(other) == CLASS_SHORT && ret_class_of(fakef) == CLASS_SHORT,
	      "a folder merely called keep elsewhere is short");
	CHECK(ret_class_of(loose) == CLASS_SHORT, "an unlinked node is short");
	CHECK(ret_is_fixed(root) && ret_is_fixed(keep) && !ret_is_fixed(kd) &&
	      !ret_is_fixed(fake) && !ret_is_fixed(out), "only root and keep are fixed");

	tree_unlink(in);
	tree_link(root, in);
	CHECK(ret_class_of(in) == CLASS_SHORT, "moved out of keep -> short");
	tree_unlink(out);
	tree_link(deep, out);
	CHECK(ret_class_of(out) == CLASS_KEEP, "moved deep into keep -> keep");
	tree_node_free(loose);
}

static void test_deadlines(void)
{
	struct node *f = mk_file(root, "d.wav");
	struct node *kf = mk_file(keep, "kd.wav");
	struct node *d = mk_dir(root, "dd");
	struct node *kdir = mk_dir(keep, "kdd");
	struct node *lnk = mk_in(root, "link", S_IFLNK | 0777);
	struct node *fifo = mk_in(root, "fifo", S_IFIFO | 0600);
	struct node *kid;

	f->m.ended = T0;
	f->nwriters = 1;
	CHECK(ret_deadline(f) == 0, "file with a writer -> no deadline");
	f->nwriters = 0;
	CHECK(ret_deadline(f) == T0 + SHORT_NS, "closed file -> ended + short");
	f->nopen = 2; /* readers do not hold it */
	CHECK(ret_deadline(f) == T0 + SHORT_NS, "readers do not stop the clock");
	f->nopen = 0;
	f->m.ended = 0;
	CHECK(ret_deadline(f) == 0, "ended 0 -> no deadline yet");
	f->m.ended = T0;
	f->unlinked = 1;
	CHECK(ret_deadline(f) == 0, "unlinked -> no deadline");
	f->unlinked = 0;

	kf->m.ended = T0;
	CHECK(ret_update(kf, T0) == 1 && kf->m.klass == CLASS_KEEP, "update gives class keep");
	CHECK(ret_deadline(kf) == T0 + KEEP_NS && kf->m.deadline == T0 + KEEP_NS,
	      "closed file in keep -> ended + keep");

	kid = mk_file(d, "kid");
	d->m.ended = T0;
	CHECK(ret_deadline(d) == 0, "folder with children -> no deadline");
	tree_unlink(kid);
	CHECK(ret_deadline(d) == T0 + SHORT_NS, "empty folder -> ended + short");
	kdir->m.ended = T0;
	ret_update(kdir, T0);
	CHECK(ret_deadline(kdir) == T0 + KEEP_NS, "empty folder in keep -> ended + keep");

	lnk->m.ended = T0;
	fifo->m.ended = T0;
	lnk->nwriters = 1; /* only regular files have writers that count */
	CHECK(ret_deadline(lnk) == T0 + SHORT_NS && ret_deadline(fifo) == T0 + SHORT_NS,
	      "symlink and FIFO -> ended + short");

	/* Root and keep never expire, empty or not, whatever their fields. */
	root->m.ended = T0;
	keep->m.ended = T0;
	CHECK(ret_deadline(root) == 0 && ret_deadline(keep) == 0,
	      "root and keep with children -> 0");
	tree_node_free(kid);
	{
		struct node *r2 = mk("", S_IFDIR | 0755), *k2 = mk("keep", S_IFDIR | 0755);
		struct node *oldroot = root, *oldkeep = keep;

		r2->m.ended = T0;
		k2->m.ended = T0;
		k2->m.klass = CLASS_KEEP;
		tree_set_root(r2);
		ret_set_keep_dir(k2);
		CHECK(ret_deadline(r2) == 0 && ret_deadline(k2) == 0,
		      "empty root and empty keep -> 0");
		CHECK(ret_update(r2, T0) == 0 && r2->heap_idx == RET_NOT_QUEUED &&
		      ret_update(k2, T0) == 0 && k2->heap_idx == RET_NOT_QUEUED,
		      "update never queues root or keep");
		tree_set_root(oldroot);
		ret_set_keep_dir(oldkeep);
		tree_node_free(r2);
		tree_node_free(k2);
	}
	root->m.ended = 0;
	keep->m.ended = 0;
	ret_update(kf, T0);
	kf->nwriters = 1;
	ret_update(kf, T0);
	ret_update(kdir, T0);
	tree_unlink(kdir);
	ret_heap_remove(kdir);
	CHECK(kf->heap_idx == RET_NOT_QUEUED, "a writer takes the file off the heap");
	kf->nwriters = 0;
	ret_update(kf, T0);
	CHECK(kf->heap_idx != RET_NOT_QUEUED, "closing it puts it back");
	ret_heap_remove(kf);
	CHECK(ret_heap_size() == 0, "heap empty after the deadline cases");
}

static void test_update(void)
{
	struct node *f = mk_file(keep, "slip.wav");
	struct node *d;
	unsigned calls;

	/* As node_make does: a node made in keep starts in class keep. */
	f->m.klass = CLASS_KEEP;
	f->m.ended = T0;
	f->m.state = STATE_SEALED;
	CHECK(ret_update(f, T0 + SEC) == 1, "first update in keep -> changed (deadline set)");
	CHECK(f->m.klass == CLASS_KEEP && f->m.deadline == T0 + KEEP_NS && f->m.ended == T0 &&
	      f->m.state == STATE_SEALED, "in keep: class keep, deadline ended + keep, seal kept");
	CHECK(f->heap_idx != RET_NOT_QUEUED && ret_heap_top() == f, "queued, at the top");
	CHECK(ret_update(f, T0 + 2 * SEC) == 0, "update without a change -> 0");

	/* Out of keep by a slip of the hand: short counts from the move. */
	tree_unlink(f);
	tree_link(root, f);
	CHECK(ret_update(f, T0 + 100 * SEC) == 1, "moved out of keep -> changed");
	CHECK(f->m.klass == CLASS_SHORT && f->m.ended == T0 + 100 * SEC,
	      "moved out: class short, ended reset to now");
	CHECK(f->m.state == STATE_CLOSED, "moved out: unsealed (SEALED -> CLOSED)");
	CHECK(f->m.deadline == T0 + 100 * SEC + SHORT_NS, "moved out: deadline now + short");

	/* Back into keep: ended stays, the period becomes keep's. */
	tree_unlink(f);
	tree_link(keep, f);
	CHECK(ret_update(f, T0 + 200 * SEC) == 1 && f->m.klass == CLASS_KEEP &&
	      f->m.ended == T0 + 100 * SEC && f->m.deadline == T0 + 100 * SEC + KEEP_NS,
	      "moved back into keep: ended kept, deadline ended + keep");
	CHECK(f->m.state == STATE_CLOSED, "moving in does not seal");

	/* A recording still going on is moved out: no ended to reset. */
	f->nwriters = 1;
	f->m.ended = 0;
	tree_unlink(f);
	tree_link(root, f);
	CHECK(ret_update(f, T0 + 300 * SEC) == 1 && f->m.ended == 0 && f->m.deadline == 0 &&
	      f->heap_idx == RET_NOT_QUEUED, "open file moved out: ended stays 0, not queued");
	f->nwriters = 0;
	f->m.ended = T0 + 400 * SEC;
	CHECK(ret_update(f, T0 + 400 * SEC) == 1 && f->m.deadline == T0 + 400 * SEC + SHORT_NS &&
	      f->heap_idx != RET_NOT_QUEUED, "writer closes -> queued at ended + short");

	/* A folder emptied and refilled. */
	d = mk_dir(root, "fold");
	{
		struct node *k = mk_file(d, "k");

		d->m.ended = T0;
		CHECK(ret_update(d, T0) == 0 && d->heap_idx == RET_NOT_QUEUED,
		      "folder with a child: no deadline, not queued");
		tree_unlink(k);
		CHECK(ret_update(d, T0) == 1 && d->m.deadline == T0 + SHORT_NS,
		      "emptied folder -> queued at ended + short");
		tree_link(d, k);
		CHECK(ret_update(d, T0) == 1 && d->m.deadline == 0 && d->heap_idx == RET_NOT_QUEUED,
		      "refilled folder -> off the heap");
	}

	/* The hook fires when the earliest deadline moves earlier. */
	calls = top_calls;
	{
		struct node *late = mk_file(root, "late"), *early = mk_file(root, "early");

		late->m.ended = T0 + 10000 * SEC;
		ret_update(late, T0);
		CHECK(top_calls == calls, "a later deadline does not wake the reaper");
		early->m.ended = T0 - 10000 * SEC;
		ret_update(early, T0);
		CHECK(top_calls == calls + 1 && ret_heap_top() == early,
		      "an earlier deadline becomes the top and wakes the reaper");
		ret_heap_remove(early);
		ret_heap_remove(late);
		ret_heap_remove(early);
		CHECK(early->heap_idx == RET_NOT_QUEUED, "removing twice is harmless");
	}
	ret_heap_remove(f);
	CHECK(ret_heap_size() == 0, "heap empty after the update cases");
}

static void test_wants_seal(void)
{
	struct node *f = mk_file(keep, "seal.wav");
	struct node *o = mk_file(root, "noseal.wav");
	struct node *d = mk_dir(keep, "sealdir");

	f->m.ended = T0;
	ret_update(f, T0);
	ret_update(o, T0);
	ret_update(d, T0);
	CHECK(ret_wants_seal(f), "closed, unsealed file in keep -> seal");
	f->m.state = STATE_RECORDING;
	CHECK(ret_wants_seal(f), "state RECORDING but no writer -> seal");
	f->nwriters = 1;
	CHECK(!ret_wants_seal(f), "a writer -> not yet");
	f->nwriters = 0;
	f->m.state = STATE_SEALED;
	CHECK(!ret_wants_seal(f), "already sealed -> no");
	f->m.state = STATE_CLOSED;
	f->unlinked = 1;
	CHECK(!ret_wants_seal(f), "unlinked -> no");
	f->unlinked = 0;
	CHECK(!ret_wants_seal(o), "file outside keep -> no");
	CHECK(!ret_wants_seal(d), "folder in keep -> no");
	tree_unlink(f);
	tree_link(root, f);
	ret_update(f, T0);
	CHECK(!ret_wants_seal(f), "moved out of keep -> no");
	ret_heap_remove(f);
	ret_heap_remove(o);
	ret_heap_remove(d);
}

/* ---- the heap ---- */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static void test_heap(void)
{
	struct node *d = mk_dir(root, "heap"), **n = malloc(HEAP_NODES * sizeof(*n));
	int64_t *want = malloc(HEAP_NODES * sizeof(*want)), prev = INT64_MIN;
	size_t queued = 0, popped = 0, w = 0;
	int order = 1, match = 1, consistent = 1;
	char name[32];

	if (!n || !want)
		die("malloc");
	for (int i = 0; i < HEAP_NODES; i++) {
		snprintf(name, sizeof(name), "h%d", i);
		n[i] = mk_file(i % 2 ? keep : d, name);
		/* Few distinct values among many: ties must work too. */
		n[i]->m.ended = T0 + (int64_t)(rng_next() % (i % 5 ? 1000000 * SEC : 50));
		ret_update(n[i], T0);
	}
	CHECK(ret_heap_size() == HEAP_NODES, "10000 nodes queued");
	/* Move some deadlines, take some off (writers), in random order. */
	for (int i = 0; i < HEAP_NODES; i++) {
		struct node *x = n[rng_next() % HEAP_NODES];

		switch (rng_next() % 4) {
		case 0:
			x->m.ended = T0 + (int64_t)(rng_next() % (1000000 * SEC));
			ret_update(x, T0);
			break;
		case 1:
			x->nwriters = 1;
			ret_update(x, T0);
			break;
		default:
			break;
		}
	}
	for (int i = 0; i < HEAP_NODES; i++) {
		int64_t dl = ret_deadline(n[i]);

		consistent &= n[i]->m.deadline == dl && (dl != 0) == (n[i]->heap_idx != RET_NOT_QUEUED);
		if (dl)
			want[queued++] = dl;
	}
	CHECK(consistent && ret_heap_size() == queued,
	      "queued exactly the nodes with a deadline, each with its deadline");
	qsort(want, queued, sizeof(*want), cmp_i64);
	for (struct node *top; (top = ret_heap_top()) != NULL; popped++) {
		order &= top->m.deadline >= prev;
		match &= w < queued && top->m.deadline == want[w++];
		prev = top->m.deadline;
		ret_heap_remove(top);
		consistent &= top->heap_idx == RET_NOT_QUEUED;
		if (popped > HEAP_NODES)
			break;
	}
	CHECK(popped == queued && ret_heap_size() == 0, "every queued node popped once");
	CHECK(order, "pops come in non-decreasing deadline order");
	CHECK(match, "the popped deadlines are exactly the queued ones");
	CHECK(consistent, "a removed node is marked not queued");
	for (int i = 0; i < HEAP_NODES; i++)
		tree_unlink(n[i]);
	free(n);
	free(want);
}

/* Removal from the middle keeps the heap a heap. */
static void test_heap_remove_middle(void)
{
	enum { N = 2000 };
	struct node **n = malloc(N * sizeof(*n));
	int64_t prev = INT64_MIN;
	int order = 1;
	size_t popped = 0;

	if (!n)
		die("malloc");
	for (int i = 0; i < N; i++) {
		n[i] = mk_file(root, "m");
		n[i]->m.ended = T0 + (int64_t)(rng_next() % (1000 * SEC));
		ret_update(n[i], T0);
	}
	for (int i = 0; i < N; i += 2)
		ret_heap_remove(n[(i * 7919) % N]);
	for (struct node *top; (top = ret_heap_top()) != NULL && popped <= N; popped++) {
		order &= top->m.deadline >= prev;
		prev = top->m.deadline;
		ret_heap_remove(top);
	}
	CHECK(order && popped == N - N / 2 && ret_heap_size() == 0,
	      "after removals from the middle, the rest pops in order");
	for (int i = 0; i < N; i++)
		tree_unlink(n[i]);
	free(n);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	pthread_mutex_lock(&tree_lock);
	setup();
	test_link_lookup();
	test_readdir_order();
	test_many();
	test_classes();
	test_deadlines();
	test_update();
	test_wants_seal();
	test_heap();
	test_heap_remove_middle();
	ret_heap_free();
	CHECK(ret_heap_top() == NULL && ret_heap_size() == 0, "heap freed");
	pthread_mutex_unlock(&tree_lock);
	tree_destroy();
	return check_done();
}
