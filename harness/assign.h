/* assign: finds a pairing of n expected elements with distinct actual elements out of m, given
 * which pairs are compatible - the engine of unordered comparisons ($unordered, $contains, calls in
 * any order). Exact (augmenting paths), so overlapping matchers never cause a false mismatch. */
#ifndef ASSIGN_H
#define ASSIGN_H

#include <stddef.h>

/* compat[i * m + j] is nonzero when expected i may pair with actual j. Returns 0 with pairing[i]
 * the actual element of expected i (all distinct), or OMS_E_NOENT when no pairing gives every
 * expected element its own actual one (pairing is then unspecified). */
int assign_pairs(size_t n, size_t m, const unsigned char *compat, size_t *pairing);

#endif
