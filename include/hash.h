/* SPDX-License-Identifier: MIT */
#ifndef M2D_HASH_H
#define M2D_HASH_H

/*
 * A fast 64-bit checksum over a byte stream, the same whatever pieces the
 * stream comes in: to see that a re-run reads the same source, and that a
 * maildir file holds the bytes of its message.  Not for security.
 */

#include <stddef.h>
#include <stdint.h>

struct m2d_hash {
	uint64_t h;
	unsigned char tail[8];
	size_t tail_len;
};

void m2d_hash_init(struct m2d_hash *hash);
void m2d_hash_update(struct m2d_hash *hash, const void *data, size_t len);
uint64_t m2d_hash_final(const struct m2d_hash *hash);

#endif
