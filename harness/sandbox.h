/* sandbox: the parts of a test system this process runs itself - both recording receivers, and
 * (unless the harness checks an external target) the reference OMS, each on its own port. The
 * harness runs one per job; `refund-harness serve` runs one for an ERP to call. */
#ifndef SANDBOX_H
#define SANDBOX_H

#include "oms_error.h"
#include "oms_http_server.h"

struct sandbox;

struct sandbox_config {
    const char *profile_path; /* the reference's profile; NULL: the default */
    int receivers_only;       /* no reference: an external target is checked */
    const char *bind;         /* NULL: 127.0.0.1 */
    unsigned oms_port;        /* 0: ephemeral */
    const char *db_path;      /* the reference's database; NULL: memory */
    unsigned threads;         /* the reference's HTTP threads; 0: 2 */
    /* The one fixture token of the reference and both receivers; NULL: $REFUND_FIXTURE_TOKEN,
     * else a random one. */
    const char *fixture_token;
    struct oms_http_limits limits; /* every listener's bounds; 0 fields: the defaults */
    /* The receivers' ports (main and control listeners); 0: ephemeral. */
    unsigned omnitron_port, omnitron_control_port, webhook_port, webhook_control_port;
};

/* Starts the receivers and, unless receivers_only, the reference (told where Omnitron is).
 * Returns 0 and *out, or OMS_E_ENV with err naming the part that failed (nothing left running). */
int sandbox_start(const struct sandbox_config *cfg, struct sandbox **out, struct oms_err *err);
void sandbox_stop(struct sandbox *s);

/* The fixture token of all three (borrowed), and whether it was made up at start. */
const char *sandbox_fixture_token(const struct sandbox *s);
int sandbox_fixture_token_generated(const struct sandbox *s);
/* The reference's first API token (borrowed); NULL when receivers_only. */
const char *sandbox_api_token(const struct sandbox *s);

/* NULL when receivers_only. */
const char *sandbox_oms_url(const struct sandbox *s);
const char *sandbox_omnitron_url(const struct sandbox *s);
const char *sandbox_webhook_url(const struct sandbox *s);
const char *sandbox_omnitron_control_url(const struct sandbox *s);
const char *sandbox_webhook_control_url(const struct sandbox *s);
/* The receivers themselves (borrowed), for callers in this process. */
struct oms_recorder *sandbox_omnitron(struct sandbox *s);
struct oms_recorder *sandbox_webhook(struct sandbox *s);

#endif
