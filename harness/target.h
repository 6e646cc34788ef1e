/* target: the harness's side of the wire - the system under test (command endpoint and fixture
 * protocol, docs/fixture-protocol.md), always over real HTTP, so the same code checks the embedded
 * sandbox and an external target; and the two recording receivers, over their control HTTP API
 * when the user runs them, by direct calls when they live in this process. */
#ifndef TARGET_H
#define TARGET_H

#include <jansson.h>
#include <stdint.h>

#include "oms_error.h"
#include "oms_http_client.h"
#include "oms_recorder.h"

struct target;

struct target_config {
    const char *oms_url;              /* base URL of the system under test */
    const char *omnitron_url;         /* base URL of the Omnitron receiver */
    const char *webhook_url;          /* base URL of the webhook receiver */
    const char *omnitron_control_url; /* the receivers' control listeners; NULL: the URLs above */
    const char *webhook_control_url;
    /* Receivers running in this process (borrowed, both or neither): their control calls skip
     * the loopback round trip. The target itself is always reached over HTTP. */
    struct oms_recorder *omnitron_recorder;
    struct oms_recorder *webhook_recorder;
    long timeout_ms; /* per request; 0: 10 s */
    /* Sent as X-Fixture-Token on every fixture-protocol and receiver-control call; NULL:
     * $REFUND_FIXTURE_TOKEN (none when unset). */
    const char *fixture_token;
    /* The target's API token, for when GET /_fixture/profile hides its tokens ("***"); NULL:
     * none known (target_profile then says to pass --token). */
    const char *api_token;
};

/* Never NULL; URLs are copied. One target per thread (it owns an HTTP client). */
struct target *target_create(const struct target_config *cfg);
void target_destroy(struct target *t);

/* The base URLs of the OMS and of both receivers (borrowed), and
 * the target's HTTP client (borrowed, for the thread that owns the target). */
const char *target_oms_url(const struct target *t);
const char *target_omnitron_url(const struct target *t);
const char *target_webhook_url(const struct target *t);
struct oms_http_client *target_client(struct target *t);
/* The fixture token sent to the target (borrowed), or NULL when none is known. */
const char *target_fixture_token(const struct target *t);
long target_timeout_ms(const struct target *t);

/* Fixture protocol. Each returns 0, or a negative code with err naming the URL and what came back
 * (OMS_E_ENV when nothing answered; OMS_E_INVAL when the target refused, with its message, or
 * with the status, content type and first line of an answer that is not the protocol's). */
/* The handshake: GET /_fixture/ -> {"protocol", "version": 1, "capabilities": [...]}. Also
 * notes whether the target answers with its state ("state-answer"), saving a round trip below. */
int target_capabilities(struct target *t, json_t **doc, struct oms_err *err);
/* The HTTP status of the last call to the target, 0 when nothing answered it. */
long target_last_status(const struct target *t);
/* GET /_fixture/profile. A profile whose tokens are redacted ("***") gets the known API token in
 * their place; with none known, OMS_E_INVAL says to pass --token. */
int target_profile(struct target *t, json_t **profile, struct oms_err *err);
/* GET /_fixture/journal: {"commands": [...]} (new reference). */
int target_journal(struct target *t, json_t **doc, struct oms_err *err);
/* Loads a fixture; with state not NULL, *state gets the state after loading (new reference). */
int target_load(struct target *t, const json_t *fixture, json_t **state, struct oms_err *err);
int target_state(struct target *t, json_t **state, struct oms_err *err);
/* Drains the outbox; with state not NULL, *state gets the state afterwards (new reference). */
int target_drain(struct target *t, int64_t timeout_ms, json_t **result, json_t **state,
                 struct oms_err *err);

/* Receivers: which is "omnitron" or "webhook". */
int target_receiver_reset(struct target *t, const char *which, struct oms_err *err);
int target_receiver_configure(struct target *t, const char *which, const json_t *behaviour,
                              struct oms_err *err);
/* The journal entries (a new array). */
int target_receiver_journal(struct target *t, const char *which, json_t **requests,
                            struct oms_err *err);

#endif
