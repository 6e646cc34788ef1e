/* bench_stats: latency samples and the summary figures the benchmarks report (percentiles,
 * medians, a least-squares slope). */
#ifndef BENCH_STATS_H
#define BENCH_STATS_H

#include <stddef.h>
#include <stdint.h>

/* A growable list of durations in microseconds. */
struct bench_samples {
    double *v;
    size_t n;
    size_t cap;
    int sorted;
};

/* Prepares an empty list; never fails. */
void bench_samples_init(struct bench_samples *s);
/* Appends one duration (allocation failure aborts). */
void bench_samples_add(struct bench_samples *s, double us);
/* Frees the list; it is empty and reusable afterwards. NULL allowed. */
void bench_samples_cleanup(struct bench_samples *s);
/* The p-th percentile (0..100, nearest rank); sorts the list in place. 0 when empty. */
double bench_samples_pct(struct bench_samples *s, double p);
/* Arithmetic mean; 0 when empty. */
double bench_samples_mean(const struct bench_samples *s);

/* Median of n values (v is not changed); 0 when n is 0. */
double bench_median(const double *v, size_t n);
/* Least-squares slope of y over x for n points; 0 when fewer than two distinct x. */
double bench_slope(const double *x, const double *y, size_t n);

/* Parses a comma-separated list of integers in [lo, hi] ("1,8,32") into out (at most max).
 * Returns how many, or 0 when the list is empty or malformed. */
size_t bench_parse_list(const char *s, long lo, long hi, uint64_t *out, size_t max);

#endif
