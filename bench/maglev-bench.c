// SPDX-License-Identifier: GPL-2.0
/*
 * Maglev table build time and disruption. Standalone:
 *   gcc -O2 -Isrc bench/maglev-bench.c src/maglev.c -o maglev-bench && ./maglev-bench [--quick]
 * For each (backends, table size): build time over RUNS builds (median, min, max), then the share
 * of slots that move when one backend (the middle one in key order) is removed and when one new
 * backend is added, split into the backend's own slots and everybody else's (the excess over the
 * ideal). --quick: 3 runs instead of 5 and no 10,000-backend rows.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "maglev.h"

struct row {
	size_t n;
	uint32_t size;
	int weighted; /* weights 1..10 instead of all 1 */
	int full_only;
};

static const struct row rows[] = {
	{ 10, 65537, 0, 0 },	 { 100, 65537, 0, 0 },	  { 1000, 65537, 0, 0 },
	{ 10000, 65537, 0, 1 },	 { 10000, 655373, 0, 1 }, { 1000, 65537, 1, 0 },
};

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Slots that changed: those of backend id (removed or added) and those of anybody else. */
static void moved(const uint32_t *a, const uint32_t *b, uint32_t size, uint32_t id, size_t *own,
		  size_t *other)
{
	*own = *other = 0;
	for (uint32_t i = 0; i < size; i++) {
		if (a[i] == b[i])
			continue;
		if (a[i] == id || b[i] == id)
			(*own)++;
		else
			(*other)++;
	}
}

int main(int argc, char **argv)
{
	int quick = argc > 1 && !strcmp(argv[1], "--quick"), runs = quick ? 3 : 5;

	if (argc > 1 && !quick) {
		fprintf(stderr, "usage: %s [--quick]\n", argv[0]);
		return 2;
	}
	printf("Maglev build time (median of %d runs, [min..max]) and disruption (%% of table)\n",
	       runs);
	printf("%-8s %-8s %-9s %-24s %-22s %-22s\n", "backends", "size", "weights", "build ms",
	       "remove one: own+other", "add one: own+other");
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		const struct row *w = &rows[r];
		size_t n = w->n, own, other, own2, other2;
		struct xl4_maglev_backend *b = calloc(n + 1, sizeof(*b));
		char (*keys)[48] = calloc(n + 1, sizeof(*keys));
		uint32_t *full = malloc(w->size * sizeof(*full)), *less = malloc(w->size * sizeof(*less));
		uint32_t *more = malloc(w->size * sizeof(*more));
		double t[5];
		size_t mid = n / 2;
		uint32_t wmid;
		unsigned long long rng = 0x9e3779b97f4a7c15ULL; /* same weights in every mode */
		int err;

		if (quick && w->full_only)
			continue;
		if (!b || !keys || !full || !less || !more) {
			fprintf(stderr, "out of memory\n");
			return 1;
		}
		for (size_t i = 0; i <= n; i++) {
			snprintf(keys[i], sizeof(keys[i]), "198.%zu.%zu.%zu:8080", 18 + i / 62500,
				 i / 250 % 250, i % 250 + 1);
			rng ^= rng >> 12, rng ^= rng << 25, rng ^= rng >> 27;
			b[i] = (struct xl4_maglev_backend){
				.key = keys[i],
				.weight = w->weighted ? 1 + (rng * 0x2545F4914F6CDD1DULL >> 33) % 10 : 1,
				.id = (uint32_t)i,
			};
		}
		for (int k = 0; k < runs; k++) {
			double t0 = now_sec();

			err = xl4_maglev_build(b, n, w->size, 1, full);
			t[k] = (now_sec() - t0) * 1e3;
			if (err) {
				fprintf(stderr, "build %zu at %u: %s\n", n, w->size, strerror(-err));
				return 1;
			}
		}
		qsort(t, runs, sizeof(t[0]), cmp_double);

		/* Remove the middle backend: build with it drained (same as removed). */
		wmid = b[mid].weight;
		b[mid].weight = 0;
		err = xl4_maglev_build(b, n, w->size, 1, less);
		b[mid].weight = wmid;
		/* Add backend n, which was never there. */
		if (!err)
			err = xl4_maglev_build(b, n + 1, w->size, 1, more);
		if (err) {
			fprintf(stderr, "build: %s\n", strerror(-err));
			return 1;
		}
		moved(full, less, w->size, (uint32_t)mid, &own, &other);
		moved(full, more, w->size, (uint32_t)n, &own2, &other2);
		printf("%-8zu %-8u %-9s %7.2f [%6.2f..%6.2f]  %5.2f%% = %5.2f + %4.2f   %5.2f%% = %5.2f + "
		       "%4.2f\n",
		       n, w->size, w->weighted ? "1..10" : "equal", t[runs / 2], t[0], t[runs - 1],
		       100.0 * (own + other) / w->size, 100.0 * own / w->size,
		       100.0 * other / w->size, 100.0 * (own2 + other2) / w->size,
		       100.0 * own2 / w->size, 100.0 * other2 / w->size);
		free(b);
		free(keys);
		free(full);
		free(less);
		free(more);
	}
	return 0;
}
