/*
 * tree: the namespace in memory. Every node of the store is here, built
 * from the objects' metadata at mount: lookups by (parent, name) through
 * one hash table, children of a folder in creation order for readdir, and
 * the counts that decide when a node may be destroyed or freed.
 *
 * Locking: tree_lock guards the namespace and every node's fields except
 * those under node->io (the open store object and its content). Lock order:
 * node->io before tree_lock, never the other way.
 */
#ifndef RECFS_TREE_H
#define RECFS_TREE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct node {
	struct store_meta m;  /* persisted attributes; m.name is the name */
	struct store_id id;
	struct node *parent;  /* NULL: root, or no longer in the tree */
	struct node *hnext;   /* hash chain of (parent, name) */
	struct node *inext;   /* id index chain (mount time only) */
	struct node *all_prev, *all_next; /* every live node, for teardown */
	struct node **kids;   /* folders: children, ascending cookie */
	uint32_t nkids, kids_cap;
	uint32_t nsubdirs;
	uint64_t cookie;      /* readdir position within the parent */
	uint64_t next_cookie; /* folders: the next child's cookie */
	uint64_t nlookup;     /* the kernel's references */
	uint32_t nopen;       /* open handles */
	uint32_t nwriters;    /* open handles that may write */
	size_t heap_idx;      /* retention heap slot, or RET_NOT_QUEUED */
	uint64_t size;        /* plaintext size */
	int unlinked;         /* removed from the tree; destroy when unused */
	int dirty;            /* metadata waits for the next housekeeping */
	int persist_failed;   /* its last metadata write failed (logged once) */
	pthread_rwlock_t io;  /* guards obj and the content; readers share it */
	struct store_obj *obj; /* open while nopen > 0 */
};

extern pthread_mutex_t tree_lock;

/* Build an empty tree. 0 or -ENOMEM. */
int tree_init(void);
/* Free every node (at unmount; no locking). */
void tree_destroy(void);

/* A new node with meta copied (m->xattr duplicated) and id. The node is
 * not linked anywhere. NULL on ENOMEM. */
struct node *tree_node_new(const struct store_id *id, const struct store_meta *m);
void tree_node_free(struct node *n);

struct node *tree_root(void);
void tree_set_root(struct node *root);

/* Child of dir called name, or NULL. */
struct node *tree_lookup(struct node *dir, const char *name);
/* Link n into dir under n->m.name (sets n->parent, m.parent, cookie).
 * 0 or -ENOMEM. */
int tree_link(struct node *dir, struct node *n);
/* Take n out of its folder (n->parent becomes NULL). */
void tree_unlink(struct node *n);

/* The first child of dir with cookie > after, or NULL. */
struct node *tree_next_child(struct node *dir, uint64_t after);

/* 1 when n is dir itself or below it. */
int tree_is_below(const struct node *n, const struct node *dir);

/* By object id, for building the tree at mount: tree_index_add registers
 * every node, tree_by_id finds one, tree_index_drop frees the index. */
int tree_index_add(struct node *n);
struct node *tree_by_id(const struct store_id *id);
void tree_index_drop(void);

/* A malloc'd array of every live node (mount-time passes). 0 or -ENOMEM. */
int tree_gather(struct node ***out, size_t *count);

/* Call fn on every node in the tree (mount-time passes). */
void tree_walk(struct node *from, void (*fn)(struct node *n, void *ctx), void *ctx);

#endif
