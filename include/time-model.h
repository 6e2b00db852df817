/* SPDX-License-Identifier: MIT */
#ifndef M2D_TIME_MODEL_H
#define M2D_TIME_MODEL_H

/*
 * How long a migration takes, from a timed sample: a cost per folder,
 * per message and per byte, fitted to the folders of the sample.
 */

#include <stddef.h>

struct time_sample {
	double messages, bytes;	/* of one folder */
	double seconds;		/* converting it (staged and installed) */
};

struct time_model {
	double per_folder, per_message, per_byte;	/* seconds */
	double spread;		/* relative half-width of the range */
	unsigned int samples;
};

/*
 * Fit seconds = per_folder + per_message x messages + per_byte x bytes
 * to the N samples, by least squares on the relative error, each cost
 * >= 0 (the best of the fits on every subset of the three terms).  The
 * spread is twice the fit's relative RMS error, at least 15% (30% when
 * the samples cannot tell the three apart).  N 0: all zero.
 */
void time_model_fit(const struct time_sample *s, size_t n,
		    struct time_model *m);

/* The model's seconds for FOLDERS folders of MESSAGES and BYTES. */
double time_model_predict(const struct time_model *m, double folders,
			  double messages, double bytes);

#endif
