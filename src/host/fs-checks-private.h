/* SPDX-License-Identifier: MIT */
/* fs-checks-private.h - the message count's knobs, for the tests */
#ifndef M2D_FS_CHECKS_PRIVATE_H
#define M2D_FS_CHECKS_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

#include "fs-checks.h"

/* How the "\nF" pairs that may start a separator are found. */
enum fs_scan_impl {
	FS_SCAN_BEST,		/* the fastest this CPU runs (AVX2 on
				 * x86-64 where present, else PORTABLE) */
	FS_SCAN_PLAIN,		/* a byte at a time */
	FS_SCAN_PORTABLE,	/* GCC/Clang vector extensions, 16 bytes at
				 * a time (PLAIN without them) */
	FS_SCAN_AVX2,		/* x86-64 AVX2, 64 bytes a round (BEST
				 * where the CPU lacks it) */
};

/* Whether IMPL runs here as itself (AVX2: built for x86-64 and the CPU
 * has it). */
bool fs_scan_impl_available(enum fs_scan_impl impl);

/*
 * fs_scan_count() reading READ_SIZE bytes at a time (0: the default,
 * 256 KiB) and searching with IMPL.  The results do not depend on either:
 * the tests check that with reads of a few bytes.
 */
int fs_scan_count_with(int fd, const char *path, size_t read_size,
		       enum fs_scan_impl impl, struct fs_scan *scan,
		       struct m2d_error *err);

#endif
