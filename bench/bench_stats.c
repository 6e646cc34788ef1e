/* bench_stats: sample lists, percentiles, medians and slopes. */
#include "bench_stats.h"

#include "oms_alloc.h"
#include "oms_cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bench_samples_init(struct bench_samples *s)
{
    memset(s, 0, sizeof(*s));
}

void bench_samples_add(struct bench_samples *s, double us)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->v = oms_xrealloc(s->v, s->cap * sizeof(*s->v));
    }
    s->v[s->n++] = us;
    s->sorted = 0;
}

void bench_samples_cleanup(struct bench_samples *s)
{
    if (!s)
        return;
    free(s->v);
    memset(s, 0, sizeof(*s));
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_samples_pct(struct bench_samples *s, double p)
{
    if (s->n == 0)
        return 0;
    if (!s->sorted) {
        qsort(s->v, s->n, sizeof(*s->v), cmp_double);
        s->sorted = 1;
    }
    double rank = ceil(p / 100.0 * (double)s->n);
    size_t i = rank < 1 ? 0 : (size_t)rank - 1;
    return s->v[i < s->n ? i : s->n - 1];
}

double bench_samples_mean(const struct bench_samples *s)
{
    if (s->n == 0)
        return 0;
    double sum = 0;
    for (size_t i = 0; i < s->n; i++)
        sum += s->v[i];
    return sum / (double)s->n;
}

double bench_median(const double *v, size_t n)
{
    if (n == 0)
        return 0;
    double *copy = oms_xmalloc(n * sizeof(*copy));
    memcpy(copy, v, n * sizeof(*copy));
    qsort(copy, n, sizeof(*copy), cmp_double);
    double m = n % 2 ? copy[n / 2] : (copy[n / 2 - 1] + copy[n / 2]) / 2;
    free(copy);
    return m;
}

double bench_slope(const double *x, const double *y, size_t n)
{
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; i++) {
        mx += x[i];
        my += y[i];
    }
    if (n < 2)
        return 0;
    mx /= (double)n;
    my /= (double)n;
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num += (x[i] - mx) * (y[i] - my);
        den += (x[i] - mx) * (x[i] - mx);
    }
    return den > 0 ? num / den : 0;
}

size_t bench_parse_list(const char *s, long lo, long hi, uint64_t *out, size_t max)
{
    char copy[256];
    snprintf(copy, sizeof(copy), "%s", s);
    size_t count = 0;
    for (char *p = copy; *p && count < max;) {
        char *end = p + strcspn(p, ",");
        int last = *end == '\0';
        *end = '\0';
        long n;
        if (oms_cli_int(p, lo, hi, &n) != 0)
            return 0;
        out[count++] = (uint64_t)n;
        if (last)
            break;
        p = end + 1;
    }
    return count;
}
