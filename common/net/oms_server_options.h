/* oms_server_options: the options every server program shares (oms-reference, mock-omnitron,
 * mock-webhook, refund-harness serve) - the listen address, the fixture token and the resource
 * bounds of its listeners - and what such a program says about them at start. */
#ifndef OMS_SERVER_OPTIONS_H
#define OMS_SERVER_OPTIONS_H

#include <stdio.h>

#include "oms_http_server.h"

struct oms_server_options {
    const char *bind;          /* NULL: 127.0.0.1 */
    const char *fixture_token; /* NULL: $REFUND_FIXTURE_TOKEN, else a random one */
    struct oms_http_limits limits;
};

/* The usage lines of those options, for a program's --help. */
void oms_server_options_usage(FILE *out);
/* Takes argv[*i] when it is --bind, --fixture-token, --request-timeout, --idle-timeout,
 * --max-connections or --max-client-connections with a good value: returns 1 and moves *i past
 * the value. Returns 0 for any other argument or a bad value (the caller reports it). */
int oms_server_option(struct oms_server_options *o, int argc, char **argv, int *i);
/* On stderr: the fixture token when it was generated (one line, once), and a warning naming what
 * is exposed when bind is not a loopback address. */
void oms_server_announce(const char *program, const char *bind, const char *fixture_token,
                         int generated, const char *exposed);

#endif
