/* suggest: the nearest known word to a mistyped one. */
#include "suggest.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

void suggest_init(struct suggest *s, const char *word)
{
    s->word = word;
    s->best = NULL;
    s->distance = (size_t)-1;
}

/* Lower-cased copy into out (truncated to size - 1 bytes). */
static void lower(const char *in, char *out, size_t size)
{
    size_t i = 0;
    for (; in[i] && i + 1 < size; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    out[i] = '\0';
}

/* Edit distance where swapping two neighbours costs one edit, as one slip of the fingers does
 * ("jbos", "pakc"): the optimal string alignment distance. Both are at most 71 bytes. */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t d[72][72];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

void suggest_consider(struct suggest *s, const char *candidate)
{
    if (!candidate || !s->word)
        return;
    char a[72], b[72];
    lower(s->word, a, sizeof(a));
    lower(candidate, b, sizeof(b));
    size_t d = distance(a, b);
    size_t longer = strlen(a) > strlen(b) ? strlen(a) : strlen(b);
    size_t limit = longer / 3 > 0 ? longer / 3 : 1;
    if (d <= limit && d < s->distance) {
        s->best = candidate;
        s->distance = d;
    }
}

const char *suggest_among(struct suggest *s, const char *const *candidates, size_t n)
{
    for (size_t i = 0; i < n; i++)
        suggest_consider(s, candidates[i]);
    return s->best;
}

char *suggest_append(const struct suggest *s, char *out, size_t size)
{
    size_t used = strlen(out);
    if (s->best && used < size)
        snprintf(out + used, size - used, " (did you mean \"%s\"?)", s->best);
    return out;
}
