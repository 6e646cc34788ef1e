/* oms_str: small string helpers the servers and the harness share. */
#ifndef OMS_STR_H
#define OMS_STR_H

#include <stddef.h>

/* Copies in into out (size > 0) in ASCII lower case, cut to fit; returns out. For HTTP header
 * names, which compare case-insensitively. */
char *oms_str_lower(char *out, size_t size, const char *in);

#endif
