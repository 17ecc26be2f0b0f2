/*
 * retention: decisions and the deadline heap. The heap is an array of
 * nodes ordered by m.deadline; each node knows its slot (heap_idx), so a
 * changed deadline is moved in O(log n) and the reaper reads the top.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "retention.h"

static int64_t ret_short_ns = 30 * 60 * 1000000000LL;
static int64_t ret_keep_ns = 30LL * 24 * 3600 * 1000000000LL;
static char ret_keep[STORE_NAME_MAX + 1] = "keep";
static struct node *keep_node;

static void (*top_hook)(void);
static struct node **heap;
static size_t heap_len, heap_cap;

void ret_configure(int64_t short_ns, int64_t keep_ns, const char *keep_dir)
{
	ret_short_ns = short_ns;
	ret_keep_ns = keep_ns;
	strncpy(ret_keep, keep_dir, sizeof(ret_keep) - 1);
}

const char *ret_keep_name(void)
{
	return ret_keep;
}

struct node *ret_keep_dir(void)
{
	return keep_node;
}

void ret_set_keep_dir(struct node *keep)
{
	keep_node = keep;
}

int ret_is_fixed(const struct node *n)
{
	return n == tree_root() || n == keep_node;
}

int ret_class_of(const struct node *n)
{
	return keep_node && tree_is_below(n, keep_node) ? CLASS_KEEP : CLASS_SHORT;
}

int64_t ret_deadline(const struct node *n)
{
	if (ret_is_fixed(n) || n->unlinked || n->m.ended == 0)
		return 0;
	if (S_ISREG(n->m.mode) && n->nwriters > 0)
		return 0;
	if (S_ISDIR(n->m.mode) && n->nkids > 0)
		return 0;
	return n->m.ended + (n->m.klass == CLASS_KEEP ? ret_keep_ns : ret_short_ns);
}

static int heap_less(size_t a, size_t b)
{
	return heap[a]->m.deadline < heap[b]->m.deadline;
}

static void heap_swap(size_t a, size_t b)
{
	struct node *t = heap[a];

	heap[a] = heap[b];
	heap[b] = t;
	heap[a]->heap_idx = a;
	heap[b]->heap_idx = b;
}

static void heap_fix(size_t i)
{
	while (i > 0 && heap_less(i, (i - 1) / 2)) {
		heap_swap(i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < heap_len && heap_less(l, m))
			m = l;
		if (r < heap_len && heap_less(r, m))
			m = r;
		if (m == i)
			break;
		heap_swap(i, m);
		i = m;
	}
}

/* Put n in the heap (or move it after its deadline changed). A failed
 * allocation leaves it out; the next update retries. */
static void heap_set(struct node *n)
{
	if (n->heap_idx == RET_NOT_QUEUED) {
		if (heap_len == heap_cap) {
			size_t cap = heap_cap ? heap_cap * 2 : 1024;
			struct node **h = realloc(heap, cap * sizeof(*h));

			if (!h)
				return;
			heap = h;
			heap_cap = cap;
		}
		n->heap_idx = heap_len;
		heap[heap_len++] = n;
	}
	heap_fix(n->heap_idx);
	if (n->heap_idx == 0 && top_hook)
		top_hook();
}

void ret_set_top_hook(void (*fn)(void))
{
	top_hook = fn;
}

void ret_heap_remove(struct node *n)
{
	size_t i = n->heap_idx;

	if (i == RET_NOT_QUEUED)
		return;
	n->heap_idx = RET_NOT_QUEUED;
	heap_len--;
	if (i == heap_len)
		return;
	heap[i] = heap[heap_len];
	heap[i]->heap_idx = i;
	heap_fix(i);
}

struct node *ret_heap_top(void)
{
	return heap_len ? heap[0] : NULL;
}

size_t ret_heap_size(void)
{
	return heap_len;
}

void ret_heap_free(void)
{
	free(heap);
	heap = NULL;
	heap_len = heap_cap = 0;
}

int ret_update(struct node *n, int64_t now)
{
	int cls = ret_class_of(n), changed = 0;
	int64_t dl;

	if (cls != n->m.klass) {
		/* Out of keep/: the short period counts from the move, so a
		 * slip of the hand can be undone. */
		if (n->m.klass == CLASS_KEEP && n->m.ended)
			n->m.ended = now;
		/* A seal belongs to the keep class only. */
		if (n->m.state == STATE_SEALED)
			n->m.state = STATE_CLOSED;
		n->m.klass = (uint8_t)cls;
		changed = 1;
	}
	dl = ret_deadline(n);
	if (dl != n->m.deadline) {
		n->m.deadline = dl;
		changed = 1;
	}
	if (dl)
		heap_set(n);
	else
		ret_heap_remove(n);
	return changed;
}

int ret_wants_seal(const struct node *n)
{
	return S_ISREG(n->m.mode) && n->m.klass == CLASS_KEEP && n->nwriters == 0 &&
	       !n->unlinked && n->m.state != STATE_SEALED;
}
