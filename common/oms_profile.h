/* oms_profile: installation data of an OMS (SPEC P-1) - status catalogue, transitions, quota
 * counting set, Omnitron mapping, sync default, tokens, limits. Every SPEC assumption lives in
 * the profile document, never in C: a key a profile leaves out takes the built-in default
 * profile's value. A profile is immutable once built and reference-counted, so a request keeps the
 * one it started with while a fixture load installs another. */
#ifndef OMS_PROFILE_H
#define OMS_PROFILE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "oms_error.h"

struct oms_profile;

struct oms_profile_status {
    char *name; /* "Out of Stock" */
    char *key;  /* "out_of_stock": lower-case name with '_' for spaces */
    int64_t value;
    int published; /* the vendor documentation gives this number (else SPEC A-1) */
    int counts;    /* counts toward its location's quota (SPEC) */
};

struct oms_profile_transition {
    int64_t id;
    char *slug;
    char *name;
    int64_t *sources;
    size_t source_count;
    int64_t target;
    int64_t *delete_reservations_from; /* SPEC C-7, A-3 */
    size_t delete_reservations_count;
    int64_t *delete_discrepancies_from;
    size_t delete_discrepancies_count;
    int sync_remote;  /* informs Omnitron of moved items (SPEC C-8) */
    char *event_type; /* webhook event type (SPEC C-9); NULL: none */
};

/* Builds a profile from a JSON document. source names it in errors. Unknown keys are errors, so a
 * typo in an override never passes silently. Returns 0 and *out (one reference), or OMS_E_INVAL
 * with err naming the JSON path and what was expected. */
int oms_profile_from_json(const json_t *doc, const char *source, struct oms_profile **out,
                          struct oms_err *err);
/* profiles/default.json as built in at compile time (cmake/embed.cmake): its bytes, not
 * NUL-terminated. Every default a profile leaves out comes from this document, never from C. */
extern const unsigned char oms_profile_default_doc[];
extern const size_t oms_profile_default_doc_len;

/* Builds the built-in default profile. Same contract as oms_profile_from_json. */
int oms_profile_load_default(struct oms_profile **out, struct oms_err *err);
/* Reads and builds a profile file. Same contract; I/O and parse errors carry line and column. */
int oms_profile_load_file(const char *path, struct oms_profile **out, struct oms_err *err);
/* A new profile: base's document with patch merged in (RFC 7396: objects merge, arrays and
 * scalars replace, null deletes). Same contract; base is unchanged. */
int oms_profile_with_overrides(const struct oms_profile *base, const json_t *patch,
                               struct oms_profile **out, struct oms_err *err);

/* Reference counting; unref of NULL is allowed. */
struct oms_profile *oms_profile_ref(struct oms_profile *p);
void oms_profile_unref(struct oms_profile *p);

/* The effective document (borrowed). */
const json_t *oms_profile_json(const struct oms_profile *p);
const char *oms_profile_name(const struct oms_profile *p);

/* Resolves a status given by number (100), numeric string ("100"), name ("Out of Stock") or key
 * ("out_of_stock"), case-insensitively. Returns 0 or OMS_E_NOENT. */
int oms_profile_status_resolve(const struct oms_profile *p, const json_t *ref, int64_t *value);
const struct oms_profile_status *oms_profile_status_by_value(const struct oms_profile *p,
                                                             int64_t value);
size_t oms_profile_status_count(const struct oms_profile *p);
const struct oms_profile_status *oms_profile_status_at(const struct oms_profile *p, size_t i);
/* "Waiting (100)", or "unknown status (123)"; into out, returned. */
char *oms_profile_status_label(const struct oms_profile *p, int64_t value, char *out, size_t size);

/* Transitions by id, by slug, or by position (borrowed from p; NULL when there is none). */
const struct oms_profile_transition *oms_profile_transition_by_id(const struct oms_profile *p,
                                                                  int64_t id);
const struct oms_profile_transition *oms_profile_transition_by_slug(const struct oms_profile *p,
                                                                    const char *slug);
size_t oms_profile_transition_count(const struct oms_profile *p);
const struct oms_profile_transition *oms_profile_transition_at(const struct oms_profile *p,
                                                               size_t i);
/* SPEC C-5, C-7, A-3: 1 when t may leave source; when it deletes the package's reservations or
 * discrepancies from source. */
int oms_profile_transition_allows(const struct oms_profile_transition *t, int64_t source);
int oms_profile_transition_deletes_reservations(const struct oms_profile_transition *t,
                                                int64_t source);
int oms_profile_transition_deletes_discrepancies(const struct oms_profile_transition *t,
                                                 int64_t source);

/* SPEC Q-2: 1 when a package in this status counts toward its location's quota. */
int oms_profile_counts(const struct oms_profile *p, int64_t status);

/* Omnitron sync (SPEC C-8, A-4). The mapped status is NULL when the profile maps none. */
const char *oms_profile_omnitron_status(const struct oms_profile *p, int64_t status);
const char *oms_profile_omnitron_method(const struct oms_profile *p);
const char *oms_profile_omnitron_path(const struct oms_profile *p);
int oms_profile_sync_default(const struct oms_profile *p);

/* The API tokens, a NULL-terminated list with at least one (borrowed). The core compares no
 * secret: a request's token is checked against these with oms_secret_in (oms_crypto), at the
 * HTTP edge. */
const char *const *oms_profile_tokens(const struct oms_profile *p);
/* The first token, for tools that call the API on a user's behalf. */
const char *oms_profile_default_token(const struct oms_profile *p);
size_t oms_profile_max_body(const struct oms_profile *p);
/* Webhook signature header name and value prefix (SPEC O-3, A-6). */
const char *oms_profile_signature_header(const struct oms_profile *p);
const char *oms_profile_signature_prefix(const struct oms_profile *p);

/* SPEC O-2: how long one delivery attempt may take, and the retry policies of Omnitron calls and
 * of webhooks whose subscription has none (borrowed; NULL: the oms_retry defaults). */
int64_t oms_profile_delivery_timeout_ms(const struct oms_profile *p);
const json_t *oms_profile_omnitron_retry(const struct oms_profile *p);
const json_t *oms_profile_webhook_retry(const struct oms_profile *p);

/* SPEC P-2: the status planning creates packages in (a name; default "Waiting"), and the
 * transition slugs a lifecycle action takes ("out_of_stock", "cancel", "pack"...) as a borrowed
 * JSON array, NULL when the profile defines no such action. */
const char *oms_profile_plan_status(const struct oms_profile *p);
const json_t *oms_profile_lifecycle(const struct oms_profile *p, const char *action);

#endif
