/* SPDX-License-Identifier: MIT */
/*
 * fuzz-common.h - what the libFuzzer targets share (tests/fuzz/README)
 *
 * FUZZ_CHECK() aborts with the failed condition, so libFuzzer records the
 * input as a crash; a scratch directory on tmpfs (when there is one) holds
 * the files a target needs, one per process.
 */
#ifndef M2D_FUZZ_COMMON_H
#define M2D_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FUZZ_CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: check failed: %s\n", \
			__FILE__, __LINE__, #cond); \
		abort(); \
	} \
} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy (the input up to its first NUL, if any). */
static inline char *fuzz_strdup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	FUZZ_CHECK(s != NULL);
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* A private directory for this process: /dev/shm when usable, else TMPDIR
 * or /tmp.  Removed at exit only when empty (targets remove their files). */
static char fuzz_dir_path[256];

static void fuzz_dir_remove(void)
{
	rmdir(fuzz_dir_path);
}

static inline const char *fuzz_dir(void)
{
	const char *bases[] = { "/dev/shm", getenv("TMPDIR"), "/tmp" };

	if (fuzz_dir_path[0] != '\0')
		return fuzz_dir_path;
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		if (bases[i] == NULL || access(bases[i], W_OK) != 0)
			continue;
		snprintf(fuzz_dir_path, sizeof(fuzz_dir_path),
			 "%s/m2d-fuzz.XXXXXX", bases[i]);
		if (mkdtemp(fuzz_dir_path) != NULL) {
			atexit(fuzz_dir_remove);
			return fuzz_dir_path;
		}
	}
	fprintf(stderr, "fuzz: no scratch directory\n");
	abort();
}

/* Write DATA to PATH (truncating). */
static inline void fuzz_write_file(const char *path, const uint8_t *data,
				   size_t size)
{
	FILE *f = fopen(path, "w");

	FUZZ_CHECK(f != NULL);
	FUZZ_CHECK(size == 0 || fwrite(data, 1, size, f) == size);
	FUZZ_CHECK(fclose(f) == 0);
}

#endif
