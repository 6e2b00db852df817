/* SPDX-License-Identifier: MIT */
/*
 * fuzz-config.c - the input is mbox2dovecot.conf (written to a scratch
 * file: m2d_config_load() reads a path)
 *
 * A file that loads passes m2d_config_check() and gives a target path.
 */
#include "fuzz-common.h"
#include "m2d-config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[512];
	struct m2d_config cfg;
	struct m2d_error err;

	snprintf(path, sizeof(path), "%s/m2d.conf", fuzz_dir());
	fuzz_write_file(path, data, size);
	memset(&cfg, 0, sizeof(cfg));
	if (m2d_config_load(&cfg, path, &err) == 0) {
		char *target = m2d_config_target(&cfg, "fred");

		FUZZ_CHECK(cfg.nroots >= 0 && cfg.nroots <= M2D_MAX_ROOTS);
		FUZZ_CHECK(m2d_config_check(&cfg, path, &err) == 0);
		FUZZ_CHECK(target != NULL);
		free(target);
	}
	m2d_config_free(&cfg);
	unlink(path);
	return 0;
}
