/* alt_store: alt-oms's whole state in memory - locations, packages, the transition log and the
 * subscriptions - loaded from a fixture, shown as GET /_fixture/state shows it, and changed by
 * the transition engine (SPEC C-6..C-10, Q-2) and planning (P-2, Q-3). */
#ifndef ALT_STORE_H
#define ALT_STORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "alt_outbox.h"
#include "alt_profile.h"
#include "oms_error.h"

struct alt_item {
    int64_t id;
    int64_t order_item;
    char *sku;
    int64_t quantity;
    int64_t status;
};

struct alt_reservation {
    int64_t id;
    char *sku;
    int64_t quantity;
};

struct alt_discrepancy {
    int64_t id;
    int64_t item;
    char *kind;
    int64_t quantity;
};

struct alt_package {
    int64_t id;
    int64_t location;
    int64_t status;
    char *order_number;
    struct alt_item *items;
    size_t item_count;
    struct alt_reservation *reservations;
    size_t reservation_count;
    struct alt_discrepancy *discrepancies;
    size_t discrepancy_count;
};

struct alt_location {
    int64_t id;
    int64_t max_quota;
    int64_t quota;
    int drift;
    int select_by_quota; /* scenario_rules include SELECT_BY_QUOTA (SPEC Q-3) */
    size_t index;        /* position in the fixture, for error paths */
};

struct alt_log_entry {
    int64_t id;
    int64_t package;
    int64_t transition;
    char *slug;
    int64_t old_status;
    int64_t new_status;
    int64_t at_ms;
};

struct alt_subscription {
    int64_t id;
    char *event_type;
    char *target_url;
    json_t *headers;  /* object of strings, owned */
    char *secret_key; /* NULL: unsigned */
    int has_retry;
    struct alt_retry retry;
};

struct alt_store {
    struct alt_location *locations; /* sorted by id */
    size_t location_count;
    struct alt_package *packages; /* sorted by id */
    size_t package_count;
    size_t package_cap;
    struct alt_log_entry *log;
    size_t log_count;
    size_t log_cap;
    struct alt_subscription *subscriptions;
    size_t subscription_count;
    int64_t next_reservation_id;
    int64_t next_discrepancy_id;
};

/* What a fixture asks for besides the state itself. */
struct alt_fixture_extras {
    int has_omnitron_url;
    char *omnitron_url;
    int has_omnitron_token;
    char *omnitron_token;
    int virtual_clock;
};

/* Builds a store from a fixture (borrowed) under profile p (the profile after the fixture's
 * overrides). Returns 0, *out (free with alt_store_destroy) and extras (free with
 * alt_fixture_extras_cleanup), or OMS_E_INVAL with err naming the JSON path at fault; nothing is
 * returned then. */
int alt_store_load(const json_t *fixture, const struct alt_profile *p, struct alt_store **out,
                   struct alt_fixture_extras *extras, struct oms_err *err);
void alt_fixture_extras_cleanup(struct alt_fixture_extras *x);
/* An empty store. Never NULL. */
struct alt_store *alt_store_create(void);
/* Frees s. NULL allowed. */
void alt_store_destroy(struct alt_store *s);

/* The state as GET /_fixture/state shows it (new reference; outbox always empty). */
json_t *alt_store_json(const struct alt_store *s);

/* The package with that id, or NULL. Borrowed. */
struct alt_package *alt_store_package(struct alt_store *s, int64_t id);
/* The location with that id, or NULL. Borrowed. */
struct alt_location *alt_store_location(struct alt_store *s, int64_t id);

/* Where a transition's outbound calls go. */
struct alt_remote {
    const char *omnitron_url;   /* NULL: no Omnitron configured */
    const char *omnitron_token; /* NULL: no Authorization header */
    int sync;                   /* the request's flag, or the profile default (SPEC C-8) */
};

/* Moves pkg through t (its status must be a source of t): package and items, reservations and
 * discrepancies, quota, log, and the outbox rows, all at once (SPEC C-6..C-10, Q-2, O-1). */
void alt_store_apply(struct alt_store *s, const struct alt_profile *p, struct alt_package *pkg,
                     const struct alt_transition *t, const struct alt_remote *remote,
                     struct alt_outbox *ob);

/* Planning (SPEC P-2, Q-3): body is {"package": {...}}. Returns 201 with *answer, 409 (refused
 * under SELECT_BY_QUOTA) or 400 with *answer holding the error envelope. */
int alt_store_plan(struct alt_store *s, const struct alt_profile *p, const json_t *body,
                   json_t **answer);

/* {"error": {key: [message]}, "status_code": status} (new reference). */
json_t *alt_error_json(int status, const char *key, const char *message);

#endif
