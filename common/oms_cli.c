/* oms_cli: option value parsing. */
#include "oms_cli.h"

#include "oms_error.h"

#include <errno.h>
#include <stdlib.h>

int oms_cli_int(const char *s, long min, long max, long *out)
{
    if (!s || !*s)
        return OMS_E_INVAL;
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return OMS_E_INVAL;
    *out = v;
    return 0;
}
