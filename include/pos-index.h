/* SPDX-License-Identifier: MIT */
#ifndef M2D_POS_INDEX_H
#define M2D_POS_INDEX_H

/*
 * A hash index over the positions of an array the caller owns: finding
 * an element by its key costs O(1) on average, where a loop over the
 * array cost O(n) and a run over every user of a site O(n^2).
 *
 * The index stores, per element, the hash of its key and its position;
 * the caller keeps the keys.  A lookup walks the entries of one hash and
 * asks the caller's MATCH whether the element at a position has the key.
 * When the caller moves an element (a swap-remove puts the last one in
 * the hole), it tells the index with pos_index_move().
 *
 * Open addressing with linear probing; removal shifts entries back, so
 * there are no tombstones and lookups stay short after many removals.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POS_NONE ((size_t)-1)

struct pos_slot {
	uint64_t hash;
	size_t pos;		/* position + 1; 0: an empty slot */
};

struct pos_index {
	struct pos_slot *slot;
	size_t cap;		/* a power of 2, or 0 */
	size_t n;
};

/* Does the element at POS have KEY? */
typedef bool pos_match_fn(const void *ctx, size_t pos, const void *key);

/* FNV-1a of S (with its NUL, so that "a","bc" and "ab","c" differ),
 * continuing from H; start with POS_HASH_INIT. */
#define POS_HASH_INIT 0xcbf29ce484222325ULL
uint64_t pos_hash_str(uint64_t h, const char *s);

/* The position of the element with KEY (hash HASH), or POS_NONE. */
size_t pos_index_find(const struct pos_index *ix, uint64_t hash,
		      pos_match_fn *match, const void *ctx, const void *key);
/* Adds POS under HASH. */
void pos_index_add(struct pos_index *ix, uint64_t hash, size_t pos);
/* Removes POS, which was added under HASH. */
void pos_index_del(struct pos_index *ix, uint64_t hash, size_t pos);
/* The element added under HASH at FROM is now at TO. */
void pos_index_move(struct pos_index *ix, uint64_t hash, size_t from,
		    size_t to);
void pos_index_free(struct pos_index *ix);

#endif
