/* suggest: "did you mean" - the nearest of a set of known words to a mistyped one, by edit
 * distance (a swap of two neighbours is one edit), case-insensitively, within a distance that
 * grows with the word's length. */
#ifndef SUGGEST_H
#define SUGGEST_H

#include <stddef.h>

/* The best candidate seen so far for word; zero-initialise, then feed candidates. */
struct suggest {
    const char *word; /* what was typed (borrowed) */
    const char *best; /* the nearest close-enough candidate (borrowed), or NULL */
    size_t distance;
};

/* Starts a search for word (borrowed for the search's life). */
void suggest_init(struct suggest *s, const char *word);
/* Considers one candidate (borrowed; NULL ignored). An exact case-insensitive match wins at
 * distance 0. A candidate is close enough when its distance is at most a third of the longer
 * length, and at least 1 (so "Q-01" finds "Q-1", "webhok" finds "webhooks"). */
void suggest_consider(struct suggest *s, const char *candidate);
/* The same over an array of n candidates. Returns s->best (NULL: nothing close). */
const char *suggest_among(struct suggest *s, const char *const *candidates, size_t n);

/* Appends " (did you mean \"BEST\"?)" to out (size bytes, NUL-terminated) when s found one;
 * returns out. */
char *suggest_append(const struct suggest *s, char *out, size_t size);

#endif
