/* support: helpers shared by the tests - paths to repository data, loading the default profile,
 * and for the integration tests: HTTP exchanges, the E-1 error envelope, the fixture protocol. */
#ifndef SUPPORT_H
#define SUPPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka needs the includes above first. */
#include <cmocka.h>

#include <jansson.h>

#include "oms_http_client.h"
#include "oms_profile.h"

struct reference;

/* "<repository>/<relative>" into a static buffer (valid until the next call). */
const char *support_path(const char *relative);
/* The repository's default profile; the caller unrefs it. Fails the test when it cannot load. */
struct oms_profile *support_default_profile(void);

/* The default profile for a whole group of tests: support_profile_setup loads it into
 * support_profile (a cmocka group setup), support_profile_teardown releases it. */
extern struct oms_profile *support_profile;
int support_profile_setup(void **state);
int support_profile_teardown(void **state);

/* Parses test JSON (any value); fails the test with the reason when it does not parse. New
 * reference. */
json_t *support_parse(const char *text);

/* The default profile's first token, and the Authorization header that carries it. */
#define SUPPORT_TOKEN      "refund-harness-token"
#define SUPPORT_AUTH       "Authorization: Token " SUPPORT_TOKEN
#define SUPPORT_JSON_CTYPE "Content-Type: application/json"

/* The fixture token every server started by a test uses (support.c puts it in the environment as
 * REFUND_FIXTURE_TOKEN before main), and the header that carries it. support_http adds the header
 * to /_fixture and /__ calls. */
#define SUPPORT_FIXTURE_TOKEN  "test-fixture-token"
#define SUPPORT_FIXTURE_HEADER "X-Fixture-Token: " SUPPORT_FIXTURE_TOKEN

/* A printf into a new string the caller frees; never NULL. */
char *support_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Performs method on base+path with the given "Name: value" header lines (NULL-terminated list,
 * or NULL for none) and body (NULL for none). Returns the HTTP status, or 0 on a transport failure
 * (x->result and x->error say which); never fails the test itself. The caller releases the
 * response with oms_http_exchange_cleanup(x); x->url is left NULL. */
long support_http(struct oms_http_client *c, struct oms_http_exchange *x, const char *method,
                  const char *base, const char *path, const char *const *headers, const char *body,
                  size_t body_len);
/* The response body parsed as JSON (new reference), or NULL when it is not JSON. */
json_t *support_json(const struct oms_http_exchange *x);
/* Asserts SPEC E-1's envelope: the status, a JSON content type and a body of exactly
 * {"error": {<field>: [<non-empty string>, ...], ...}, "status_code": status} with at least one
 * field. When field is not NULL it must be one of the error's keys. Fails the test otherwise. */
void support_assert_envelope(const struct oms_http_exchange *x, long status, const char *field);
/* The same check without failing: returns 0, or -1 with the reason in why. */
int support_check_envelope(const struct oms_http_exchange *x, long status, const char *field,
                           char *why, size_t size);
/* The first message of the error's field (borrowed from err), or NULL. */
const char *support_error_message(const json_t *envelope, const char *field);

/* Starts an in-memory reference on 127.0.0.1 port 0 with the default profile; fails the test
 * when it cannot. Stop it with reference_stop. */
struct reference *support_reference_start(void);
/* An in-memory reference on 127.0.0.1 port 0 with a client to call it: started by
 * support_ref_start (failing the test when it cannot), stopped and freed by support_ref_stop. */
struct support_ref {
    struct reference *ref;
    struct oms_http_client *client;
    const char *base; /* the reference's URL */
};
void support_ref_start(struct support_ref *r);
void support_ref_stop(struct support_ref *r);

/* An in-process Omnitron mock (expecting omnitron_token) and webhook mock on 127.0.0.1 port 0:
 * started by support_receivers_start (failing the test when it cannot), stopped by
 * support_receivers_stop. */
struct oms_recorder;
struct support_receivers {
    struct oms_recorder *omnitron;
    struct oms_recorder *webhook;
};
void support_receivers_start(struct support_receivers *rv, const char *omnitron_token);
void support_receivers_stop(struct support_receivers *rv);
/* Sets a mock's behaviour (the JSON text of PUT /__behaviour); fails the test when refused. */
void support_behave(struct oms_recorder *r, const char *behaviour);

/* PUT /_fixture/state with the fixture text. Returns the status; *answer (NULL allowed) receives
 * the parsed answer body or NULL. */
long support_put_state(struct oms_http_client *c, const char *base, const char *fixture,
                       json_t **answer);
/* PUT /_fixture/state that must succeed (204); fails the test with the answer otherwise. */
void support_load(struct oms_http_client *c, const char *base, const char *fixture);
/* GET /_fixture/state (new reference); fails the test unless it answers 200 with JSON. */
json_t *support_get_state(struct oms_http_client *c, const char *base);
/* POST /_fixture/drain?timeout_ms=T (new reference); fails the test unless 200 with JSON. */
json_t *support_drain(struct oms_http_client *c, const char *base, long timeout_ms);
/* POST /api/v1/oms/packages/<id>/command/ with the default token and the JSON body. Returns the
 * status (0 on a transport failure); x is cleaned by the caller. */
long support_command(struct oms_http_client *c, struct oms_http_exchange *x, const char *base,
                     long long package_id, const char *body);

/* Asserts json_equal(actual, expected), showing both when they differ. */
void support_assert_json_equal(const json_t *actual, const json_t *expected);

/* The element of the JSON array whose integer "id" is id (borrowed), or NULL. */
json_t *support_find_id(const json_t *array, long long id);
/* The first object of array whose string member key equals value (borrowed), or NULL. */
json_t *support_find_string(const json_t *array, const char *key, const char *value);

#endif
