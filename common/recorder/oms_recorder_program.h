/* oms_recorder_program: what the two receiver programs (mock-omnitron, mock-webhook) share - the
 * options of the listeners and the journal, and serving until SIGINT or SIGTERM. */
#ifndef OMS_RECORDER_PROGRAM_H
#define OMS_RECORDER_PROGRAM_H

#include <stddef.h>
#include <stdio.h>

#include "oms_recorder.h"
#include "oms_server_options.h"

struct oms_recorder_options {
    struct oms_server_options server; /* bind, fixture token, limits */
    unsigned port;
    unsigned control_port;
    size_t journal_limit;      /* 0: the default */
    size_t journal_bytes;      /* 0: the default */
    size_t journal_body_bytes; /* 0: the default */
};

/* The usage lines of those options, for a program's --help. */
void oms_recorder_options_usage(FILE *out);
/* Takes argv[*i] when it is --port, --control-port, a journal bound or one of oms_server_options
 * with a good value:
 * returns 1 and moves *i past the value. Returns 0 for any other argument (the program's own, or
 * a mistake it reports). */
int oms_recorder_option(struct oms_recorder_options *o, int argc, char **argv, int *i);
/* Prints "<program>: listening on URL" and "<program>: control on URL" (and on stderr the fixture
 * token when it was generated, and a warning for a non-loopback bind), serves until SIGINT or
 * SIGTERM (blocked since start-up, see oms_signal.h), then stops r. Returns 0, the exit status. */
int oms_recorder_serve(struct oms_recorder *r, const char *program, const char *bind);

#endif
