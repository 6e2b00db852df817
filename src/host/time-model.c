/* SPDX-License-Identifier: MIT */
/*
 * A linear model of conversion time, fitted to a sample of folders.
 *
 * Three terms (per folder, per message, per byte) and a handful of
 * folders: the normal equations of a weighted least-squares fit (weight
 * 1/seconds^2, so that every folder counts by its relative error) are at
 * most 3 x 3, solved by elimination.  A negative cost is not a cost: each
 * of the 7 subsets of the terms is fitted and the best fit with no
 * negative cost wins.
 */
#include "time-model.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#define TERMS 3

static double term(const struct time_sample *s, int k)
{
	return k == 0 ? 1.0 : k == 1 ? s->messages : s->bytes;
}

/* Solve the K x K system A x = B in place; false when singular. */
static bool solve(double a[TERMS][TERMS], double b[TERMS], int k,
		  double x[TERMS])
{
	for (int c = 0; c < k; c++) {
		int p = c;

		for (int r = c + 1; r < k; r++)
			if (fabs(a[r][c]) > fabs(a[p][c]))
				p = r;
		if (fabs(a[p][c]) < 1e-300)
			return false;
		for (int j = 0; j < k; j++) {
			double t = a[c][j];

			a[c][j] = a[p][j];
			a[p][j] = t;
		}
		double t = b[c];

		b[c] = b[p];
		b[p] = t;
		for (int r = c + 1; r < k; r++) {
			double f = a[r][c] / a[c][c];

			for (int j = c; j < k; j++)
				a[r][j] -= f * a[c][j];
			b[r] -= f * b[c];
		}
	}
	for (int c = k - 1; c >= 0; c--) {
		double v = b[c];

		for (int j = c + 1; j < k; j++)
			v -= a[c][j] * x[j];
		x[c] = v / a[c][c];
	}
	return true;
}

/* Fit the terms of MASK; *ERR_R gets the sum of squared relative errors.
 * False when singular or a cost comes out negative. */
static bool fit_subset(const struct time_sample *s, size_t n, int mask,
		       double coef[TERMS], double *err_r)
{
	double a[TERMS][TERMS], b[TERMS], x[TERMS];
	int idx[TERMS], k = 0;

	for (int t = 0; t < TERMS; t++)
		if (mask & (1 << t))
			idx[k++] = t;
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	for (size_t i = 0; i < n; i++) {
		double w = 1.0 / (s[i].seconds * s[i].seconds);

		for (int r = 0; r < k; r++) {
			for (int c = 0; c < k; c++)
				a[r][c] += w * term(&s[i], idx[r]) *
					term(&s[i], idx[c]);
			b[r] += w * term(&s[i], idx[r]) * s[i].seconds;
		}
	}
	if (!solve(a, b, k, x))
		return false;
	memset(coef, 0, sizeof(double) * TERMS);
	for (int r = 0; r < k; r++) {
		if (x[r] < 0 || !isfinite(x[r]))
			return false;
		coef[idx[r]] = x[r];
	}
	*err_r = 0;
	for (size_t i = 0; i < n; i++) {
		double p = coef[0] + coef[1] * s[i].messages +
			coef[2] * s[i].bytes;
		double e = (p - s[i].seconds) / s[i].seconds;

		*err_r += e * e;
	}
	return true;
}

void time_model_fit(const struct time_sample *s, size_t n,
		    struct time_model *m)
{
	double best[TERMS] = { 0, 0, 0 }, best_err = INFINITY;
	int best_k = 0;
	size_t used = 0;

	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < n; i++)
		used += s[i].seconds > 0;
	if (used == 0 || used != n)
		return;
	/* fewer terms first; of one term, bytes first (a single folder
	 * tells nothing more than its throughput) */
	static const int masks[] = { 4, 2, 1, 6, 5, 3, 7 };

	for (size_t o = 0; o < sizeof(masks) / sizeof(masks[0]); o++) {
		int mask = masks[o];
		double coef[TERMS], err;
		int k = __builtin_popcount((unsigned int)mask);

		if ((size_t)k > n || !fit_subset(s, n, mask, coef, &err))
			continue;
		/* a term more must earn its place: 1% less error (and any
		 * other fit a clear improvement, not rounding) */
		if (best_err == INFINITY ||
		    err + 1e-9 < best_err * (k > best_k ? 0.99 : 1.0)) {
			memcpy(best, coef, sizeof(best));
			best_err = err;
			best_k = k;
		}
	}
	m->per_folder = best[0];
	m->per_message = best[1];
	m->per_byte = best[2];
	m->samples = (unsigned int)n;
	if (n <= TERMS) {
		m->spread = 0.3;
	} else {
		m->spread = 2 * sqrt(best_err / (double)n);
		if (m->spread < 0.15)
			m->spread = 0.15;
	}
}

double time_model_predict(const struct time_model *m, double folders,
			  double messages, double bytes)
{
	return m->per_folder * folders + m->per_message * messages +
		m->per_byte * bytes;
}
