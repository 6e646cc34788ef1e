/* alt_profile: the installation profile as alt-oms reads it (SPEC P-1): statuses, transitions,
 * quota counting set, Omnitron mapping, sync default, tokens, limits, delivery policies and
 * lifecycle. Written from the profile format alone, apart from common/oms_profile.c. */
#ifndef ALT_PROFILE_H
#define ALT_PROFILE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "oms_error.h"

enum alt_retry_choice {
    ALT_RETRY_FIXED,
    ALT_RETRY_LINEAR,
    ALT_RETRY_EXPONENTIAL,
    ALT_RETRY_RANDOM,
};

/* A retry countdown: attempts = 1 + max_retries; the delay before retry n (from 1) is
 * fixed c, linear c*n, exponential c*2^(n-1), random uniform in [0, c*2^(n-1)] seconds. */
struct alt_retry {
    enum alt_retry_choice choice;
    double countdown_s;
    int max_retries;
};

struct alt_status {
    char *name;
    char *key; /* the name in lower case, '_' for spaces: "out_of_stock" */
    int64_t value;
};

struct alt_transition {
    int64_t id;
    char *slug;
    int64_t *sources;
    size_t source_count;
    int64_t target;
    int64_t *delete_reservations_from;
    size_t delete_reservations_count;
    int64_t *delete_discrepancies_from;
    size_t delete_discrepancies_count;
    int sync_remote;  /* default 1 */
    char *event_type; /* NULL: no webhook event */
};

struct alt_remote_status {
    int64_t status;
    char *remote;
};

struct alt_profile {
    json_t *doc; /* the whole profile as GET /_fixture/profile shows it (owned) */
    struct alt_status *statuses;
    size_t status_count;
    struct alt_transition *transitions;
    size_t transition_count;
    int has_count_below;
    int64_t count_below;
    int64_t *count_also;
    size_t count_also_count;
    char *omnitron_method;
    char *omnitron_path;
    struct alt_remote_status *remote;
    size_t remote_count;
    int sync_default;
    char **tokens;
    size_t token_count;
    size_t max_body_bytes;
    char *signature_header;
    char *signature_prefix;
    int64_t timeout_ms;
    struct alt_retry omnitron_retry;
    struct alt_retry webhook_retry;
    int has_plan_status;
    int64_t plan_status;
};

/* Builds a profile from doc (borrowed; a copy is kept). path is the JSON path of doc in errors
 * ("$" for a file, "$.profile" for fixture overrides). Returns 0 and *out (free with
 * alt_profile_destroy), or OMS_E_INVAL with err naming the path of the offending value. */
int alt_profile_parse(const json_t *doc, const char *path, struct alt_profile **out,
                      struct oms_err *err);
/* Reads a profile file. Same contract; err names the file. */
int alt_profile_load_file(const char *file, struct alt_profile **out, struct oms_err *err);
/* Frees p. NULL allowed. */
void alt_profile_destroy(struct alt_profile *p);

/* Resolves a status given by number, numeric string, name (any case) or key. Returns 0 and
 * *value, or OMS_E_NOENT when ref names no status of the catalogue. */
int alt_profile_status(const struct alt_profile *p, const json_t *ref, int64_t *value);
/* 1 when a package in status counts toward its location's quota (SPEC ). */
int alt_profile_counts(const struct alt_profile *p, int64_t status);
/* The transition with that id or slug; NULL when none. Borrowed. */
const struct alt_transition *alt_profile_transition_id(const struct alt_profile *p, int64_t id);
const struct alt_transition *alt_profile_transition_slug(const struct alt_profile *p,
                                                         const char *slug);
/* 1 when status is in list[0..n). */
int alt_status_in(const int64_t *list, size_t n, int64_t status);
/* The Omnitron status mapped from status; NULL when unmapped. Borrowed. */
const char *alt_profile_remote(const struct alt_profile *p, int64_t status);
/* 1 when token is one of the profile's tokens. */
int alt_profile_token_ok(const struct alt_profile *p, const char *token);

/* Reads a retry countdown object at path. Returns 0 or OMS_E_INVAL with err. */
int alt_retry_parse(const json_t *v, const char *path, struct alt_retry *out, struct oms_err *err);
/* The policy as JSON (new reference). */
json_t *alt_retry_json(const struct alt_retry *r);
/* Attempts in all: 1 + max_retries. */
int alt_retry_attempts(const struct alt_retry *r);
/* Milliseconds to wait before retry n (n >= 1), capped at one day. rng is the state of the
 * caller's random generator (only the random policy draws from it). */
int64_t alt_retry_delay_ms(const struct alt_retry *r, int n, uint64_t *rng);

#endif
