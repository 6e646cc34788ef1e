/* oms_str: string helpers. */
#include "oms_str.h"

#include <ctype.h>

char *oms_str_lower(char *out, size_t size, const char *in)
{
    size_t i = 0;
    for (; in && in[i] && i + 1 < size; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    out[i] = '\0';
    return out;
}
