/* SPDX-License-Identifier: MIT */
/*
 * Tests for the hash index over array positions (src/lib/pos-index.c): a
 * seeded run of adds, swap-removes and lookups against a plain array
 * searched one by one, with keys chosen to collide in the table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pos-index.h"

#define MAXN 5000

struct model {
	char *key[MAXN];
	size_t n;
	struct pos_index ix;
};

static bool match(const void *ctx, size_t pos, const void *key)
{
	const struct model *m = ctx;

	return strcmp(m->key[pos], key) == 0;
}

static size_t naive(const struct model *m, const char *key)
{
	for (size_t i = 0; i < m->n; i++) {
		if (strcmp(m->key[i], key) == 0)
			return i;
	}
	return POS_NONE;
}

static uint64_t hash_of(const char *key, int weak)
{
	/* weak: only 16 distinct hashes, so the runs are long and the
	 * shifting back of removal is exercised */
	uint64_t h = pos_hash_str(POS_HASH_INIT, key);

	return weak ? h & 0xf : h;
}

static void run(int weak)
{
	struct model m = { .n = 0 };
	unsigned seed = 20041109;
	char key[32];

	for (int step = 0; step < 60000; step++) {
		int op = rand_r(&seed) % 3;
		size_t i;

		snprintf(key, sizeof(key), "k%d", rand_r(&seed) % 3000);
		i = pos_index_find(&m.ix, hash_of(key, weak), match, &m, key);
		assert_int_equal(i, naive(&m, key));
		if (op == 0 && i == POS_NONE && m.n < MAXN) {
			m.key[m.n] = strdup(key);
			pos_index_add(&m.ix, hash_of(key, weak), m.n);
			m.n++;
		} else if (op == 1 && i != POS_NONE) {
			size_t last = --m.n;

			pos_index_del(&m.ix, hash_of(key, weak), i);
			free(m.key[i]);
			if (i != last) {
				pos_index_move(&m.ix,
					       hash_of(m.key[last], weak),
					       last, i);
				m.key[i] = m.key[last];
			}
		}
		assert_int_equal(m.ix.n, m.n);
	}
	/* every key still there is found where it is */
	for (size_t i = 0; i < m.n; i++)
		assert_int_equal(pos_index_find(&m.ix, hash_of(m.key[i], weak),
						match, &m, m.key[i]), i);
	for (size_t i = 0; i < m.n; i++)
		free(m.key[i]);
	pos_index_free(&m.ix);
}

static void test_random(void **state)
{
	(void)state;
	run(0);
}

static void test_colliding(void **state)
{
	(void)state;
	run(1);
}

static void test_hash_str(void **state)
{
	(void)state;
	/* the NUL is hashed: "a","bc" is not "ab","c" */
	assert_true(pos_hash_str(pos_hash_str(POS_HASH_INIT, "a"), "bc") !=
		    pos_hash_str(pos_hash_str(POS_HASH_INIT, "ab"), "c"));
	assert_int_equal(pos_index_find(&(struct pos_index){ 0 }, 1, match,
					NULL, "x"), POS_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_colliding),
		cmocka_unit_test(test_hash_str),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
