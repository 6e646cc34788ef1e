/* oms_cli: option value parsing. */
#include "oms_cli.h"

#include <errno.h>
#include <stdlib.h>

int oms_cli_int(const char *s, long min, long max, long *out)
{
    if (!s || !*s)
        return -1;
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}
