/* SPDX-License-Identifier: MIT */
/* hash.c - a streaming 64-bit checksum (see hash.h) */
#include <string.h>

#include "hash.h"

static uint64_t mix(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0x100000001b3ULL;
	return h ^ (h >> 29);
}

void m2d_hash_init(struct m2d_hash *hash)
{
	memset(hash, 0, sizeof(*hash));
	hash->h = 0xcbf29ce484222325ULL;
}

void m2d_hash_update(struct m2d_hash *hash, const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t w;

	while (hash->tail_len > 0 && hash->tail_len < 8 && len > 0) {
		hash->tail[hash->tail_len++] = *p++;
		len--;
	}
	if (hash->tail_len > 0 && hash->tail_len < 8)
		return;		/* all of DATA went into the tail */
	if (hash->tail_len == 8) {
		memcpy(&w, hash->tail, 8);
		hash->h = mix(hash->h, w);
		hash->tail_len = 0;
	}
	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		hash->h = mix(hash->h, w);
	}
	memcpy(hash->tail, p, len);
	hash->tail_len = len;
}

uint64_t m2d_hash_final(const struct m2d_hash *hash)
{
	uint64_t w = 0;

	if (hash->tail_len == 0)
		return hash->h;
	memcpy(&w, hash->tail, hash->tail_len);
	return mix(hash->h, w ^ ((uint64_t)hash->tail_len << 56));
}
