/* store: the one module that knows SQL. OMS state in SQLite - locations, packages, items,
 * reservations, discrepancies, subscriptions, the transition log and the outbox - in memory or in
 * a file (WAL). One connection, serialised by the store lock (SPEC C-11: commands on a package
 * never interleave). Functions marked "locked" must be called between store_lock and store_unlock.
 */
#ifndef STORE_H
#define STORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "oms_error.h"

struct store;

/* Opens path (":memory:" or NULL for memory; a file is created and put in WAL mode) and creates
 * the schema. Returns 0 and *out, or a negative code with err naming the file and SQLite's reason.
 */
int store_open(const char *path, struct store **out, struct oms_err *err);
/* Closes; NULL allowed. */
void store_close(struct store *s);

/* The store lock (a mutex): every function marked "locked" runs between the two. */
void store_lock(struct store *s);
void store_unlock(struct store *s);
/* Transactions (locked). begin takes the write lock at once (BEGIN IMMEDIATE). */
int store_begin(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);
/* SQLite's last error message (locked; borrowed). */
const char *store_errmsg(struct store *s);

/* ---- domain rows ---- */

struct store_location {
    int64_t id;
    int64_t max_quota;
    int64_t quota;
    int quota_drift;          /* the fixture declared a drifted counter on purpose (SPEC Q-4) */
    char scenario_rules[256]; /* JSON array text, e.g. ["SELECT_BY_QUOTA"] (SPEC Q-3) */
};

struct store_package {
    int64_t id;
    int64_t location;
    int64_t status;
    char order_number[128];
};

struct store_item {
    int64_t id;
    int64_t order_item;
    char sku[128];
    int64_t quantity;
    int64_t status;
};

/* Locked. 0, OMS_E_NOENT, or OMS_E_DB. */
int store_location_get(struct store *s, int64_t id, struct store_location *out);
int store_package_get(struct store *s, int64_t id, struct store_package *out);
/* Locked. The items of a package, ordered by id, into a new array the caller frees. */
int store_items_list(struct store *s, int64_t package_id, struct store_item **items, size_t *n);

/* Locked, inside a transaction. */
int store_package_set_status(struct store *s, int64_t package_id, int64_t status);
int store_items_set_status(struct store *s, int64_t package_id, int64_t status);
int store_reservations_delete(struct store *s, int64_t package_id, int64_t *deleted);
int store_discrepancies_delete(struct store *s, int64_t package_id, int64_t *deleted);
/* Writes the location's quota counter as given: the rule that decides it (SPEC) is
 * oms_quota's. 0 or OMS_E_DB. */
int store_location_set_quota(struct store *s, int64_t location_id, int64_t quota);
/* Number of packages at the location whose status is in statuses[0..n). */
int store_location_count_packages(struct store *s, int64_t location_id, const int64_t *statuses,
                                  size_t n, int64_t *count);
int store_log_insert(struct store *s, int64_t package_id, int64_t transition_id, const char *slug,
                     int64_t old_status, int64_t new_status, int64_t at_ms, int64_t *log_id);

/* ---- fixture loading (locked, inside a transaction) ---- */

/* Deletes every row of every table (settings excepted). */
int store_reset(struct store *s);
int store_insert_location(struct store *s, const struct store_location *l);
int store_insert_package(struct store *s, const struct store_package *p);
int store_insert_item(struct store *s, int64_t package_id, const struct store_item *it);
/* id <= 0: the store assigns one. */
int store_insert_reservation(struct store *s, int64_t id, int64_t package_id, const char *sku,
                             int64_t quantity);
int store_insert_discrepancy(struct store *s, int64_t id, int64_t package_id, int64_t item_id,
                             const char *kind, int64_t quantity);
/* 1 when a row with this id exists in table "locations", "packages", "package_items",
 * "reservations" or "discrepancies"; 0 when not. */
int store_exists(struct store *s, const char *table, int64_t id);

/* ---- subscriptions (locked) ---- */

