/* SPDX-License-Identifier: MIT */
/* pos-index.c - a hash index over the positions of a caller's array */
#include <stdlib.h>

#include "pos-index.h"
#include "xalloc.h"

uint64_t pos_hash_str(uint64_t h, const char *s)
{
	do {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	} while (*s++ != '\0');
	return h;
}

static size_t slot_of(const struct pos_index *ix, uint64_t hash)
{
	/* the high bits mixed in: FNV's low bits are weak for short keys */
	return (size_t)(hash ^ (hash >> 29)) & (ix->cap - 1);
}

size_t pos_index_find(const struct pos_index *ix, uint64_t hash,
		      pos_match_fn *match, const void *ctx, const void *key)
{
	size_t i;

	if (ix->cap == 0)
		return POS_NONE;
	for (i = slot_of(ix, hash); ix->slot[i].pos != 0;
	     i = (i + 1) & (ix->cap - 1)) {
		if (ix->slot[i].hash == hash &&
		    match(ctx, ix->slot[i].pos - 1, key))
			return ix->slot[i].pos - 1;
	}
	return POS_NONE;
}

static void put(struct pos_slot *slot, size_t cap, uint64_t hash, size_t pos)
{
	struct pos_index tmp = { slot, cap, 0 };
	size_t i;

	for (i = slot_of(&tmp, hash); slot[i].pos != 0; i = (i + 1) & (cap - 1))
		;
	slot[i].hash = hash;
	slot[i].pos = pos + 1;
}

void pos_index_add(struct pos_index *ix, uint64_t hash, size_t pos)
{
	/* at most half full */
	if (2 * (ix->n + 1) > ix->cap) {
		size_t cap = ix->cap != 0 ? 2 * ix->cap : 64;
		struct pos_slot *slot = xcalloc(cap, sizeof(*slot));

		for (size_t i = 0; i < ix->cap; i++) {
			if (ix->slot[i].pos != 0)
				put(slot, cap, ix->slot[i].hash,
				    ix->slot[i].pos - 1);
		}
		free(ix->slot);
		ix->slot = slot;
		ix->cap = cap;
	}
	put(ix->slot, ix->cap, hash, pos);
	ix->n++;
}

static size_t slot_holding(const struct pos_index *ix, uint64_t hash,
			   size_t pos)
{
	size_t i;

	if (ix->cap == 0)
		return POS_NONE;
	for (i = slot_of(ix, hash); ix->slot[i].pos != 0;
	     i = (i + 1) & (ix->cap - 1)) {
		if (ix->slot[i].pos == pos + 1)
			return i;
	}
	return POS_NONE;
}

void pos_index_del(struct pos_index *ix, uint64_t hash, size_t pos)
{
	size_t mask = ix->cap - 1, i = slot_holding(ix, hash, pos), j;

	if (i == POS_NONE)
		return;
	/* shift back every later entry of the run that may move into the
	 * hole (its home is not between the hole and itself) */
	for (j = (i + 1) & mask; ix->slot[j].pos != 0; j = (j + 1) & mask) {
		size_t home = slot_of(ix, ix->slot[j].hash);

		if (((j - home) & mask) >= ((j - i) & mask)) {
			ix->slot[i] = ix->slot[j];
			i = j;
		}
	}
	ix->slot[i].pos = 0;
	ix->n--;
}

void pos_index_move(struct pos_index *ix, uint64_t hash, size_t from,
		    size_t to)
{
	size_t i = slot_holding(ix, hash, from);

	if (i != POS_NONE)
		ix->slot[i].pos = to + 1;
}

void pos_index_free(struct pos_index *ix)
{
	free(ix->slot);
	ix->slot = NULL;
	ix->cap = ix->n = 0;
}
