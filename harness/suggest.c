/* suggest: the nearest known word to a mistyped one. */
#include "suggest.h"

#include "schema.h"

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

void suggest_consider(struct suggest *s, const char *candidate)
{
    if (!candidate || !s->word)
        return;
    char a[72], b[72];
    lower(s->word, a, sizeof(a));
    lower(candidate, b, sizeof(b));
    size_t d = schema_edit_distance(a, b);
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
