/* serve: the sandbox for an ERP that calls the command - `refund-harness serve` runs the reference
 * OMS and both receivers until Ctrl-C, loading an initial state from a scenario's given, and
 * `refund-harness journal` shows what a sandbox received, did and sent. */
#ifndef SERVE_H
#define SERVE_H

#include <jansson.h>

#include "oms_server_options.h"
#include "schema.h"

struct serve_options {
    struct oms_server_options server; /* bind, fixture token, limits */
    unsigned port;                    /* the OMS port; 0: ephemeral */
    const char *db_path;              /* NULL: memory */
    const char *profile_path;         /* NULL: default */
    const char *given_file;           /* a scenario file whose given is loaded; NULL: empty state */
};

/* Runs the sandbox until SIGINT/SIGTERM (which the caller blocked before any thread started).
 * With db_path, the receivers' ports are kept in "<db_path>.ports.json" and reused on the next
 * start, so the receiver URLs the database stores stay right; given_file seeds only a database
 * that is new (empty or missing) - a restart goes on from where the sandbox stopped. Returns an
 * exit code: 0, 2 (invalid --given file) or 3 (could not start, e.g. a kept port is taken). */
int serve_run(const struct serve_options *opt, struct schema *schema, const json_t *rules);

/* Prints the journal of the sandbox at url (fixture_token NULL: $REFUND_FIXTURE_TOKEN): commands
 * received (with the error answered to each rejected one), transitions made, what was sent to
 * Omnitron and the webhook receivers with the outcome, and warnings about what an ERP probably
 * got wrong (a body key the command does not read, a slug near a real one, a subscription to an
 * event type no transition sends) - as tables, or as one JSON document. Returns an exit code: 0,
 * or 3 when the sandbox does not answer. */
int serve_journal(const char *url, const char *fixture_token, int as_json);

#endif