struct store_subscription {
    int64_t id;
    const char *event_type;
    const char *target_url;
    const char *additional_headers; /* JSON object text */
    const char *secret_key;         /* NULL: none */
    const char *retry_config;       /* JSON text or NULL */
};
/* Writes a subscription; *id (when not NULL) gets the id the store gave it. 0 or OMS_E_DB. */
int store_subscription_insert(struct store *s, const struct store_subscription *sub, int64_t *id);
/* OMS_E_NOENT when there is none. */
int store_subscription_delete(struct store *s, int64_t id);
/* All subscriptions (event_type NULL) or those of one event type, as a new JSON array of objects
 * with id, event_type, target_url, additional_headers (object), secret_key,
 * retry_countdown_config. The objects are shared with the store's cache: read them, never change
 * them. */
json_t *store_subscriptions(struct store *s, const char *event_type);
/* One subscription as above, or NULL. */
json_t *store_subscription_get(struct store *s, int64_t id);

/* ---- outbox (SPEC O-1) ---- */

struct store_outbox_row {
    int64_t id;
    char *kind; /* "omnitron" or "webhook" */
    char *method;
    char *url;
    char *headers; /* JSON object text */
    char *body;
    char *event_uuid; /* webhooks; NULL otherwise */
    int64_t subscription_id;
    int64_t transition_log_id;
    int64_t attempts;
    int64_t max_attempts;
    char *retry; /* JSON retry policy text or NULL */
    int64_t next_attempt_ms;
};
/* Locked, inside a transaction. Writes a pending row; id is filled in. */
int store_outbox_insert(struct store *s, struct store_outbox_row *row);
/* Locked. Pending rows due at now_ms (at most limit looked at), the earliest due first (then by
 * id), into a new array; free with store_outbox_rows_free. A row for which skip (optional) returns
 * 1 is passed over without being read. Returns 0, or OMS_E_DB with *rows NULL and *n 0. */
int store_outbox_due(struct store *s, int64_t now_ms, size_t limit,
                     int (*skip)(void *ctx, int64_t id), void *ctx, struct store_outbox_row **rows,
                     size_t *n);
void store_outbox_rows_free(struct store_outbox_row *rows, size_t n);
/* Frees the fields of one row read by store_outbox_due (not the row itself). */
void store_outbox_row_cleanup(struct store_outbox_row *row);
/* One delivery attempt and what it decided. */
struct store_attempt {
    int64_t at_ms;     /* when it started */
    long status;       /* HTTP status, 0 when nothing came back */
    const char *error; /* transport failure or "answered N"; NULL/"" when delivered */
    int64_t elapsed_ms;
    const char *state;   /* the row's new state: "pending", "delivered" or "dead" */
    int64_t next_ms;     /* with "pending": when to try again */
    int64_t retry_in_ms; /* with "pending": the policy's delay; -1 otherwise */
};
/* Locked. Records one attempt and the row's new state. A row deleted meanwhile (fixture reset) is
 * ignored. */
int store_outbox_record_attempt(struct store *s, int64_t id, const struct store_attempt *a);
/* Locked. Pending rows and the earliest next attempt among them (INT64_MAX when none); cheap
 * (the pending rows' index), for the delivery worker. */
int store_outbox_pending(struct store *s, int64_t *pending, int64_t *next_due_ms);
/* Locked. Pending rows never attempted yet (the delivery backlog commands may be held back on);
 * a count over the pending rows, for a load or a start, not for every command. */
int store_outbox_fresh(struct store *s, int64_t *fresh);
/* Locked. Rows in each state; earliest next attempt of pending rows (INT64_MAX when none). 0 or
 * OMS_E_DB. */
int store_outbox_counts(struct store *s, int64_t *pending, int64_t *delivered, int64_t *dead,
                        int64_t *next_due_ms);

/* ---- settings and export (locked) ---- */

/* *value is a new string or NULL when unset. Returns 0, or OMS_E_DB (*value NULL). */
int store_setting_get(struct store *s, const char *key, char **value);
int store_setting_set(struct store *s, const char *key, const char *value);

/* The whole state as JSON (new reference): locations (with available_quota), packages with items,
 * reservations and discrepancies, transition_log, subscriptions and outbox with attempts. */
json_t *store_export(struct store *s);
/* How many rows store_export would show: packages, items, reservations, discrepancies, transition
 * log, outbox rows and their attempts. Returns 0 or OMS_E_DB. */
int store_count_rows(struct store *s, int64_t *rows);

#endif
