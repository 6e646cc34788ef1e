/* oms_cli: small helpers the standalone programs share for their options. */
#ifndef OMS_CLI_H
#define OMS_CLI_H

/* Parses a decimal integer in [min, max] that fills the whole string. Returns 0, or OMS_E_INVAL
 * (nothing is written) when it is not one. */
int oms_cli_int(const char *s, long min, long max, long *out);

#endif
